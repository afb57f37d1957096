/** A duration as the config dialog shows ages (of a key, of a spool's oldest event): s, min, h or days. */
import type { Translate } from '../../shared/editor/i18n';

export function durationText(t: Translate, seconds: number): string {
  if (seconds < 120) return t('diaspora-config.age.seconds', { count: seconds });
  if (seconds < 7200) return t('diaspora-config.age.minutes', { count: Math.round(seconds / 60) });
  if (seconds < 172800) return t('diaspora-config.age.hours', { count: Math.round(seconds / 3600) });
  return t('diaspora-config.age.days', { count: Math.round(seconds / 86400) });
}

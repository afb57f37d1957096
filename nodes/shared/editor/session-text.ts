/** How the editor words a config node's session: its identity and the age of its key (the config dialog and the sidebar). */
import type { SessionStateView } from './admin-client';
import type { Translate } from './i18n';

/** `name (sub)`, the sub alone, or "nobody"; `t` translates diaspora-config's catalog. */
export function identityText(t: Translate, state: Pick<SessionStateView, 'sub' | 'username'>): string {
  if (!state.sub) return t('diaspora-config.identity.none');
  return state.username ? t('diaspora-config.identity.named', { username: state.username, sub: state.sub }) : t('diaspora-config.identity.sub', { sub: state.sub });
}

/** A duration as the dialogs show ages (of a key, of a spool's oldest event): s, min, h or days. */
export function durationText(t: Translate, seconds: number): string {
  if (seconds < 120) return t('diaspora-config.age.seconds', { count: seconds });
  if (seconds < 7200) return t('diaspora-config.age.minutes', { count: Math.round(seconds / 60) });
  if (seconds < 172800) return t('diaspora-config.age.hours', { count: Math.round(seconds / 3600) });
  return t('diaspora-config.age.days', { count: Math.round(seconds / 86400) });
}

/** How long ago the key was created (`42 s`, `3 min`, `5 h`, `12 days`); empty without a valid date. */
export function keyAge(t: Translate, iso: string | undefined, now = Date.now()): string {
  const created = iso ? Date.parse(iso) : NaN;
  if (isNaN(created)) return '';
  return durationText(t, Math.max(0, Math.round((now - created) / 1000)));
}

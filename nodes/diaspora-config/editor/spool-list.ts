/** The config dialog's list of the spools on disk of the diaspora-out nodes that use this configuration. */
import { formatBytes } from '../../../lib/format-bytes';
import type { SpoolSummary } from '../../shared/spool-summary';
import type { Translate } from '../../shared/editor/i18n';
import { durationText } from '../../shared/editor/session-text';

export function renderSpools(t: Translate, spools: SpoolSummary[] | null): void {
  const list = $('#diaspora-config-spools').empty();
  if (spools === null) return;
  if (spools.length === 0) {
    $('<div>').addClass('diaspora-config-spool-none').text(t('diaspora-config.spools.none')).appendTo(list);
    return;
  }
  for (const spool of spools) {
    const row = $('<div>').addClass('diaspora-config-spool').attr('data-node', spool.id).appendTo(list);
    $('<b>').text(spool.name || t('diaspora-config.spools.unnamed', { id: spool.id })).appendTo(row);
    const parts = [
      spool.events === 0 ? t('diaspora-config.spools.empty') : t('diaspora-config.spools.events', { count: spool.events }),
      t('diaspora-config.spools.size', { size: formatBytes(spool.bytes), limit: formatBytes(spool.limitBytes) }),
    ];
    if (spool.oldestAgeMs !== undefined) {
      const age = durationText(t, Math.round(spool.oldestAgeMs / 1000));
      parts.push(spool.oldestAgeAtLeast ? t('diaspora-config.spools.oldest-at-least', { age }) : t('diaspora-config.spools.oldest', { age }));
    }
    $('<span>').text(` ${parts.join(' · ')}`).appendTo(row);
  }
}

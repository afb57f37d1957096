/**
 * The spools of the running diaspora-out nodes, by the config node they use: what the config
 * node's editor dialog lists (GET /diaspora/:id/spools). Figures only, no paths and no payloads.
 */
import type { Spool } from '../../lib/spool/spool';
import type { SpoolSummary } from './spool-summary';

interface Listed {
  id: string;
  name: string;
  fabric: string;
  spool: Spool;
}

const listed = new Map<string, Listed>();

/** Lists a node's spool under its config node; returns the function that removes it. */
export function listSpool(entry: Listed): () => void {
  listed.set(entry.id, entry);
  return () => {
    if (listed.get(entry.id) === entry) listed.delete(entry.id);
  };
}

/** The spools of the nodes using config node `fabric`, by name then id. */
export function spoolsOf(fabric: string, now = Date.now()): SpoolSummary[] {
  return [...listed.values()]
    .filter((entry) => entry.fabric === fabric)
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
    .map(({ id, name, spool }) => {
      const oldest = spool.oldest;
      return {
        id,
        name,
        events: spool.depth + spool.appending,
        bytes: spool.bytes,
        limitBytes: spool.maxBytes,
        ...(oldest ? { oldestAgeMs: Math.max(0, now - oldest.writtenAt), ...(oldest.estimated ? { oldestAgeAtLeast: true } : {}) } : {}),
      };
    });
}

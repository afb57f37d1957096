/** GET /diaspora/:id/spools answers `{ spools: SpoolSummary[] }` (runtime: spool-registry.ts; editor: the config dialog). */

/** One diaspora-out's spool as the config dialog shows it. */
export interface SpoolSummary {
  id: string;
  name: string;
  /** Events in the spool, those still being written included. */
  events: number;
  bytes: number;
  limitBytes: number;
  /** Age of the oldest event in the spool; absent when it is empty. */
  oldestAgeMs?: number;
  /** The oldest event is from before the last restart: its age is at least oldestAgeMs. */
  oldestAgeAtLeast?: boolean;
}

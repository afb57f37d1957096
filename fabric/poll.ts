/** Bounded polling: the broker applies metadata (credentials, ACLs) and processes start asynchronously. */
import { setTimeout as sleep } from 'node:timers/promises';

export interface PollOptions {
  /** What is awaited, for the timeout message ("SCRAM credential of alice to take effect"). */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** Errors that end the wait at once instead of counting as "not yet" (e.g. the process died). */
  isFatal?: (err: unknown) => boolean;
}

/**
 * Calls `check` until it returns true or the timeout passes. A `check` that throws counts as "not
 * yet"; the last error is quoted in the timeout error so a real failure is not hidden.
 */
export async function pollUntil(check: () => Promise<boolean>, opts: PollOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 200;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
      lastError = undefined;
    } catch (err) {
      if (opts.isFatal?.(err)) throw err;
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`Timed out after ${opts.timeoutMs} ms waiting for ${opts.what}${reason}`);
    }
    await sleep(interval);
  }
}

/**
 * Makes every API route misbehave on demand (POST /_fabric/fail), for the hostile-input tests: a
 * proxy's HTML page instead of JSON, a bare 500, or an answer that takes a long time.
 */
import type { RequestHandler } from 'express';
import type { CancellableTimers } from './timers';

export const FAIL_MODES = ['none', 'html', '500', 'slow'] as const;
export type FailMode = (typeof FAIL_MODES)[number];

export interface FailSetting {
  mode: FailMode;
  /** How long "slow" holds each request before answering normally (default 10 s). */
  delayMs: number;
  /** HTTP status of the "html" page (default 200, the hardest case for a client). */
  status: number;
}

const HTML_PAGE =
  '<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>' +
  '<body><h1>Service Unavailable</h1><p>The Diaspora web service emulator was told to answer HTML.</p></body></html>\n';

export class FailSwitch {
  setting: FailSetting = { mode: 'none', delayMs: 10_000, status: 200 };

  middleware(timers: CancellableTimers): RequestHandler {
    return (_req, res, next) => {
      const { mode, delayMs, status } = this.setting;
      switch (mode) {
        case 'html':
          res.status(status).type('html').send(HTML_PAGE);
          return;
        case '500':
          res.status(500).type('text/plain').send('Internal Server Error');
          return;
        case 'slow':
          timers.sleep(delayMs).then(() => next(), next);
          return;
        default:
          next();
      }
    };
  }
}

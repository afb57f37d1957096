/**
 * Failure injection for the produce routes (POST /_fabric/produce-refusal): refuse produce requests
 * before anything is written, with 429 / 42901 (not admitted, Retry-After) or 503 / 50302 (cluster
 * unreachable), for a while or for a number of requests. These are the refusals the SDK retries.
 */
import { REST_ERRORS, RestError } from './rest-errors';

export interface ProduceRefusal {
  status: 429 | 503;
  /** Until when (epoch ms) requests are refused; undefined = no time limit. */
  until?: number;
  /** How many more requests are refused; undefined = no count limit. */
  remaining?: number;
  /** Retry-After seconds sent with the refusal (omitted when undefined). */
  retryAfterSeconds?: number;
}

export class ProduceAdmission {
  refusal: ProduceRefusal | undefined;
  refused = 0;

  /** Throws the refusal for this request while one is set. */
  admit(now = Date.now()): void {
    const refusal = this.refusal;
    if (!refusal) return;
    if ((refusal.until !== undefined && now >= refusal.until) || refusal.remaining === 0) {
      this.refusal = undefined;
      return;
    }
    if (refusal.remaining !== undefined) refusal.remaining -= 1;
    this.refused += 1;
    if (refusal.status === 429) {
      throw new RestError(429, REST_ERRORS.notAdmitted, 'Too many requests: the produce request was not admitted; retry later', refusal.retryAfterSeconds);
    }
    throw new RestError(503, REST_ERRORS.clusterUnreachable, 'The service cannot reach the Kafka cluster; retry later', refusal.retryAfterSeconds);
  }
}

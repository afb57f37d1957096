/** Counters the tests read through GET /_fabric/stats ("the service saw no second create_key"). */

export interface StatsSnapshot {
  /** v1 `create_key` and v3 `POST /key` calls per Subject header, counted before the token check. */
  createKeyCalls: Record<string, number>;
  /** Keys actually minted (v1 `create_key`, v3 `POST /key` answering fresh:true). */
  keyCreations: number;
  keyCreationsBySubject: Record<string, number>;
  /** API requests per route, e.g. "POST /api/v3/key". */
  requests: Record<string, number>;
  /** Requests refused by the token check. */
  authFailures: number;
}

function increment(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

export class ServiceStats {
  private data: StatsSnapshot = ServiceStats.empty();

  private static empty(): StatsSnapshot {
    return { createKeyCalls: {}, keyCreations: 0, keyCreationsBySubject: {}, requests: {}, authFailures: 0 };
  }

  countRequest(route: string): void {
    increment(this.data.requests, route);
  }

  countCreateKeyCall(subject: string): void {
    increment(this.data.createKeyCalls, subject);
  }

  countKeyCreation(subject: string): void {
    this.data.keyCreations += 1;
    increment(this.data.keyCreationsBySubject, subject);
  }

  countAuthFailure(): void {
    this.data.authFailures += 1;
  }

  snapshot(): StatsSnapshot {
    return structuredClone(this.data);
  }

  reset(): void {
    this.data = ServiceStats.empty();
  }
}

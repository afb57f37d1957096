/**
 * Commits the finished prefix of each partition's window, coalesced: a request goes out once
 * `everyEvents` events have finished since the last one, or `maxDelayMs` after the first of them,
 * whichever comes first; at most one request is in flight, and whatever advanced meanwhile goes
 * into the next one. So a crash redelivers at most about a window and a half per partition, while
 * a fast flow does not pay a broker round trip per event. `flush` (a stop) commits everything now.
 * A commit that fails is reported and retried with the next advance.
 */

export interface CommittedOffset {
  topic: string;
  partition: number;
  /** Kafka's committed offset: the next one to read. */
  offset: string;
}

/** One partition whose finished prefix is committed. */
export interface CommitSource {
  readonly topic: string;
  readonly partition: number;
  /** The offset of the last finished event of the prefix; undefined while there is none. */
  readonly finishedThrough: string | undefined;
}

export interface CommitPacing {
  /** Commit once this many events have finished since the last request... */
  everyEvents: number;
  /** ...or this long after the first of them finished. */
  maxDelayMs: number;
}

export class OffsetCommitter {
  private readonly dirty = new Set<CommitSource>();
  private readonly committed = new Map<CommitSource, string>();
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private finishedSince = 0;

  constructor(
    private readonly commit: (offsets: CommittedOffset[]) => Promise<void>,
    private readonly onError: (err: unknown) => void,
    private readonly pacing: CommitPacing,
  ) {}

  /** The source's prefix advanced by `events`: it is committed with a coming request. */
  advanced(source: CommitSource, events = 1): void {
    this.dirty.add(source);
    this.finishedSince += events;
    this.schedule();
  }

  /** Resolves once everything advanced so far is committed (or failed and was reported). */
  async flush(): Promise<void> {
    while (this.running || this.dirty.size > 0) {
      this.cancel();
      await (this.running ?? this.startRequest());
    }
  }

  /** Forgets the sources (a new group generation starts from what the broker has committed). */
  forget(): void {
    this.cancel();
    this.finishedSince = 0;
    this.dirty.clear();
    this.committed.clear();
  }

  /** Drops a pending timer (the consumer stopped without flushing). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.running || this.dirty.size === 0) return;
    if (this.finishedSince >= this.pacing.everyEvents) {
      this.cancel();
      this.startRequest();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (!this.running) this.startRequest();
      }, this.pacing.maxDelayMs);
      this.timer.unref();
    }
  }

  private startRequest(): Promise<void> {
    const running: Promise<void> = this.request().finally(() => {
      if (this.running !== running) return;
      this.running = undefined;
      // What finished while the request was out waits for its own threshold or delay.
      this.schedule();
    });
    this.running = running;
    return running;
  }

  /** One commit request with the current prefix of every source that advanced. */
  private async request(): Promise<void> {
    this.finishedSince = 0;
    const batch: { source: CommitSource; through: string }[] = [];
    for (const source of this.dirty) {
      const through = source.finishedThrough;
      if (through !== undefined && this.committed.get(source) !== through) batch.push({ source, through });
    }
    this.dirty.clear();
    if (batch.length === 0) return;
    try {
      await this.commit(
        batch.map(({ source, through }) => ({ topic: source.topic, partition: source.partition, offset: (BigInt(through) + 1n).toString() })),
      );
      for (const { source, through } of batch) this.committed.set(source, through);
    } catch (err) {
      this.onError(err);
    }
  }
}

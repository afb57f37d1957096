/**
 * Commits the finished prefix of each partition's window, coalesced: at most one commit request
 * is in flight, and whatever advanced meanwhile goes into the next one. A commit that fails is
 * reported and retried with the next advance (a rebalance or a restart commits again from there).
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

export class OffsetCommitter {
  private readonly dirty = new Set<CommitSource>();
  private readonly committed = new Map<CommitSource, string>();
  private running: Promise<void> | undefined;
  private scheduled = false;

  constructor(
    private readonly commit: (offsets: CommittedOffset[]) => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** The source's prefix advanced: it is committed with the next request. */
  advanced(source: CommitSource): void {
    this.dirty.add(source);
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    // Finishes that arrive in the same turn of the event loop share one request.
    setImmediate(() => {
      this.scheduled = false;
      if (!this.running) this.startDrain();
    });
  }

  /** Resolves once everything advanced so far is committed (or failed and was reported). */
  async flush(): Promise<void> {
    while (this.running || this.dirty.size > 0) await (this.running ?? this.startDrain());
  }

  /** Forgets the sources (a new group generation starts from what the broker has committed). */
  forget(): void {
    this.dirty.clear();
    this.committed.clear();
  }

  private startDrain(): Promise<void> {
    const running: Promise<void> = this.drain().finally(() => {
      if (this.running === running) this.running = undefined;
    });
    this.running = running;
    return running;
  }

  private async drain(): Promise<void> {
    while (this.dirty.size > 0) {
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
        return;
      }
    }
  }
}

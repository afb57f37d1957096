/**
 * The events of one partition that are in the flow at once: at most `capacity`, handed out in
 * offset order, finished in any order. The committable offset only ever advances to the end of
 * the contiguous prefix of finished events, so a stop commits nothing the flow has not finished.
 */

/** Events per partition in the flow at once when the node does not say (see docs/benchmarks.md). */
export const DEFAULT_WINDOW = 256;

/** A slot of the window: what `finish` needs to mark the event done. */
export type Ticket = number;

export class CommitWindow {
  /** Offsets (as Kafka gives them) and finished flags by ticket % capacity. */
  private readonly offsets: string[];
  private readonly done: boolean[];
  /** The oldest ticket not yet finished (every ticket below it is part of the finished prefix). */
  private head = 0;
  /** The next ticket to hand out. */
  private tail = 0;
  private lastFinished: string | undefined;
  private isClosed = false;
  private wakeUp: (() => void) | undefined;
  /**
   * A full window wakes its waiter once a quarter of it is free again, not at every finish: one
   * wait per quarter window instead of a timer and a promise per event.
   */
  private readonly resumeAt: number;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`window must be a whole number of at least 1, not ${capacity}`);
    this.resumeAt = capacity - Math.max(1, Math.floor(capacity / 4));
    this.offsets = new Array<string>(capacity);
    this.done = new Array<boolean>(capacity).fill(false);
  }

  /** Events handed out and not yet part of the finished prefix. */
  get inFlight(): number {
    return this.tail - this.head;
  }

  get full(): boolean {
    return this.tail - this.head >= this.capacity;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** The offset of the last event of the finished prefix; undefined while there is none. */
  get finishedThrough(): string | undefined {
    return this.lastFinished;
  }

  /** Takes a slot for the event at `offset`; the window must not be full. */
  admit(offset: string): Ticket {
    if (this.full) throw new Error('the window is full: wait for space() first');
    const ticket = this.tail++;
    this.offsets[ticket % this.capacity] = offset;
    return ticket;
  }

  /**
   * Marks an event finished; returns by how many events that advanced the finished prefix (0:
   * an earlier event is still unfinished). Ignored once the window is closed (a stop or
   * rebalance has decided what is committed).
   */
  finish(ticket: Ticket): number {
    if (this.isClosed || ticket < this.head || ticket >= this.tail) return 0;
    this.done[ticket % this.capacity] = true;
    if (ticket !== this.head) return 0;
    const from = this.head;
    while (this.head < this.tail && this.done[this.head % this.capacity]) {
      const slot = this.head % this.capacity;
      this.done[slot] = false;
      this.lastFinished = this.offsets[slot];
      this.head++;
    }
    if (this.tail - this.head <= this.resumeAt) this.wake();
    return this.head - from;
  }

  /**
   * Resolves true at once if there is room; when full, once a quarter of the window is free again.
   * False after `timeoutMs` or when closed.
   */
  space(timeoutMs: number): Promise<boolean> {
    if (this.isClosed) return Promise.resolve(false);
    if (!this.full) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve(false);
      }, timeoutMs);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve(!this.isClosed && !this.full);
      };
    });
  }

  /** Freezes the finished prefix: later finishes change nothing, a waiting `space` resolves false. */
  close(): void {
    this.isClosed = true;
    this.wake();
  }

  private wake(): void {
    const wakeUp = this.wakeUp;
    this.wakeUp = undefined;
    wakeUp?.();
  }
}

/** The session's waits: each a timer that the session's close cuts short, so none outlives it. */
export class Sleepers {
  private readonly pending = new Set<() => void>();

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.pending.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.pending.add(wake);
    });
  }

  wakeAll(): void {
    for (const wake of [...this.pending]) wake();
  }
}

/** A watch's pause between probes, which a connection's network failure cuts short (`wake`). */
export class Pause {
  private wakeCurrent: (() => void) | undefined;

  constructor(private readonly sleep: (ms: number) => Promise<void>) {}

  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let done = false;
      const wake = (): void => {
        if (done) return;
        done = true;
        if (this.wakeCurrent === wake) this.wakeCurrent = undefined;
        resolve();
      };
      this.wakeCurrent = wake;
      void this.sleep(ms).then(wake);
    });
  }

  wake(): void {
    this.wakeCurrent?.();
  }
}

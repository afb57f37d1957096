/** Sleeps that `close()` can cut short, so a slow or recreating request never keeps the process alive. */

export class ServiceClosedError extends Error {
  constructor() {
    super('The service emulator is closing');
  }
}

export class CancellableTimers {
  private readonly pending = new Map<NodeJS.Timeout, (err: Error) => void>();

  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(timer);
        resolve();
      }, ms);
      this.pending.set(timer, reject);
    });
  }

  cancelAll(): void {
    for (const [timer, reject] of this.pending) {
      clearTimeout(timer);
      reject(new ServiceClosedError());
    }
    this.pending.clear();
  }
}

/** Runs tasks one at a time: the real service serialises its user, key and topic changes with a lock. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/**
 * Waits for `promise` at most `ms`. Never leaves a timer behind, and swallows a late rejection of
 * `promise` so that giving up on it cannot cause an unhandled rejection.
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<{ done: true; value: T } | { done: false }> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<{ done: false }>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), Math.max(0, ms));
  });
  const settled = promise.then((value) => ({ done: true as const, value }));
  try {
    const outcome = await Promise.race([settled, expired]);
    if (!outcome.done) settled.catch(() => undefined);
    return outcome;
  } finally {
    clearTimeout(timer);
  }
}

/** A sleep that can be cut short, so stopping never waits for a backoff to run out. */
export function delay(ms: number): { promise: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  let finish: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => {
    finish = resolve;
    timer = setTimeout(resolve, ms);
  });
  return {
    promise,
    cancel() {
      clearTimeout(timer);
      finish();
    },
  };
}

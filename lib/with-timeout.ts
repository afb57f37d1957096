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


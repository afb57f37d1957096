/** What a Diaspora user can do on the broker with a key: log in, produce, consume. */
import assert from 'node:assert/strict';
import type { Kafka } from 'kafkajs';

/** The Kafka error type somewhere in a kafkajs error chain (`type`, `cause`, `originalError`). */
export function kafkaErrorType(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    const e = current as { type?: string; cause?: unknown; originalError?: unknown };
    if (e.type && e.type !== 'UNKNOWN') return e.type;
    current = e.cause ?? e.originalError;
  }
  return undefined;
}

/** True when SCRAM-SHA-512 login works; false on an authentication failure; throws otherwise. */
export async function canLogIn(kafka: Kafka): Promise<boolean> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    return true;
  } catch (err) {
    assert.equal((err as Error).name, 'KafkaJSSASLAuthenticationError', `unexpected login error: ${String(err)}`);
    return false;
  } finally {
    await admin.disconnect();
  }
}

/** Polls until login works; resolves to the time it took. */
export async function waitForLogin(kafka: () => Kafka, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await canLogIn(kafka())) return Date.now() - start;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`Login did not work within ${timeoutMs} ms`);
}

/** Produces one message; resolves to "ok" or the Kafka error type. */
export async function produce(kafka: Kafka, topic: string, value: string): Promise<string> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  try {
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'k', value }] });
    return 'ok';
  } catch (err) {
    return kafkaErrorType(err) ?? `unexpected: ${String(err)}`;
  } finally {
    await producer.disconnect();
  }
}

/**
 * Consumes from the earliest offset until a message with `value` arrives; resolves to "ok" or
 * the Kafka error type of the failure.
 */
export async function consume(kafka: Kafka, topic: string, value: string, groupId: string, timeoutMs = 30_000): Promise<string> {
  // A few retries ride out a transient coordinator hiccup; authorization errors are not retried.
  const consumer = kafka.consumer({ groupId, retry: { retries: 3, initialRetryTime: 200 } });
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    return await new Promise<string>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`No message "${value}" on ${topic} within ${timeoutMs} ms`)), timeoutMs);
      consumer.on(consumer.events.CRASH, (event) => resolve(kafkaErrorType(event.payload.error) ?? `crash: ${String(event.payload.error)}`));
      consumer
        .run({
          eachMessage: async ({ message }) => {
            if (message.value?.toString() === value) resolve('ok');
          },
        })
        .catch((err: unknown) => resolve(kafkaErrorType(err) ?? `unexpected: ${String(err)}`));
    });
  } catch (err) {
    return kafkaErrorType(err) ?? `unexpected: ${String(err)}`;
  } finally {
    if (timer) clearTimeout(timer);
    await consumer.disconnect();
  }
}

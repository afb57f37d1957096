/** Batching given to the Java producer: the same as diaspora-out's shared producer (lib/kafka/producer.ts defaults). */
export const PRODUCER_SETTINGS = { lingerMs: 0, batchBytes: 256 * 1024 };

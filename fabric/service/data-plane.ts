/**
 * The service's own Kafka clients for the REST data plane, logged in as the broker's super user
 * (the service enforces namespaces itself, as the real one does with its IAM role): a producer per
 * topic writing with acks=all, and one consumer per REST consumer instance.
 *
 * Per topic, because a kafkajs client refreshes the metadata of every topic it ever used at once,
 * and fails all of them with UNKNOWN_TOPIC_OR_PARTITION once one of them was deleted. For the same
 * reason each admin operation has an admin client of its own.
 */
import { Kafka, logLevel, type Admin, type Consumer, type ConsumerConfig, type Message, type Producer, type RecordMetadata } from 'kafkajs';
import { registerCompressionCodecs } from '../../lib/kafka/codecs';
import { REST_ERRORS, RestError } from './rest-errors';

export interface BrokerLogin {
  brokers: string[];
  username: string;
  password: string;
}

const unreachable = (detail: string): RestError =>
  new RestError(503, REST_ERRORS.clusterUnreachable, `The service cannot reach the Kafka cluster: ${detail}`);

export class DataPlane {
  private readonly kafka: Kafka | undefined;
  private readonly producers = new Map<string, Promise<Producer>>();
  private closed = false;

  constructor(login: BrokerLogin | undefined) {
    // Other producers (kcat, the nodes) may write snappy or lz4 batches.
    registerCompressionCodecs();
    this.kafka = login
      ? new Kafka({
          clientId: 'diaspora-service-emulator',
          brokers: login.brokers,
          sasl: { mechanism: 'scram-sha-512', username: login.username, password: login.password },
          logLevel: logLevel.NOTHING,
          retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1_000 },
        })
      : undefined;
  }

  private client(): Kafka {
    if (!this.kafka) throw unreachable('this emulator was started without broker credentials for its data plane');
    if (this.closed) throw unreachable('the service is closing');
    return this.kafka;
  }

  /** Connects once; a failed connect is 503 / 50302 and is tried again by the next request. */
  private connectOnce<T extends { connect(): Promise<void> }>(client: T, forget: () => void): Promise<T> {
    return client.connect().then(
      () => client,
      (err: unknown) => {
        forget();
        throw unreachable((err as Error).message);
      },
    );
  }

  /** Writes the messages to the topic's partition 0 in one request, answered once every in-sync replica has them. */
  async send(topic: string, messages: Message[]): Promise<RecordMetadata> {
    let pending = this.producers.get(topic);
    if (!pending) {
      pending = this.connectOnce(this.client().producer({ allowAutoTopicCreation: false }), () => this.producers.delete(topic));
      this.producers.set(topic, pending);
    }
    const producer = await pending;
    try {
      const [metadata] = await producer.send({ topic, messages: messages.map((m) => ({ ...m, partition: 0 })), acks: -1 });
      return metadata;
    } catch (err) {
      // A topic deleted and created again (recreate) is best met by a producer that never knew it.
      if (this.producers.get(topic) === pending) this.producers.delete(topic);
      await producer.disconnect().catch(() => undefined);
      throw err;
    }
  }

  /** Runs admin operations (offsets, commits, group deletion) on an admin client of their own. */
  async withAdmin<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = await this.connectOnce(this.client().admin(), () => undefined);
    try {
      return await work(admin);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  consumer(config: ConsumerConfig): Consumer {
    return this.client().consumer(config);
  }

  async close(): Promise<void> {
    this.closed = true;
    const clients = await Promise.allSettled([...this.producers.values()]);
    for (const result of clients) if (result.status === 'fulfilled' && result.value) await result.value.disconnect().catch(() => undefined);
  }
}

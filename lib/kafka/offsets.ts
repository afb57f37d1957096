/**
 * Reads a consumer group's committed offsets and the topics' high watermarks for the lag a
 * diaspora-in status shows, with one admin client of the connection manager (its settings, its
 * tracked sockets), connected on first use and rebuilt when the settings change (a new key).
 */
import type { Admin } from 'kafkajs';
import type { ConnectionSettings } from '../session/connection-types';
import type { PartitionOffsets } from './consumer-lag';
import { createKafkaClient, SocketRegistry, SocketTracker } from './client';
import { withTimeout } from '../with-timeout';

const READ_TIMEOUT_MS = 5_000;

export class OffsetReader {
  private admin: { client: Admin; tracker: SocketTracker; settings: ConnectionSettings; connected: Promise<void> } | undefined;

  constructor(
    private readonly settings: () => ConnectionSettings,
    private readonly registry: SocketRegistry,
  ) {}

  async read(groupId: string, topics: readonly string[]): Promise<PartitionOffsets[]> {
    const admin = this.current();
    const outcome = await withTimeout(
      (async () => {
        await admin.connected;
        const [ends, committed] = await Promise.all([
          Promise.all(topics.map(async (topic) => ({ topic, partitions: await admin.client.fetchTopicOffsets(topic) }))),
          admin.client.fetchOffsets({ groupId, topics: [...topics] }),
        ]);
        const commits = new Map(committed.flatMap((t) => t.partitions.map((p) => [`${t.topic}\u0000${p.partition}`, Number(p.offset)] as const)));
        return ends.flatMap(({ topic, partitions }) =>
          partitions.map((p) => ({ topic, partition: p.partition, high: Number(p.high), committed: commits.get(`${topic}\u0000${p.partition}`) ?? -1 })),
        );
      })(),
      READ_TIMEOUT_MS,
    );
    if (!outcome.done) {
      this.drop();
      throw new Error(`the offsets did not arrive within ${READ_TIMEOUT_MS} ms`);
    }
    return outcome.value;
  }

  close(): void {
    this.drop();
  }

  private current(): NonNullable<OffsetReader['admin']> {
    const settings = this.settings();
    if (this.admin && this.admin.settings !== settings) this.drop();
    if (!this.admin) {
      const tracker = new SocketTracker(this.registry);
      const client = createKafkaClient(settings, tracker, { retry: { retries: 0 } }).admin({ retry: { retries: 0 } });
      const connected = client.connect();
      connected.catch(() => {
        if (this.admin?.client === client) this.drop();
      });
      this.admin = { client, tracker, settings, connected };
    }
    return this.admin;
  }

  private drop(): void {
    const admin = this.admin;
    this.admin = undefined;
    if (!admin) return;
    void admin.client.disconnect().catch(() => undefined);
    admin.tracker.close();
  }
}

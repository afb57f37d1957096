/**
 * One REST consumer instance (Confluent REST Proxy v2 semantics) backed by one kafkajs consumer.
 * kafkajs pushes batches; the instance buffers them (pausing the partition when the buffer is
 * full) and hands them out on fetch, keeping its own positions (the record after the last one
 * fetched), which are what a commit without offsets commits.
 *
 * A subscribed instance joins the group `<namespace>.<group>` at its first fetch, as a REST Proxy
 * consumer joins on its first poll, so it has no partitions until then. kafkajs has no manual
 * assignment: an assigned instance fetches through a private group of its own, starts at the
 * real group's committed offsets and commits to the real group through the admin client.
 */
import * as crypto from 'node:crypto';
import type { Admin, Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { errorMessage } from './accounts';
import type { DataPlane } from './data-plane';
import { kafkaTopicName } from './names';
import { REST_ERRORS, RestError } from './rest-errors';
import { recordBytes, restRecordOf, type ConsumerFormat, type RestRecord } from './rest-records';

export type OffsetReset = 'earliest' | 'latest' | 'none';

export interface InstanceSettings {
  format: ConsumerFormat;
  offsetReset: OffsetReset;
  autoCommit: boolean;
  fetchMinBytes: number;
  requestTimeoutMs: number;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicOffset extends TopicPartition {
  offset: number;
}

/** Records buffered per instance before its partitions are paused. */
const BUFFER_RECORDS = 5_000;
const BUFFER_BYTES = 16 * 1024 * 1024;
const JOIN_TIMEOUT_MS = 15_000;

interface Buffered {
  kafkaTopic: string;
  partition: number;
  message: KafkaMessage;
}

const notAssigned = (tp: TopicPartition): RestError =>
  new RestError(409, REST_ERRORS.notAssigned, `Partition ${tp.topic}-${tp.partition} is not assigned to this consumer instance; a subscribed instance gets its partitions at its first fetch`);

const kafkaError = (err: unknown): RestError =>
  err instanceof RestError ? err : new RestError(500, REST_ERRORS.kafkaError, `Kafka error: ${errorMessage(err)}`);

const key = (kafkaTopic: string, partition: number): string => `${kafkaTopic}\u0000${partition}`;

export class ConsumerInstance {
  /** Topics of the subscription, named without the namespace. */
  topics: string[] = [];
  /** Partitions of a manual assignment. */
  partitions: TopicPartition[] = [];
  closed = false;

  private consumer: Consumer | undefined;
  private starting: Promise<void> | undefined;
  private privateGroup: string | undefined;
  /** Partitions the running consumer holds (kafka topic names). */
  private held = new Set<string>();
  private buffer: Buffered[] = [];
  private bufferedBytes = 0;
  private paused = false;
  /** Next offset to hand out per partition: the record after the last one fetched, or a seek target. */
  private positions = new Map<string, number>();
  /** Next offset expected from kafkajs per partition: the record after the last one buffered. */
  private cursors = new Map<string, number>();
  /** Partitions sought to an offset whose first batch from there has not come yet. */
  private seeking = new Map<string, number>();
  private wake: (() => void) | undefined;

  constructor(
    private readonly dataPlane: DataPlane,
    readonly subject: string,
    readonly namespace: string,
    readonly group: string,
    readonly name: string,
    readonly settings: InstanceSettings,
    private readonly log: (line: string) => void,
  ) {}

  get kafkaGroup(): string {
    return kafkaTopicName(this.namespace, this.group);
  }

  private kafkaTopic(topic: string): string {
    return kafkaTopicName(this.namespace, topic);
  }

  private restTopic(kafkaTopic: string): string {
    return kafkaTopic.slice(this.namespace.length + 1);
  }

  assignment(): TopicPartition[] {
    if (this.partitions.length > 0) return this.partitions.map((p) => ({ ...p }));
    return [...this.held].map((k) => {
      const [kafkaTopic, partition] = k.split('\u0000');
      return { topic: this.restTopic(kafkaTopic), partition: Number(partition) };
    });
  }

  async subscribe(topics: string[]): Promise<void> {
    await this.stop();
    this.topics = topics;
    this.partitions = [];
  }

  async assign(partitions: TopicPartition[]): Promise<void> {
    await this.stop();
    this.topics = [];
    this.partitions = partitions;
    if (partitions.length > 0) await this.start();
  }

  async unsubscribe(): Promise<void> {
    await this.stop();
    this.topics = [];
    this.partitions = [];
  }

  /** Fetches what is buffered, waiting up to timeoutMs for something; the first record is returned whatever its size. */
  async fetch(timeoutMs: number, maxBytes: number | undefined): Promise<RestRecord[]> {
    if (this.topics.length === 0 && this.partitions.length === 0) {
      throw new RestError(409, REST_ERRORS.notAssigned, 'The consumer instance is neither subscribed to topics nor assigned partitions');
    }
    if (this.settings.autoCommit) await this.commitPositions();
    const deadline = Date.now() + timeoutMs;
    let failure: unknown;
    const started = this.start().then(
      () => undefined,
      (err: unknown) => {
        failure = err;
      },
    );
    await Promise.race([started, this.sleep(timeoutMs)]);
    if (failure !== undefined && !this.closed) throw kafkaError(failure);
    await this.waitForRecords(deadline);
    if (this.closed) throw new RestError(404, REST_ERRORS.instanceNotFound, 'Consumer instance not found: it was closed while the fetch waited');
    return this.take(maxBytes);
  }

  private take(maxBytes: number | undefined): RestRecord[] {
    const out: RestRecord[] = [];
    let bytes = 0;
    while (this.buffer.length > 0) {
      const next = this.buffer[0];
      const size = recordBytes(next.message);
      if (out.length > 0 && maxBytes !== undefined && bytes + size > maxBytes) break;
      this.buffer.shift();
      this.bufferedBytes -= size;
      bytes += size;
      this.positions.set(key(next.kafkaTopic, next.partition), Number(next.message.offset) + 1);
      out.push(restRecordOf(this.restTopic(next.kafkaTopic), next.partition, next.message, this.settings.format));
    }
    this.resumeIfRoom();
    return out;
  }

  /** Waits until something is buffered (the broker already held the fetch for fetch.min.bytes), the deadline, or close. */
  private async waitForRecords(deadline: number): Promise<void> {
    while (!this.closed && this.buffer.length === 0 && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.wake = done;
      });
      this.wake = undefined;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
    });
  }

  /** Starts the Kafka consumer once; resolves when the group has given it its partitions. */
  private start(): Promise<void> {
    this.starting ??= this.run().catch(async (err: unknown) => {
      await this.stop();
      throw err;
    });
    return this.starting;
  }

  private async run(): Promise<void> {
    const assigned = this.partitions.length > 0;
    const kafkaTopics = assigned ? [...new Set(this.partitions.map((p) => this.kafkaTopic(p.topic)))] : this.topics.map((t) => this.kafkaTopic(t));
    const admin = await this.dataPlane.brokerAdmin();
    if (this.settings.offsetReset === 'none') await this.requireCommits(admin, kafkaTopics);
    this.privateGroup = assigned ? `${this.kafkaGroup}.rest-assigned-${crypto.randomUUID()}` : undefined;
    const consumer = this.dataPlane.consumer({
      groupId: this.privateGroup ?? this.kafkaGroup,
      minBytes: this.settings.fetchMinBytes,
      maxWaitTimeInMs: 500,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      allowAutoTopicCreation: false,
      retry: { retries: 5, initialRetryTime: 200 },
    });
    this.consumer = consumer;
    const joined = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the consumer did not join group ${this.kafkaGroup} within ${JOIN_TIMEOUT_MS} ms`)), JOIN_TIMEOUT_MS);
      timer.unref();
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        clearTimeout(timer);
        this.held = new Set(Object.entries(payload.memberAssignment).flatMap(([topic, parts]) => parts.map((p) => key(topic, p))));
        this.dropUnheld();
        resolve();
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        clearTimeout(timer);
        this.log(`consumer instance ${this.name} of group ${this.kafkaGroup}: Kafka consumer crashed (${payload.error.message}); restart: ${String(payload.restart)}`);
        reject(payload.error);
      });
    });
    // Awaited below; a connect or subscribe failure must not leave it rejecting unobserved.
    joined.catch(() => undefined);
    await consumer.connect();
    await consumer.subscribe({ topics: kafkaTopics, fromBeginning: this.settings.offsetReset === 'earliest' });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: true, eachBatch: (payload) => this.accept(payload) });
    await joined;
    if (assigned) {
      // Start where the real group committed, else where auto.offset.reset says.
      for (const tp of this.partitions) {
        const kafkaTopic = this.kafkaTopic(tp.topic);
        const committed = await this.committedOffset(admin, kafkaTopic, tp.partition);
        const offset = committed ?? (await this.edgeOffset(admin, kafkaTopic, tp.partition, this.settings.offsetReset === 'earliest' ? 'beginning' : 'end'));
        this.seekTo(kafkaTopic, tp.partition, offset);
      }
    }
  }

  private async requireCommits(admin: Admin, kafkaTopics: string[]): Promise<void> {
    for (const kafkaTopic of kafkaTopics) {
      if ((await this.committedOffset(admin, kafkaTopic, 0)) === undefined) {
        throw new RestError(500, REST_ERRORS.kafkaError, `Kafka error: no committed offset for ${this.restTopic(kafkaTopic)}-0 in group ${this.group} and auto.offset.reset is none`);
      }
    }
  }

  private async accept({ batch }: EachBatchPayload): Promise<void> {
    const k = key(batch.topic, batch.partition);
    if (!this.held.has(k) && this.partitions.length === 0) return;
    const target = this.seeking.get(k);
    if (target !== undefined) {
      // A batch fetched before the seek: the next one starts at the target.
      if (batch.messages.length === 0 || Number(batch.messages[0].offset) !== target) return;
      this.seeking.delete(k);
    }
    const cursor = this.cursors.get(k) ?? -1;
    const messages = batch.messages.filter((m) => Number(m.offset) >= cursor);
    for (const message of messages) {
      this.buffer.push({ kafkaTopic: batch.topic, partition: batch.partition, message });
      this.bufferedBytes += recordBytes(message);
    }
    if (messages.length > 0) this.cursors.set(k, Number(messages[messages.length - 1].offset) + 1);
    if (messages.length > 0) this.wake?.();
    if (!this.paused && (this.buffer.length >= BUFFER_RECORDS || this.bufferedBytes >= BUFFER_BYTES)) {
      this.paused = true;
      this.consumer?.pause(this.heldTopics());
    }
  }

  private heldTopics(): Array<{ topic: string }> {
    return [...new Set([...this.held].map((k) => k.split('\u0000')[0]))].map((topic) => ({ topic }));
  }

  private resumeIfRoom(): void {
    if (this.paused && this.buffer.length < BUFFER_RECORDS / 2 && this.bufferedBytes < BUFFER_BYTES / 2) {
      this.paused = false;
      this.consumer?.resume(this.heldTopics());
    }
  }

  private dropUnheld(): void {
    if (this.partitions.length > 0) return;
    this.buffer = this.buffer.filter((b) => this.held.has(key(b.kafkaTopic, b.partition)));
    this.bufferedBytes = this.buffer.reduce((sum, b) => sum + recordBytes(b.message), 0);
    for (const map of [this.positions, this.cursors, this.seeking]) for (const k of [...map.keys()]) if (!this.held.has(k)) map.delete(k);
  }

  /** Kafka topic name of an assigned partition, or 409 / 40903. */
  private assignedTopic(tp: TopicPartition): string {
    const kafkaTopic = this.kafkaTopic(tp.topic);
    const ok = this.partitions.length > 0
      ? this.partitions.some((p) => p.topic === tp.topic && p.partition === tp.partition)
      : this.held.has(key(kafkaTopic, tp.partition));
    if (!ok) throw notAssigned(tp);
    return kafkaTopic;
  }

  private seekTo(kafkaTopic: string, partition: number, offset: number): void {
    const k = key(kafkaTopic, partition);
    this.buffer = this.buffer.filter((b) => key(b.kafkaTopic, b.partition) !== k);
    this.bufferedBytes = this.buffer.reduce((sum, b) => sum + recordBytes(b.message), 0);
    this.positions.set(k, offset);
    this.cursors.set(k, offset);
    this.seeking.set(k, offset);
    this.consumer?.seek({ topic: kafkaTopic, partition, offset: String(offset) });
    this.resumeIfRoom();
  }

  async seek(offsets: TopicOffset[]): Promise<void> {
    const targets = offsets.map((o) => ({ kafkaTopic: this.assignedTopic(o), ...o }));
    for (const t of targets) this.seekTo(t.kafkaTopic, t.partition, t.offset);
  }

  async seekEdge(partitions: TopicPartition[], edge: 'beginning' | 'end'): Promise<void> {
    const list = partitions.length > 0 ? partitions : this.assignment();
    const targets = list.map((tp) => ({ kafkaTopic: this.assignedTopic(tp), partition: tp.partition }));
    const admin = await this.dataPlane.brokerAdmin();
    for (const t of targets) this.seekTo(t.kafkaTopic, t.partition, await this.edgeOffset(admin, t.kafkaTopic, t.partition, edge));
  }

  private async edgeOffset(admin: Admin, kafkaTopic: string, partition: number, edge: 'beginning' | 'end'): Promise<number> {
    try {
      const offsets = await admin.fetchTopicOffsets(kafkaTopic);
      const found = offsets.find((o) => o.partition === partition);
      if (!found) throw new Error(`${kafkaTopic} has no partition ${partition}`);
      return Number(edge === 'beginning' ? found.low : found.high);
    } catch (err) {
      throw kafkaError(err);
    }
  }

  private async committedOffset(admin: Admin, kafkaTopic: string, partition: number): Promise<number | undefined> {
    const [topic] = await admin.fetchOffsets({ groupId: this.kafkaGroup, topics: [kafkaTopic] });
    const found = topic?.partitions.find((p) => p.partition === partition);
    const offset = found ? Number(found.offset) : -1;
    return offset >= 0 ? offset : undefined;
  }

  /** The group's committed offsets (next record to read); partitions never committed are left out. */
  async committed(partitions: TopicPartition[]): Promise<TopicOffset[]> {
    const admin = await this.dataPlane.brokerAdmin();
    const out: TopicOffset[] = [];
    try {
      for (const tp of partitions) {
        const offset = await this.committedOffset(admin, this.kafkaTopic(tp.topic), tp.partition);
        if (offset !== undefined) out.push({ ...tp, offset });
      }
    } catch (err) {
      throw kafkaError(err);
    }
    return out;
  }

  /** Commits the positions of the partitions records were fetched from (or sought in). */
  async commitPositions(): Promise<void> {
    const offsets = [...this.positions.entries()].map(([k, offset]) => {
      const [kafkaTopic, partition] = k.split('\u0000');
      return { kafkaTopic, partition: Number(partition), offset };
    });
    await this.commitKafka(offsets);
  }

  /** Commits explicit offsets: each the last record processed, so the group commits the one after. */
  async commitOffsets(offsets: TopicOffset[]): Promise<void> {
    const targets = offsets.map((o) => ({ kafkaTopic: this.assignedTopic(o), partition: o.partition, offset: o.offset + 1 }));
    await this.commitKafka(targets);
  }

  private async commitKafka(offsets: Array<{ kafkaTopic: string; partition: number; offset: number }>): Promise<void> {
    if (offsets.length === 0) return;
    try {
      if (this.privateGroup) {
        const admin = await this.dataPlane.brokerAdmin();
        for (const o of offsets) {
          await admin.setOffsets({ groupId: this.kafkaGroup, topic: o.kafkaTopic, partitions: [{ partition: o.partition, offset: String(o.offset) }] });
        }
      } else if (this.consumer) {
        await this.consumer.commitOffsets(offsets.map((o) => ({ topic: o.kafkaTopic, partition: o.partition, offset: String(o.offset) })));
      }
    } catch (err) {
      throw kafkaError(err);
    }
  }

  /** Stops the Kafka consumer (leaving the group) and forgets what it buffered. */
  private async stop(): Promise<void> {
    const consumer = this.consumer;
    const privateGroup = this.privateGroup;
    this.consumer = undefined;
    this.starting = undefined;
    this.privateGroup = undefined;
    this.held = new Set();
    this.buffer = [];
    this.bufferedBytes = 0;
    this.paused = false;
    this.positions.clear();
    this.cursors.clear();
    this.seeking.clear();
    this.wake?.();
    if (consumer) await consumer.disconnect().catch(() => undefined);
    if (privateGroup) {
      const admin = await this.dataPlane.brokerAdmin().catch(() => undefined);
      await admin?.deleteGroups([privateGroup]).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stop();
  }
}

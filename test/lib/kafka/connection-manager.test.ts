import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as net from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import type { FabricKafkaAdmin, TopicGrant } from '../../../fabric/kafka-admin-api';
import { ConnectionManager } from '../../../lib/kafka/connection-manager';
import type { ConnectionStatus, ConsumedMessage, ConsumerHandle, ConsumerOptions, RecordMetadata } from '../../../lib/session/connection-types';
import type { KafkaClientError } from '../../../lib/kafka/errors';
import {
  adminSettings,
  consumeFromStart,
  fabricAdmin,
  kafkaTestEnv,
  MemoryLogger,
  removeAll,
  sleep,
  uniqueName,
  userSettings,
  waitFor,
} from '../kafka-test-env';

const env = kafkaTestEnv();

/** TCP connections this process has open to the first broker, as the kernel sees them (ss). */
function kernelConnections(): number {
  const [host, port] = env.brokers[0].split(':');
  const address = host === 'localhost' ? '127.0.0.1' : host;
  const out = execFileSync('ss', ['-tnpH', 'state', 'established', 'dst', `${address}:${port}`], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.includes(`pid=${process.pid},`)).length;
}

/** The test's own admin client keeps connections too: count relative to them. */
let adminConnections = 0;
function brokerConnections(): number {
  return kernelConnections() - adminConnections;
}

/** A consumer that records what it receives and what goes wrong. */
function recorder(
  manager: ConnectionManager,
  opts: Partial<ConsumerOptions> & { topics: string[] },
  onMessage?: (m: ConsumedMessage) => Promise<void>,
): { handle: ConsumerHandle; got: ConsumedMessage[]; errors: KafkaClientError[] } {
  const got: ConsumedMessage[] = [];
  const errors: KafkaClientError[] = [];
  const handle = manager.createConsumer(
    uniqueName('user'),
    { groupId: uniqueName('group'), fromBeginning: true, autoCommit: true, ...opts },
    async (m) => {
      got.push(m);
      await onMessage?.(m);
    },
    { onError: (e) => errors.push(e) },
  );
  return { handle, got, errors };
}

/** The group's committed offset (the next one to read) of partition 0, as the broker has it; '-1' = none. */
async function committedOffset(groupId: string, topic: string): Promise<string> {
  const admin = new Kafka({
    brokers: env.brokers,
    sasl: { mechanism: 'scram-sha-512', username: env.admin.username, password: env.admin.password },
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return entry.partitions.find((p) => p.partition === 0)?.offset ?? '-1';
  } finally {
    await admin.disconnect();
  }
}

const values = (got: ConsumedMessage[]): string[] => got.map((m) => m.value?.toString() ?? 'null');

describe('lib/connection-manager with the real broker', function () {
  this.timeout(90_000);
  let admin: FabricKafkaAdmin;
  const topics: string[] = [];
  const users: string[] = [];
  const managers: ConnectionManager[] = [];

  async function newTopic(label: string, partitions = 1): Promise<string> {
    const topic = uniqueName(label);
    await admin.createTopic(topic, partitions);
    topics.push(topic);
    adminConnections = kernelConnections();
    return topic;
  }

  function newManager(overrides: Parameters<typeof adminSettings>[1] = {}): ConnectionManager {
    const manager = new ConnectionManager(adminSettings(env, { clientId: 'h3b-cm', ...overrides }));
    managers.push(manager);
    return manager;
  }

  async function produce(manager: ConnectionManager, topic: string, texts: string[], extra: { key?: string; partition?: number } = {}): Promise<RecordMetadata[]> {
    const user = uniqueName('producer');
    const producer = manager.acquireProducer(user);
    try {
      return await Promise.all(
        texts.map((t) =>
          producer.send(
            { topic, value: Buffer.from(t), key: extra.key === undefined ? null : Buffer.from(extra.key), partition: extra.partition },
            { acks: -1, compression: 'none' },
          ),
        ),
      );
    } finally {
      await manager.releaseProducer(user);
    }
  }

  before(async () => {
    admin = await fabricAdmin(env);
    adminConnections = kernelConnections();
  });

  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.close(10_000)));
  });

  after(async () => {
    await removeAll(admin, topics, users);
  });

  describe('probe', () => {
    it('authenticates and reads metadata, leaving no connection open', async () => {
      const manager = newManager();
      await manager.probe(10_000);
      assert.equal(manager.stats().openConnections, 0);
      assert.equal(brokerConnections(), 0);
    });
  });

  describe('shared producer', () => {
    it('is ONE kafkajs producer for many users, with the connections the broker sees', async () => {
      const topic = await newTopic('shared', 3);
      const manager = newManager();
      const handles = Array.from({ length: 8 }, (_, i) => manager.acquireProducer(`node-${i}`));
      await Promise.all(handles.map((h, i) => h.send({ topic, value: Buffer.from(`from ${i}`) }, { acks: -1, compression: 'none' })));
      const stats = manager.stats();
      assert.equal(stats.producers, 1);
      assert.equal(stats.producerUsers, 8);
      // One broker: the bootstrap connection plus at most one per broker node.
      assert.ok(stats.openConnections >= 1 && stats.openConnections <= 2, `open connections: ${stats.openConnections}`);
      assert.equal(brokerConnections(), stats.openConnections);
    });

    it('connects on the first acquire and disconnects after the last release', async () => {
      const topic = await newTopic('refcount');
      const manager = newManager();
      const statuses: ConnectionStatus[] = [];
      manager.on('status', (s) => statuses.push(s));
      assert.equal(manager.stats().openConnections, 0);

      const a = manager.acquireProducer('a');
      await waitFor('the producer to connect on first acquire', () => manager.currentStatus.state === 'connected');
      assert.equal(manager.stats().producers, 1);
      assert.ok(manager.stats().openConnections > 0);
      const b = manager.acquireProducer('b');
      await b.send({ topic, value: Buffer.from('b') }, { acks: -1, compression: 'none' });

      await manager.releaseProducer('a');
      assert.equal(manager.stats().producers, 1, 'still connected while b uses it');
      await assert.rejects(a.send({ topic, value: Buffer.from('a') }, { acks: -1, compression: 'none' }), { kind: 'closed' });
      await b.send({ topic, value: Buffer.from('b2') }, { acks: -1, compression: 'none' });

      await manager.releaseProducer('b');
      assert.equal(manager.stats().producers, 0);
      assert.equal(manager.stats().openConnections, 0);
      assert.equal(brokerConnections(), 0);
      assert.deepEqual(statuses.map((s) => s.state), ['connecting', 'connected', 'disconnected']);

      // A later user connects again.
      const c = manager.acquireProducer('c');
      const meta = await c.send({ topic, value: Buffer.from('c') }, { acks: -1, compression: 'none' });
      assert.equal(meta.offset, '2');
    });

    it('sends what was queued before the last release', async () => {
      const topic = await newTopic('drain');
      const manager = newManager();
      const producer = manager.acquireProducer('only');
      const pending = Array.from({ length: 50 }, (_, i) => producer.send({ topic, value: Buffer.from(`q${i}`) }, { acks: -1, compression: 'none' }));
      await manager.releaseProducer('only');
      const results = await Promise.all(pending);
      assert.deepEqual(results.map((r) => r.offset), results.map((_, i) => String(i)));
    });
  });

  describe('batching', () => {
    it('1,000 concurrent sends go out in a few sendBatch calls, each promise with its own offset', async () => {
      const topic = await newTopic('batch', 3);
      const manager = newManager();
      const producer = manager.acquireProducer('burst');
      const texts = Array.from({ length: 1000 }, (_, i) => `event-${i}`);
      const before = manager.stats().sentBatches;
      const results = await Promise.all(
        texts.map((t, i) => producer.send({ topic, value: Buffer.from(t), key: Buffer.from(`k${i % 11}`) }, { acks: -1, compression: 'none' })),
      );
      const batches = manager.stats().sentBatches - before;
      assert.ok(batches <= 4, `1,000 sends took ${batches} sendBatch calls`);
      assert.equal(new Set(results.map((r) => r.partition)).size, 3, 'keys spread over the 3 partitions');

      // Read everything back: the (partition, offset) each promise got must hold exactly its event.
      const got = await consumeFromStart(manager, [topic], 1000);
      const at = new Map(got.map((m) => [`${m.partition}/${m.offset}`, m.value?.toString()]));
      results.forEach((r, i) => assert.equal(at.get(`${r.partition}/${r.offset}`), texts[i], `event ${i} at ${r.partition}/${r.offset}`));
      // Same key, same partition, offsets in send order.
      const k0 = results.filter((_, i) => i % 11 === 0);
      assert.equal(new Set(k0.map((r) => r.partition)).size, 1);
      assert.deepEqual(k0.map((r) => Number(r.offset)), [...k0.map((r) => Number(r.offset))].sort((x, y) => x - y));
      for (const r of results) assert.ok(Math.abs(r.timestamp - Date.now()) < 60_000);
    });

    it('groups by acks and compression, and isolates one topic’s failure from another’s', async () => {
      const a = await newTopic('lane-a');
      const b = await newTopic('lane-b');
      const manager = newManager({ retry: { retries: 1, initialRetryTime: 100 } });
      const producer = manager.acquireProducer('mix');
      const sends = [
        producer.send({ topic: a, value: Buffer.from('a-all') }, { acks: -1, compression: 'none' }),
        producer.send({ topic: a, value: Buffer.from('a-leader-gzip') }, { acks: 1, compression: 'gzip' }),
        producer.send({ topic: b, value: Buffer.from('b-all') }, { acks: -1, compression: 'none' }),
        producer.send({ topic: uniqueName('absent'), value: Buffer.from('lost') }, { acks: -1, compression: 'none' }),
        producer.send({ topic: b, value: Buffer.from('b-none') }, { acks: 0, compression: 'lz4' }),
      ];
      const settled = await Promise.allSettled(sends);
      assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      assert.equal(((settled[3] as PromiseRejectedResult).reason as KafkaClientError).kind, 'unknown-topic');
      assert.equal((settled[4] as PromiseFulfilledResult<RecordMetadata>).value.offset, '-1', 'acks 0: no offset');
      // acks 1 and 0 cannot use the idempotent producer: a second, plain one exists.
      assert.equal(manager.stats().producers, 2);
      const got = await consumeFromStart(manager, [a, b], 4);
      assert.deepEqual(values(got).sort(), ['a-all', 'a-leader-gzip', 'b-all', 'b-none']);
    });

    it('carries keys, headers, explicit partitions and timestamps', async () => {
      const topic = await newTopic('fields', 2);
      const manager = newManager();
      const producer = manager.acquireProducer('fields');
      const meta = await producer.send(
        { topic, value: Buffer.from('{"t":1}'), key: Buffer.from('sensor-7'), headers: { unit: 'C', raw: Buffer.from([1, 2]), multi: ['x', 'y'] }, partition: 1, timestamp: 1_700_000_000_000 },
        { acks: -1, compression: 'none' },
      );
      assert.deepEqual(meta, { topic, partition: 1, offset: '0', timestamp: 1_700_000_000_000 });
      const tomb = await producer.send({ topic, value: null, key: Buffer.from('sensor-7'), partition: 1 }, { acks: -1, compression: 'none' });
      const [m, t] = await consumeFromStart(manager, [topic], 2);
      assert.equal(m.key?.toString(), 'sensor-7');
      assert.equal(m.partition, 1);
      assert.equal(m.offset, '0');
      assert.equal(m.timestamp, 1_700_000_000_000);
      assert.equal(String(m.headers.unit), 'C');
      assert.deepEqual(m.headers.raw, Buffer.from([1, 2]));
      assert.deepEqual((m.headers.multi as Buffer[]).map(String), ['x', 'y']);
      assert.equal(t.value, null, 'tombstone');
      assert.equal(t.offset, tomb.offset);
    });
  });

  describe('consumer', () => {
    it('earliest gets what was there; latest only what comes after it connected', async () => {
      const topic = await newTopic('start');
      const manager = newManager();
      await produce(manager, topic, ['old-1', 'old-2', 'old-3']);
      const earliest = recorder(manager, { topics: [topic], fromBeginning: true });
      const latest = recorder(manager, { topics: [topic], fromBeginning: false });
      await waitFor('both consumers connected', () => earliest.handle.state === 'connected' && latest.handle.state === 'connected');
      await waitFor('earliest to read the old events', () => earliest.got.length === 3);
      await produce(manager, topic, ['new-1', 'new-2']);
      await waitFor('the new events', () => earliest.got.length === 5 && latest.got.length === 2);
      assert.deepEqual(values(earliest.got), ['old-1', 'old-2', 'old-3', 'new-1', 'new-2']);
      assert.deepEqual(values(latest.got), ['new-1', 'new-2']);
      assert.equal(manager.stats().consumers, 2);
    });

    it('pauses and resumes', async () => {
      const topic = await newTopic('pause');
      const manager = newManager();
      const c = recorder(manager, { topics: [topic] });
      await produce(manager, topic, ['before']);
      await waitFor('the first event', () => c.got.length === 1);
      c.handle.pause();
      assert.equal(c.handle.paused, true);
      await produce(manager, topic, ['during-1', 'during-2']);
      await sleep(2000);
      assert.deepEqual(values(c.got), ['before'], 'nothing delivered while paused');
      // A restart (here: a new subscription) keeps the consumer paused.
      const other = await newTopic('pause-other');
      await produce(manager, other, ['other-1']);
      await c.handle.subscribe(other);
      await waitFor('the restarted consumer', () => c.handle.state === 'connected');
      await sleep(1500);
      assert.deepEqual(values(c.got), ['before'], 'still nothing after the restart');
      c.handle.resume();
      await waitFor('the events held during the pause', () => c.got.length === 4);
      assert.deepEqual(values(c.got).sort(), ['before', 'during-1', 'during-2', 'other-1']);
    });

    it('subscribes and unsubscribes by restarting with the new topic set', async () => {
      const a = await newTopic('sub-a');
      const b = await newTopic('sub-b');
      const manager = newManager();
      const c = recorder(manager, { topics: [a] });
      await produce(manager, a, ['a1']);
      await waitFor('a1', () => c.got.length === 1);
      await c.handle.subscribe(b);
      assert.deepEqual(c.handle.topics(), [a, b]);
      await produce(manager, b, ['b1']);
      await waitFor('b1', () => values(c.got).includes('b1'));
      await c.handle.unsubscribe(a);
      assert.deepEqual(c.handle.topics(), [b]);
      await waitFor('the restarted consumer', () => c.handle.state === 'connected');
      await produce(manager, a, ['a2']);
      await produce(manager, b, ['b2']);
      await waitFor('b2', () => values(c.got).includes('b2'));
      await sleep(500);
      assert.ok(!values(c.got).includes('a2'), 'nothing from the unsubscribed topic');
      assert.equal(values(c.got).filter((v) => v === 'a1').length, 1, 'auto-committed events are not redelivered by the restart');
      await assert.rejects(c.handle.subscribe('bad topic'), { kind: 'invalid-topic' });
    });

    it('manual commit: a new consumer of the group resumes after the committed offset', async () => {
      const topic = await newTopic('manual');
      const groupId = uniqueName('manual-group');
      const manager = newManager();
      await produce(manager, topic, ['m0', 'm1', 'm2', 'm3', 'm4']);
      const first = recorder(manager, { topics: [topic], groupId, autoCommit: false });
      await waitFor('five events', () => first.got.length === 5);
      await first.handle.commit({ topic, partition: 0, offset: first.got[2].offset });
      await assert.rejects(first.handle.commit({ topic, partition: 0, offset: 'x' }), /commit needs the topic, partition and offset/);
      await first.handle.stop();
      assert.equal(manager.stats().consumers, 0);

      const second = recorder(manager, { topics: [topic], groupId, autoCommit: false });
      await waitFor('the events after the commit', () => second.got.length === 2);
      assert.deepEqual(values(second.got), ['m3', 'm4']);

      const auto = recorder(manager, { topics: [topic], groupId: uniqueName('auto'), autoCommit: true });
      await waitFor('auto consumer', () => auto.got.length === 5);
      await assert.rejects(auto.handle.commit({ topic, partition: 0, offset: '1' }), /commits automatically/);
    });

    for (const window of [1, 3]) {
      it(`applies back-pressure: with a window of ${window}, at most ${window} events are in onMessage at once`, async () => {
        const topic = await newTopic('pressure');
        const manager = newManager();
        let inFlight = 0;
        let most = 0;
        const c = recorder(manager, { topics: [topic], window }, async () => {
          inFlight += 1;
          most = Math.max(most, inFlight);
          await sleep(50);
          inFlight -= 1;
        });
        await produce(manager, topic, Array.from({ length: 20 }, (_, i) => `p${i}`));
        await waitFor('all events', () => c.got.length === 20);
        assert.equal(most, window);
        assert.deepEqual(values(c.got), Array.from({ length: 20 }, (_, i) => `p${i}`), 'delivered in offset order');
      });
    }

    it('commits only the finished prefix of the window; a stop redelivers only the unfinished events', async () => {
      const topic = await newTopic('window');
      const groupId = uniqueName('window-group');
      const manager = newManager();
      await produce(manager, topic, Array.from({ length: 10 }, (_, i) => `w${i}`));
      const finish = new Map<string, () => void>();
      const done = (offset: string): void => {
        const resolve = finish.get(offset);
        assert.ok(resolve, `offset ${offset} was delivered`);
        resolve();
      };
      const c = recorder(manager, { topics: [topic], groupId, window: 4 }, (m) => new Promise<void>((resolve) => finish.set(m.offset, resolve)));
      await waitFor('a full window', () => c.got.length === 4);
      await sleep(500);
      assert.deepEqual(values(c.got), ['w0', 'w1', 'w2', 'w3'], 'in offset order, no more than the window');

      done('2');
      done('3');
      await sleep(500);
      assert.equal(await committedOffset(groupId, topic), '-1', 'events finished ahead of an unfinished one do not move the commit');
      assert.equal(c.got.length, 4, 'the window stays full while its first event is unfinished');

      done('0');
      await waitFor('the commit after w0', async () => (await committedOffset(groupId, topic)) === '1');
      await waitFor('one more event', () => c.got.length === 5);
      done('1');
      await waitFor('the commit after w3', async () => (await committedOffset(groupId, topic)) === '4');
      await waitFor('the window refilled', () => c.got.length === 8);
      assert.deepEqual(values(c.got).slice(4), ['w4', 'w5', 'w6', 'w7']);

      done('5');
      await c.handle.stop();
      assert.equal(await committedOffset(groupId, topic), '4', 'the stop committed the finished prefix and nothing beyond');
      assert.deepEqual(c.errors, []);

      const again = recorder(manager, { topics: [topic], groupId, window: 4 });
      await waitFor('the redelivery', () => again.got.length === 6);
      await sleep(300);
      assert.deepEqual(values(again.got), ['w4', 'w5', 'w6', 'w7', 'w8', 'w9'], 'only what was not finished, w5 included (at least once)');
    });

    it('reports a failing onMessage and carries on', async () => {
      const topic = await newTopic('handler-error');
      const manager = newManager();
      const c = recorder(manager, { topics: [topic] }, async (m) => {
        if (m.value?.toString() === 'bad') throw new Error('flow failed');
      });
      await produce(manager, topic, ['good-1', 'bad', 'good-2']);
      await waitFor('all three', () => c.got.length === 3);
      assert.equal(c.errors.length, 1);
      assert.match(c.errors[0].message, new RegExp(`processing the event at ${topic} partition 0 offset 1 failed: flow failed`));
    });

    it('two consumers in one group split a 2-partition topic', async () => {
      const topic = await newTopic('split', 2);
      const groupId = uniqueName('split-group');
      const manager = newManager();
      const one = recorder(manager, { topics: [topic], groupId });
      await waitFor('the first member', () => one.handle.state === 'connected');
      const two = recorder(manager, { topics: [topic], groupId });
      await waitFor(
        'both members with one partition each',
        () => (one.handle.assignment()[topic]?.length ?? 0) === 1 && (two.handle.assignment()[topic]?.length ?? 0) === 1,
        40_000,
      );
      const p1 = one.handle.assignment()[topic][0];
      const p2 = two.handle.assignment()[topic][0];
      assert.deepEqual([p1, p2].sort(), [0, 1]);
      await produce(manager, topic, ['to-0'], { partition: 0 });
      await produce(manager, topic, ['to-1'], { partition: 1 });
      await waitFor('each member its partition’s event', () => one.got.length === 1 && two.got.length === 1);
      assert.equal(one.got[0].partition, p1);
      assert.equal(two.got[0].partition, p2);
    });

    it('restarts with backoff after a crash and reports it', async () => {
      const topic = await newTopic('crash');
      const user = { name: uniqueName('crashy'), password: uniqueName('pw') };
      await admin.upsertScramUser(user.name, user.password);
      users.push(user.name);
      const read: TopicGrant = { user: user.name, topic, prefixed: false, operations: ['READ', 'DESCRIBE'] };
      await admin.grant(read);
      await admin.allowGroups(user.name);
      const manager = new ConnectionManager(userSettings(env, user.name, user.password, { clientId: 'h3b-crash', retry: { retries: 1, initialRetryTime: 100 } }));
      managers.push(manager);
      const writer = newManager();
      const c = recorder(manager, { topics: [topic] });
      const handle = c.handle;
      await produce(writer, topic, ['before']);
      await waitFor('the first event', () => c.got.length === 1);
      // Taking the ACL away makes the running consumer's fetches fail: a real crash.
      await admin.revoke(read);
      await waitFor('the crash report', () => c.errors.some((e) => e.kind === 'topic-not-authorized'), 40_000);
      assert.equal(handle.state, 'error');
      assert.equal(manager.currentStatus.state, 'error');
      assert.equal(manager.currentStatus.kind, 'topic-not-authorized');
      await admin.grant(read);
      await produce(writer, topic, ['after']);
      await waitFor('the restarted consumer to read on', () => values(c.got).includes('after'), 60_000);
      assert.equal(handle.state, 'connected');
      assert.equal(manager.currentStatus.state, 'connected');
    });
  });

  describe('updateSettings', () => {
    it('rebuilds producer and consumers with a rotated key; handles keep working', async () => {
      const topic = await newTopic('rotate');
      const name = uniqueName('rotating');
      const oldPassword = `old-${uniqueName('pw')}`;
      const newPassword = `new-${uniqueName('pw')}`;
      await admin.upsertScramUser(name, oldPassword);
      users.push(name);
      await admin.grant({ user: name, topic, prefixed: false, operations: ['READ', 'WRITE', 'DESCRIBE'] });
      await admin.allowGroups(name);

      const logger = new MemoryLogger();
      const manager = new ConnectionManager(userSettings(env, name, oldPassword, { clientId: 'h3b-rotate', logger }));
      managers.push(manager);
      const producer = manager.acquireProducer('out');
      const c = recorder(manager, { topics: [topic] });
      await producer.send({ topic, value: Buffer.from('with-old-key') }, { acks: -1, compression: 'none' });
      await waitFor('the first event', () => c.got.length === 1);

      // Rotation (v1 create_key): the old secret stops working for new connections.
      await admin.upsertScramUser(name, newPassword);
      await assert.rejects(manager.probe(10_000), { kind: 'auth-failed' });

      await manager.updateSettings(userSettings(env, name, newPassword, { clientId: 'h3b-rotate', logger }));
      await manager.probe(10_000);
      const meta = await producer.send({ topic, value: Buffer.from('with-new-key') }, { acks: -1, compression: 'none' });
      assert.equal(meta.offset, '1');
      await waitFor('the resubscribed consumer', () => c.got.length === 2, 40_000);
      assert.deepEqual(values(c.got), ['with-old-key', 'with-new-key']);
      assert.equal(manager.stats().producers, 1);
      assert.equal(manager.stats().consumers, 1);
      assert.equal(c.handle.state, 'connected');
      assert.equal(brokerConnections(), manager.stats().openConnections);
      assert.ok(!logger.lines.some((l) => l.includes(oldPassword) || l.includes(newPassword)), 'no password in the logs');
    });

    it('moves to another identity: the old one can be deleted', async () => {
      const topic = await newTopic('identity');
      const first = { name: uniqueName('first'), password: uniqueName('pw') };
      const second = { name: uniqueName('second'), password: uniqueName('pw') };
      for (const u of [first, second]) {
        await admin.upsertScramUser(u.name, u.password);
        users.push(u.name);
        await admin.grant({ user: u.name, topic, prefixed: false, operations: ['READ', 'WRITE', 'DESCRIBE'] });
        await admin.allowGroups(u.name);
      }
      const manager = new ConnectionManager(userSettings(env, first.name, first.password, { clientId: 'h3b-identity' }));
      managers.push(manager);
      const producer = manager.acquireProducer('out');
      await producer.send({ topic, value: Buffer.from('1') }, { acks: -1, compression: 'none' });
      await manager.updateSettings(userSettings(env, second.name, second.password, { clientId: 'h3b-identity' }));
      await admin.revoke({ user: first.name, topic, prefixed: false, operations: ['READ', 'WRITE', 'DESCRIBE'] });
      await admin.deleteScramUser(first.name);
      const meta = await producer.send({ topic, value: Buffer.from('2') }, { acks: -1, compression: 'none' });
      assert.equal(meta.offset, '1', 'sent as the second identity');
    });

    it('does nothing when the settings did not change', async () => {
      const manager = newManager();
      const producer = manager.acquireProducer('same');
      await waitFor('connected', () => manager.currentStatus.state === 'connected');
      const before = manager.stats();
      await manager.updateSettings(adminSettings(env, { clientId: 'h3b-cm' }));
      assert.deepEqual(manager.stats(), before);
      assert.ok(producer);
    });

    it('rejects bad settings clearly', () => {
      assert.throws(() => new ConnectionManager(adminSettings(env, { brokers: [] })), /at least one broker/);
      assert.throws(() => new ConnectionManager(adminSettings(env, { brokers: ['nohostport'] })), /"nohostport" is not host:port/);
      assert.throws(
        () => new ConnectionManager(adminSettings(env, { credentials: { mechanism: 'scram-sha-512', username: 'u', password: '' } })),
        /SCRAM needs a username and a password/,
      );
    });
  });

  describe('close', () => {
    it('is bounded when the broker is unreachable, rejects what is pending and leaves nothing open', async () => {
      const port = await (async () => {
        const server = net.createServer();
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        const p = (server.address() as net.AddressInfo).port;
        await new Promise<void>((resolve) => server.close(() => resolve()));
        return p;
      })();
      const manager = new ConnectionManager(adminSettings(env, { brokers: [`127.0.0.1:${port}`], clientId: 'h3b-unreachable' }));
      const producer = manager.acquireProducer('out');
      const pending = producer.send({ topic: 'h3b-nowhere', value: Buffer.from('x') }, { acks: -1, compression: 'none' });
      const outcome = pending.then(
        () => undefined,
        (e: KafkaClientError) => e,
      );
      const c = recorder(manager, { topics: ['h3b-nowhere'] });
      await sleep(300);
      const started = Date.now();
      await manager.close(2000);
      const took = Date.now() - started;
      assert.ok(took <= 2100, `close took ${took} ms`);
      const rejection = await outcome;
      assert.equal(rejection?.kind, 'closed', 'the pending send is rejected by the close, not later');
      assert.deepEqual(manager.stats(), { producers: 0, consumers: 0, openConnections: 0, sentBatches: manager.stats().sentBatches, producerUsers: 0 });
      assert.equal(c.handle.state, 'disconnected');
      assert.equal(manager.currentStatus.state, 'disconnected');
    });

    it('is bounded when a flow never finishes an event', async () => {
      const topic = await newTopic('stuck');
      const manager = newManager();
      const c = recorder(manager, { topics: [topic] }, () => new Promise<void>(() => undefined));
      await produce(manager, topic, ['never done']);
      await waitFor('the event to be in the flow', () => c.got.length === 1);
      const started = Date.now();
      await manager.close(3000);
      const took = Date.now() - started;
      assert.ok(took <= 3100, `close took ${took} ms`);
      assert.equal(manager.stats().openConnections, 0);
      await waitFor('the kernel to drop the connections', () => brokerConnections() === 0, 5000);
    });

    it('leaks nothing over repeated redeploys', async () => {
      const topic = await newTopic('redeploy');
      for (let round = 0; round < 4; round += 1) {
        const manager = new ConnectionManager(adminSettings(env, { clientId: 'h3b-redeploy' }));
        const producer = manager.acquireProducer('out');
        const c = recorder(manager, { topics: [topic] });
        await producer.send({ topic, value: Buffer.from(`round ${round}`) }, { acks: -1, compression: 'gzip' });
        await waitFor(`round ${round} event`, () => c.got.length === round + 1);
        await manager.close(5000);
        assert.equal(manager.stats().openConnections, 0);
        await waitFor('no connection left', () => brokerConnections() === 0, 5000);
      }
    });
  });
});

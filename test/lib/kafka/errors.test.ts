/**
 * Every classification is checked on an error the real broker (or a real socket) produced on
 * demand; only kinds nothing real can produce here are built by hand, and say so.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import type { FabricKafkaAdmin } from '../../../fabric/kafka-admin-api';
import { ConnectionManager } from '../../../lib/kafka/connection-manager';
import type { ConnectionSettings } from '../../../lib/session/connection-types';
import { createKafkaClient, SocketRegistry, SocketTracker } from '../../../lib/kafka/client';
import { checkTopicName, classifyKafkaError, KafkaClientError, kafkaErrorType, type KafkaErrorKind } from '../../../lib/kafka/errors';
import { adminSettings, fabricAdmin, kafkaTestEnv, removeAll, uniqueName, userSettings } from '../kafka-test-env';

const env = kafkaTestEnv();
const quick = { retry: { retries: 1, initialRetryTime: 100 } };

/** Runs `fn`, which must fail, and returns what it threw. */
async function failure(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

function assertKind(err: unknown, kind: KafkaErrorKind, message: RegExp): KafkaClientError {
  assert.ok(err instanceof KafkaClientError, `expected a KafkaClientError, got ${String(err)}`);
  assert.equal(err.kind, kind, err.message);
  assert.match(err.message, message);
  return err;
}

/** A raw kafkajs client (built by lib/kafka-client, so this test does not import kafkajs). */
function rawClient(settings: ConnectionSettings): { kafka: ReturnType<typeof createKafkaClient>; close(): void } {
  const tracker = new SocketTracker(new SocketRegistry());
  return { kafka: createKafkaClient(settings, tracker, { retry: { retries: 0 } }), close: () => tracker.close() };
}

async function withManager<T>(settings: ConnectionSettings, use: (m: ConnectionManager) => Promise<T>): Promise<T> {
  const manager = new ConnectionManager(settings);
  try {
    return await use(manager);
  } finally {
    await manager.close(5000);
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('lib/kafka-errors', function () {
  this.timeout(60_000);
  let admin: FabricKafkaAdmin;
  const topics: string[] = [];
  const users: string[] = [];

  before(async () => {
    admin = await fabricAdmin(env);
  });

  after(async () => {
    await removeAll(admin, topics, users);
  });

  async function newTopic(label: string, partitions = 1): Promise<string> {
    const topic = uniqueName(label);
    await admin.createTopic(topic, partitions);
    topics.push(topic);
    return topic;
  }

  async function newUser(label: string): Promise<{ name: string; password: string }> {
    const user = { name: uniqueName(label), password: `pw-${uniqueName('secret')}` };
    await admin.upsertScramUser(user.name, user.password);
    users.push(user.name);
    return user;
  }

  describe('authentication', () => {
    it('auth-failed: a wrong password is a rejected key, and the password is never in the message', async () => {
      const settings = adminSettings(env, { credentials: { mechanism: 'scram-sha-512', username: env.admin.username, password: 'Wrong-Secret-123' } });
      const err = assertKind(await withManager(settings, (m) => failure(() => m.probe(10_000))), 'auth-failed', /key rejected \(revoked, rotated elsewhere, or not yet propagated\)/);
      assert.doesNotMatch(err.message, /Wrong-Secret-123/);
      // The same classification on the raw kafkajs error.
      const raw = rawClient(settings);
      try {
        const rawErr = await failure(() => raw.kafka.admin().connect());
        assert.equal((rawErr as Error).name, 'KafkaJSSASLAuthenticationError');
        assertKind(classifyKafkaError(rawErr), 'auth-failed', /SASL authentication failed/);
      } finally {
        raw.close();
      }
    });

    it('auth-failed: a user that does not exist (a key not propagated yet) is rejected the same way', async () => {
      const settings = userSettings(env, uniqueName('nobody'), 'whatever-password');
      assertKind(await withManager(settings, (m) => failure(() => m.probe(10_000))), 'auth-failed', /not yet propagated/);
    });

    it('auth-failed: a SASL mechanism the broker does not offer says so', async () => {
      const settings = adminSettings(env, { credentials: { mechanism: 'oauthbearer', token: async () => ({ value: 'not-a-token' }) } });
      const err = await withManager(settings, (m) => failure(() => m.probe(10_000)));
      assertKind(err, 'auth-failed', /does not accept this SASL mechanism/);
    });
  });

  describe('topics and groups', () => {
    it('topic-not-authorized: producing to a topic registered to someone else', async () => {
      const own = await newTopic('own');
      const foreign = await newTopic('foreign');
      const user = await newUser('writer');
      await admin.grant({ user: user.name, topic: own, prefixed: false, operations: ['WRITE', 'DESCRIBE'] });
      await withManager(userSettings(env, user.name, user.password, quick), async (m) => {
        const producer = m.acquireProducer('p');
        const ok = await producer.send({ topic: own, value: Buffer.from('mine') }, { acks: -1, compression: 'none' });
        assert.equal(ok.offset, '0');
        const err = await failure(() => producer.send({ topic: foreign, value: Buffer.from('theirs') }, { acks: -1, compression: 'none' }));
        const classified = assertKind(err, 'topic-not-authorized', new RegExp(`topic "${foreign}" is not registered to this identity: register it with a diaspora-topic node`));
        assert.equal(classified.topic, foreign);
        assert.equal(kafkaErrorType(classified.cause), 'TOPIC_AUTHORIZATION_FAILED');
      });
    });

    it('topic-not-authorized: an identity that may write nowhere still gets the per-topic message', async () => {
      const foreign = await newTopic('nowhere');
      const user = await newUser('empty');
      await withManager(userSettings(env, user.name, user.password, quick), async (m) => {
        const err = await failure(() => m.acquireProducer('p').send({ topic: foreign, value: Buffer.from('x') }, { acks: -1, compression: 'none' }));
        assertKind(err, 'topic-not-authorized', new RegExp(`topic "${foreign}" is not registered to this identity`));
      });
    });

    it('topic-not-authorized and group-not-authorized reach a consumer through onError', async () => {
      const readable = await newTopic('readable');
      const foreign = await newTopic('unreadable');
      const user = await newUser('reader');
      await admin.grant({ user: user.name, topic: readable, prefixed: false, operations: ['READ', 'DESCRIBE'] });
      await withManager(userSettings(env, user.name, user.password, quick), async (m) => {
        const seen = (topicsToRead: string[]): Promise<KafkaClientError> =>
          new Promise((resolve) => {
            const consumer = m.createConsumer(uniqueName('c'), { topics: topicsToRead, groupId: uniqueName('g'), fromBeginning: true, autoCommit: true }, async () => undefined, {
              onError: (e) => {
                void consumer.stop();
                resolve(e);
              },
            });
          });
        assertKind(await seen([foreign]), 'topic-not-authorized', new RegExp(`topic "${foreign}" is not registered to this identity`));
        // READ on the topic but no ACL on any group: the group is refused.
        assertKind(await seen([readable]), 'group-not-authorized', /may not use consumer group "h3b-g-/);
      });
    });

    it('unknown-topic: the topic does not exist', async () => {
      const missing = uniqueName('missing');
      await withManager(adminSettings(env, quick), async (m) => {
        const err = await failure(() => m.acquireProducer('p').send({ topic: missing, value: Buffer.from('x') }, { acks: -1, compression: 'none' }));
        assertKind(err, 'unknown-topic', new RegExp(`topic "${missing}" does not exist on the broker: register it with a diaspora-topic node`));
      });
    });

    it('invalid-topic: refused before sending, and the broker’s own refusal is classified the same', async () => {
      await withManager(adminSettings(env, quick), async (m) => {
        const err = await failure(() => m.acquireProducer('p').send({ topic: 'no spaces!', value: Buffer.from('x') }, { acks: -1, compression: 'none' }));
        assertKind(err, 'invalid-topic', /"no spaces!" is not a valid Kafka topic name: use 1 to 249 letters, digits, '\.', '_' or '-'/);
      });
      const raw = rawClient(adminSettings(env));
      try {
        const kafkaAdmin = raw.kafka.admin();
        await kafkaAdmin.connect();
        const brokerErr = await failure(() => kafkaAdmin.fetchTopicMetadata({ topics: ['no spaces!'] }));
        await kafkaAdmin.disconnect();
        assert.equal(kafkaErrorType(brokerErr), 'INVALID_TOPIC_EXCEPTION');
        assertKind(classifyKafkaError(brokerErr, { topic: 'no spaces!' }), 'invalid-topic', /"no spaces!" is not a valid Kafka topic name/);
      } finally {
        raw.close();
      }
      assert.throws(() => checkTopicName('a'.repeat(250)), /not a valid Kafka topic name/);
      assert.throws(() => checkTopicName('..'), /not a valid Kafka topic name/);
      assert.throws(() => checkTopicName(''), /not a valid Kafka topic name/);
      assert.equal(checkTopicName('ns-ab12747bee03.topic_1-x'), 'ns-ab12747bee03.topic_1-x');
    });

    it('too-large: an event larger than the topic accepts', async () => {
      const topic = uniqueName('small');
      const raw = rawClient(adminSettings(env));
      try {
        const kafkaAdmin = raw.kafka.admin();
        await kafkaAdmin.connect();
        await kafkaAdmin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '2000' }] }], waitForLeaders: true });
        await kafkaAdmin.disconnect();
        topics.push(topic);
      } finally {
        raw.close();
      }
      await withManager(adminSettings(env, quick), async (m) => {
        const producer = m.acquireProducer('p');
        const err = await failure(() => producer.send({ topic, value: Buffer.alloc(5000, 'x') }, { acks: -1, compression: 'none' }));
        assertKind(err, 'too-large', new RegExp(`larger than the broker accepts for topic "${topic}" \\(max.message.bytes\\)`));
        // The producer stays usable for events that fit.
        const ok = await producer.send({ topic, value: Buffer.from('fits') }, { acks: -1, compression: 'none' });
        assert.equal(ok.topic, topic);
      });
    });

    it('invalid-partition: a partition the topic does not have (kafkajs would drop it silently)', async () => {
      const topic = await newTopic('one-partition');
      await withManager(adminSettings(env, quick), async (m) => {
        const producer = m.acquireProducer('p');
        const [bad, good] = await Promise.allSettled([
          producer.send({ topic, value: Buffer.from('x'), partition: 5 }, { acks: -1, compression: 'none' }),
          producer.send({ topic, value: Buffer.from('y'), partition: 0 }, { acks: -1, compression: 'none' }),
        ]);
        assert.equal(bad.status, 'rejected');
        assertKind((bad as PromiseRejectedResult).reason, 'invalid-partition', new RegExp(`partition 5 does not exist in topic "${topic}" \\(it has 1: 0 to 0\\)`));
        assert.equal(good.status, 'fulfilled');
        const err = await failure(() => producer.send({ topic, value: Buffer.from('x'), partition: -1 }, { acks: -1, compression: 'none' }));
        assertKind(err, 'invalid-partition', /whole number from 0/);
      });
    });
  });

  describe('network', () => {
    it('unreachable: nothing listens on the port', async () => {
      const port = await freePort();
      const settings = adminSettings(env, { brokers: [`127.0.0.1:${port}`], ...quick });
      assertKind(await withManager(settings, (m) => failure(() => m.probe(10_000))), 'unreachable', new RegExp(`cannot reach 127\\.0\\.0\\.1:${port} .*ECONNREFUSED.*check the brokers setting`));
    });

    it('unreachable: the host name does not resolve', async () => {
      const settings = adminSettings(env, { brokers: ['broker.invalid:9092'] });
      assertKind(await withManager(settings, (m) => failure(() => m.probe(10_000))), 'unreachable', /cannot reach broker\.invalid:9092/);
    });

    it('timeout: the broker accepts the connection but never answers', async () => {
      const sockets = new Set<net.Socket>();
      const silent = net.createServer((s) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const { port } = silent.address() as net.AddressInfo;
      try {
        const settings = adminSettings(env, { brokers: [`127.0.0.1:${port}`], requestTimeout: 1000 });
        // kafkajs's own request timeout
        const err = await withManager(settings, (m) => failure(() => m.probe(10_000)));
        assertKind(err, 'timeout', new RegExp(`127\\.0\\.0\\.1:${port} did not answer in time`));
        // the probe's own bound, shorter than kafkajs's timeouts
        const bounded = await withManager(adminSettings(env, { brokers: [`127.0.0.1:${port}`] }), (m) => failure(() => m.probe(700)));
        assertKind(bounded, 'timeout', /did not answer within 700 ms/);
      } finally {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      }
    });

    it('unreachable: a TLS broker whose certificate is not trusted says to set the CA', async function () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h3b-tls-'));
      const sockets = new Set<tls.TLSSocket>();
      let server: tls.Server | undefined;
      try {
        execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
        server = tls.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) }, (s) => {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
        });
        server.on('tlsClientError', () => undefined);
        await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
        const { port } = server.address() as net.AddressInfo;
        const settings = adminSettings(env, { brokers: [`localhost:${port}`], tls: {} });
        const err = await withManager(settings, (m) => failure(() => m.probe(10_000)));
        assertKind(err, 'unreachable', /TLS certificate of localhost:\d+ is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\): set the fabric's CA certificate/);
      } finally {
        for (const s of sockets) s.destroy();
        if (server) await new Promise<void>((resolve) => server?.close(() => resolve()));
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('library states', () => {
    it('closed: sending through a closed manager', async () => {
      const manager = new ConnectionManager(adminSettings(env));
      const producer = manager.acquireProducer('p');
      await manager.close(5000);
      assertKind(await failure(() => producer.send({ topic: 'h3b-any', value: null }, { acks: -1, compression: 'none' })), 'closed', /connection is closed/);
      assert.throws(() => manager.acquireProducer('q'), (e: unknown) => e instanceof KafkaClientError && e.kind === 'closed');
    });

    it('other: anything unrecognised keeps its message; a KafkaClientError passes through unchanged', () => {
      // Built by hand: these are not Kafka conditions a broker could produce.
      assertKind(classifyKafkaError(new Error('something odd')), 'other', /^Kafka error: something odd$/);
      const known = new KafkaClientError('too-large', 'x');
      assert.equal(classifyKafkaError(known), known);
    });
  });
});

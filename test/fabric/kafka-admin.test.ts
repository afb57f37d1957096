import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { createFabricKafkaAdmin } from '../../fabric/kafka-admin';
import type { FabricKafkaAdmin, TopicGrant } from '../../fabric/kafka-admin-api';
import type { FabricDescription } from '../../fabric/contract';
import { loadFabric } from '../fixtures/fabric';

/** The Kafka error type somewhere in a kafkajs error chain (`type`, `cause`, `originalError`). */
function kafkaErrorType(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    const e = current as { type?: string; cause?: unknown; originalError?: unknown };
    if (e.type && e.type !== 'UNKNOWN') return e.type;
    current = e.cause ?? e.originalError;
  }
  return undefined;
}

function userKafka(fabric: FabricDescription, username: string, password: string): Kafka {
  return new Kafka({
    clientId: 'kafka-admin-test',
    brokers: fabric.brokers,
    sasl: { mechanism: 'scram-sha-512', username, password },
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 3000,
  });
}

async function canLogIn(fabric: FabricDescription, username: string, password: string): Promise<boolean> {
  const admin = userKafka(fabric, username, password).admin();
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

/** Produces one message as the user; resolves to "ok" or the Kafka error type. */
async function produceAs(fabric: FabricDescription, username: string, password: string, topic: string): Promise<string> {
  const producer = userKafka(fabric, username, password).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic, messages: [{ value: 'hello' }] });
    return 'ok';
  } catch (err) {
    return kafkaErrorType(err) ?? `unexpected: ${String(err)}`;
  } finally {
    await producer.disconnect();
  }
}

describe('fabric/kafka-admin against the real broker', function () {
  const tag = `h1t-${crypto.randomBytes(4).toString('hex')}`;
  const user = `${tag}-user`;
  const password = crypto.randomBytes(16).toString('hex');
  const literalTopic = `${tag}-literal`;
  const inPrefix = `${tag}-ns-abc.topic`;
  const outsidePrefix = `${tag}-ns-abd.topic`;
  const literalGrant: TopicGrant = { user, topic: literalTopic, prefixed: false, operations: ['WRITE', 'DESCRIBE'] };
  const prefixGrant: TopicGrant = { user, topic: `${tag}-ns-abc.`, prefixed: true, operations: ['WRITE', 'DESCRIBE'] };
  let fabric: FabricDescription;
  let admin: FabricKafkaAdmin;

  before(async function () {
    fabric = loadFabric();
    admin = await createFabricKafkaAdmin({ brokers: fabric.brokers, ...fabric.admin });
    for (const topic of [literalTopic, inPrefix, outsidePrefix]) await admin.createTopic(topic);
  });

  after(async function () {
    if (!admin) return;
    await admin.revoke(literalGrant).catch(() => undefined);
    await admin.revoke(prefixGrant).catch(() => undefined);
    for (const topic of [literalTopic, inPrefix, outsidePrefix]) await admin.deleteTopic(topic).catch(() => undefined);
    await admin.deleteScramUser(user).catch(() => undefined);
    await admin.close();
  });

  it('creates, reports and deletes topics idempotently', async function () {
    const topic = `${tag}-scratch`;
    assert.equal(await admin.topicExists(topic), false);
    await admin.createTopic(topic, 2);
    await admin.createTopic(topic, 2);
    assert.equal(await admin.topicExists(topic), true);
    await admin.deleteTopic(topic);
    assert.equal(await admin.topicExists(topic), false);
    await admin.deleteTopic(topic);
  });

  it('a SCRAM user authenticates after upsert, with the new password after rotation, and not after delete', async function () {
    assert.equal(await canLogIn(fabric, user, password), false);
    await admin.upsertScramUser(user, password);
    assert.equal(await canLogIn(fabric, user, password), true);

    const rotated = `${password}-rotated`;
    await admin.upsertScramUser(user, rotated);
    assert.equal(await canLogIn(fabric, user, password), false, 'old password still accepted after rotation');
    assert.equal(await canLogIn(fabric, user, rotated), true);

    await admin.deleteScramUser(user);
    assert.equal(await canLogIn(fabric, user, rotated), false);
    await admin.deleteScramUser(user);
  });

  it('refuses a produce without an ACL and accepts it after a literal grant, until revoked', async function () {
    await admin.upsertScramUser(user, password);
    assert.equal(await produceAs(fabric, user, password, literalTopic), 'TOPIC_AUTHORIZATION_FAILED');
    await admin.grant(literalGrant);
    assert.equal(await produceAs(fabric, user, password, literalTopic), 'ok');
    await admin.revoke(literalGrant);
    assert.equal(await produceAs(fabric, user, password, literalTopic), 'TOPIC_AUTHORIZATION_FAILED');
  });

  it('a prefixed grant covers topics under the prefix only', async function () {
    await admin.upsertScramUser(user, password);
    await admin.grant(prefixGrant);
    assert.equal(await produceAs(fabric, user, password, inPrefix), 'ok');
    assert.equal(await produceAs(fabric, user, password, outsidePrefix), 'TOPIC_AUTHORIZATION_FAILED');
  });

  it('rejects bad input with a clear error that does not echo the password', async function () {
    await assert.rejects(admin.upsertScramUser('', 'x'), /SCRAM username must be a non-empty string/);
    await assert.rejects(admin.grant({ user, topic: literalTopic, prefixed: false, operations: [] }), /lists no operations/);
    await assert.rejects(
      createFabricKafkaAdmin({ brokers: fabric.brokers, username: fabric.admin.username, password: 'not-the-password' }),
      (err: Error) => /Cannot connect to the Kafka broker/.test(err.message) && !err.message.includes('not-the-password'),
    );
  });
});

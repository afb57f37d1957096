/** Publisher with a fake session view and a fake producer: send, queue, fail, resend and close, without Kafka or Node-RED. */
import assert from 'node:assert/strict';
import * as sinon from 'sinon';
import type { Connections, OutRecord, ProducerHandle, RecordMetadata, SendCallback, SendOptions } from '../../../../lib/session/connection-types';
import { KafkaClientError } from '../../../../lib/kafka/errors';
import { NotReadyError, Publisher, type PublisherDeps } from '../../../../nodes/diaspora-out/publisher';
import type { OutgoingEvent } from '../../../../nodes/diaspora-out/record';
import { errorState, FakeSessionView, keyText } from '../fake-session-view';

/** The broker: each send waits for `answer` (by default it acknowledges at once). */
class FakeProducer implements ProducerHandle {
  readonly userId = 'out-1';
  readonly sent: OutRecord[] = [];
  answer: (record: OutRecord) => Promise<RecordMetadata> = (record) => Promise.resolve({ topic: record.topic, partition: 0, offset: String(this.sent.length - 1) } as RecordMetadata);
  send(record: OutRecord): Promise<RecordMetadata> {
    this.sent.push(record);
    return this.answer(record);
  }
  post(record: OutRecord, _opts: SendOptions, callback: SendCallback): void {
    this.send(record).then(
      (meta) => callback(null, meta),
      (err: unknown) => callback(err as Error),
    );
  }
}

function connectionsWith(producer: FakeProducer): Connections & { acquired: number; released: number } {
  const c = {
    acquired: 0,
    released: 0,
    currentStatus: { state: 'connected' as const },
    acquireProducer: () => {
      c.acquired += 1;
      return producer;
    },
    releaseProducer: () => {
      c.released += 1;
      return Promise.resolve();
    },
    createConsumer: () => {
      throw new Error('not used');
    },
    close: () => Promise.resolve(),
    stats: () => ({ producers: 1, consumers: 0, openConnections: 1, sentBatches: 0, producerUsers: c.acquired - c.released }),
  };
  return c;
}

const event = (n: number): OutgoingEvent => ({ topic: 'readings', key: null, value: Buffer.from(`event ${n}`) });

interface Outcome {
  err: Error | null;
  meta?: RecordMetadata;
}

function setUp(settings: Partial<PublisherDeps['settings']> = {}, state = new FakeSessionView()) {
  const producer = new FakeProducer();
  const connections = connectionsWith(producer);
  const queueLengths: number[] = [];
  const publisher = new Publisher({
    session: state,
    kafkaTopic: (topic) => `ns.${topic}`,
    userId: 'out-1',
    settings: { acks: -1, compression: 'none', whenNotReady: 'queue', queueSize: 3, spoolSizeMB: 1, ...settings },
    onQueue: (length) => queueLengths.push(length),
    t: keyText,
  });
  const outcomes: Outcome[] = [];
  const publish = (n: number): void => publisher.publish(event(n), (err, meta) => outcomes.push({ err, ...(meta ? { meta } : {}) }));
  const ready = (): void => state.moveTo({ state: 'ready' }, connections);
  return { publisher, producer, connections, session: state, queueLengths, outcomes, publish, ready };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Publisher (fake session and producer)', function () {
  it('ready: sends at once to the Kafka topic with the node settings, and settles with the metadata', async function () {
    const t = setUp();
    t.ready();
    t.publish(1);
    await settle();
    assert.equal(t.producer.sent[0].topic, 'ns.readings');
    assert.equal(t.producer.sent[0].value?.toString(), 'event 1');
    assert.equal(t.outcomes[0].err, null);
    assert.equal(t.outcomes[0].meta?.offset, '0');
    assert.equal(t.connections.acquired, 1, 'one shared producer for the node');
    await t.publisher.close(1_000);
    assert.equal(t.connections.released, 1);
  });

  it('queue mode: holds events while the session is on its way, up to queueSize, and sends them in order once ready', async function () {
    const t = setUp();
    t.publish(1);
    t.session.moveTo({ state: 'creating-key' });
    t.publish(2);
    t.session.moveTo({ state: 'waiting-key', waitingSeconds: 2, keyCreatedAt: new Date().toISOString() });
    t.publish(3);
    t.publish(4);
    assert.deepEqual(t.queueLengths, [1, 1, 2, 2, 3], 'the length after each event and again after each state change');
    assert.match(t.outcomes[0].err?.message ?? '', /^errors\.queue-full .*"size":3/);
    assert.ok(t.outcomes[0].err instanceof NotReadyError);
    t.ready();
    await settle();
    assert.deepEqual(
      t.producer.sent.map((r) => r.value?.toString()),
      ['event 1', 'event 2', 'event 3'],
    );
    assert.equal(t.queueLengths.at(-1), 0);
    assert.equal(t.outcomes.filter((o) => o.err === null).length, 3);
    await t.publisher.close(1_000);
  });

  it('queue mode keeps events through errors the session retries or a new key ends, and fails them when only the user can help', async function () {
    const t = setUp();
    t.publish(1);
    t.session.moveTo(errorState('broker-unreachable', true));
    t.session.moveTo(errorState('key-rejected', false));
    assert.equal(t.publisher.queued, 1);
    assert.equal(t.outcomes.length, 0);
    t.session.moveTo(errorState('timed-out', false));
    assert.equal(t.publisher.queued, 0);
    assert.match(t.outcomes[0].err?.message ?? '', /^errors\.not-ready-in-time .*timed-out detail/);
    t.publish(2);
    assert.match(t.outcomes[1].err?.message ?? '', /^errors\.not-ready-in-time/, 'a new event fails at once too');
    t.session.moveTo({ state: 'signin-required' });
    t.publish(3);
    assert.match(t.outcomes[2].err?.message ?? '', /^errors\.not-ready .*state\.signin-required/);
    await t.publisher.close(1_000);
  });

  it('fail mode: an event fails at once while not ready, with the state in the message', async function () {
    const t = setUp({ whenNotReady: 'fail' });
    t.session.moveTo(errorState('broker-unreachable', true));
    t.publish(1);
    assert.ok(t.outcomes[0].err instanceof NotReadyError);
    assert.match(t.outcomes[0].err.message, /^errors\.not-ready .*broker-unreachable: broker-unreachable detail/);
    await t.publisher.close(1_000);
  });

  it('queue mode: a send the broker could not take goes back to the queue in its place and is sent again after 1 s', async function () {
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const t = setUp();
      t.ready();
      let refuse = true;
      const ack = t.producer.answer;
      t.producer.answer = (record) => (refuse ? Promise.reject(new KafkaClientError('unreachable', 'broker down')) : ack(record));
      t.publish(1);
      await clock.tickAsync(0);
      t.publish(2);
      assert.equal(t.publisher.queued, 2, 'event 2 waits behind event 1');
      refuse = false;
      await clock.tickAsync(999);
      assert.equal(t.producer.sent.length, 1);
      await clock.tickAsync(1);
      assert.deepEqual(
        t.producer.sent.map((r) => r.value?.toString()),
        ['event 1', 'event 1', 'event 2'],
      );
      assert.deepEqual(
        t.outcomes.map((o) => o.err),
        [null, null],
      );
      await t.publisher.close(1_000);
    } finally {
      clock.restore();
    }
  });

  it('a send refused for a reason of its own fails the event with an actionable error', async function () {
    const t = setUp({ whenNotReady: 'fail' });
    t.ready();
    t.producer.answer = () => Promise.reject(new KafkaClientError('auth-failed', 'SASL authentication failed'));
    t.publish(1);
    await settle();
    assert.match(t.outcomes[0].err?.message ?? '', /^errors\.key-rejected .*SASL authentication failed/);
    t.producer.answer = () => Promise.reject(new KafkaClientError('too-large', 'record too large'));
    t.publish(2);
    await settle();
    assert.equal(t.outcomes[1].err?.message, 'record too large');
    await t.publisher.close(1_000);
  });

  it('close fails what is queued, and what the broker did not answer within the timeout', async function () {
    const t = setUp();
    t.publish(1);
    await t.publisher.close(1_000);
    assert.match(t.outcomes[0].err?.message ?? '', /^errors\.closed-before-ready/);
    const u = setUp();
    u.ready();
    u.producer.answer = () => new Promise(() => undefined);
    u.publish(1);
    await u.publisher.close(20);
    assert.match(u.outcomes[0].err?.message ?? '', /^errors\.closed-before-ack/);
    u.publish(2);
    assert.match(u.outcomes[1].err?.message ?? '', /^errors\.closed-before-ready/, 'nothing is taken after close');
  });

  it('takes the producer of new connections (sign-out and in again) and releases the old one', async function () {
    const t = setUp();
    t.ready();
    const second = connectionsWith(t.producer);
    t.session.moveTo({ state: 'signin-required' });
    t.session.moveTo({ state: 'ready' }, second);
    t.publish(1);
    await settle();
    assert.equal(second.acquired, 1);
    assert.equal(t.connections.released, 1);
    await t.publisher.close(1_000);
  });
});

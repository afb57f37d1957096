/** ConsumerController with a fake session view and a fake consumer: when it starts, what controls do, status and close, without Kafka or Node-RED. */
import assert from 'node:assert/strict';
import type { NodeStatus } from 'node-red';
import type { ConsumedMessage, ConsumerCallbacks, ConsumerHandle, ConsumerOptions, ConsumerState, Connections } from '../../../../lib/session/connection-types';
import { KafkaClientError } from '../../../../lib/kafka/errors';
import { ConsumerController } from '../../../../nodes/diaspora-in/consumer-controller';
import type { ConsumedNodeMessage } from '../../../../nodes/diaspora-in/record';
import type { InSettings } from '../../../../nodes/diaspora-in/settings';
import type { DiasporaConfigNode } from '../../../../nodes/shared/config-node';
import { errorState, FakeSessionView, keyText } from '../fake-session-view';

class FakeConsumer implements ConsumerHandle {
  readonly userId: string;
  state: ConsumerState = 'connected';
  paused = false;
  stopped = false;
  readonly commits: { topic: string; partition: number; offset: string | number }[] = [];
  constructor(
    userId: string,
    readonly opts: ConsumerOptions,
    readonly onMessage: (m: ConsumedMessage) => Promise<void>,
    readonly callbacks: ConsumerCallbacks,
  ) {
    this.userId = userId;
  }
  topics(): string[] {
    return [...this.opts.topics];
  }
  assignment(): Record<string, number[]> {
    return {};
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  subscribe(topic: string): Promise<void> {
    this.opts.topics.push(topic);
    return Promise.resolve();
  }
  unsubscribe(topic: string): Promise<void> {
    this.opts.topics.splice(this.opts.topics.indexOf(topic), 1);
    return Promise.resolve();
  }
  commit(message: { topic: string; partition: number; offset: string | number }): Promise<void> {
    this.commits.push(message);
    return Promise.resolve();
  }
  stop(): Promise<void> {
    this.stopped = true;
    return Promise.resolve();
  }
}

function fakeConnections(): Connections & { consumers: FakeConsumer[] } {
  const consumers: FakeConsumer[] = [];
  return {
    consumers,
    currentStatus: { state: 'connected' },
    acquireProducer: () => {
      throw new Error('not used');
    },
    releaseProducer: () => Promise.resolve(),
    createConsumer: (userId, opts, onMessage, callbacks) => {
      const consumer = new FakeConsumer(userId, { ...opts, topics: [...opts.topics] }, onMessage, callbacks ?? {});
      consumers.push(consumer);
      return consumer;
    },
    close: () => Promise.resolve(),
    stats: () => ({ producers: 0, consumers: consumers.length, openConnections: 1, sentBatches: 0, producerUsers: 0 }),
  };
}

const SETTINGS: InSettings = { topics: ['readings'], start: 'earliest', groupId: '', format: 'json', commit: 'manual', window: 10 };

function setUp(settings: Partial<InSettings> = {}) {
  const session = new FakeSessionView();
  const config = { id: 'cfg-1', name: 'fabric', api: 'v3', session, kafkaTopic: (topic: string) => `ns.${topic}` } as unknown as DiasporaConfigNode;
  const sent: ConsumedNodeMessage[] = [];
  const reports: { err: Error; msg: object }[] = [];
  const statuses: (NodeStatus | undefined)[] = [];
  let released = 0;
  const controller = new ConsumerController(config, { ...SETTINGS, ...settings }, {
    nodeId: 'in-1',
    send: (msg) => {
      sent.push(msg);
      return Promise.resolve();
    },
    releaseDeliveries: () => (released += 1),
    report: (err, msg) => reports.push({ err, msg }),
    show: (status) => statuses.push(status),
    warn: () => undefined,
    t: keyText,
    shared: keyText,
  });
  controller.begin();
  const connections = fakeConnections();
  return { controller, session, connections, sent, reports, statuses, released: () => released, ready: () => session.moveTo({ state: 'ready' }, connections) };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const record = (value: string, offset = '0'): ConsumedMessage => ({ topic: 'ns.readings', partition: 0, offset, timestamp: 1, key: null, value: Buffer.from(value), headers: {} });

describe('ConsumerController (fake session and consumer)', function () {
  it('starts the consumer only once the session is ready, with the Kafka names and a stable default group', async function () {
    const t = setUp();
    t.session.moveTo({ state: 'waiting-key', waitingSeconds: 1, keyCreatedAt: new Date().toISOString() }, t.connections);
    await settle();
    assert.equal(t.connections.consumers.length, 0);
    assert.equal(t.statuses.at(-1), undefined, 'the session status shows while not ready');
    t.ready();
    await settle();
    const consumer = t.connections.consumers[0];
    assert.deepEqual(consumer.opts.topics, ['ns.readings']);
    assert.equal(consumer.opts.fromBeginning, true);
    assert.equal(consumer.opts.autoCommit, false);
    assert.equal(consumer.opts.groupId, t.controller.groupId);
    assert.match(t.controller.groupId, /\S/);
    assert.equal(t.statuses.at(-1)?.text, 'status.consuming');
    assert.deepEqual(t.controller.position?.topics, ['ns.readings']);
    await t.controller.close();
  });

  it('delivers events with the user topic name and decoded payload; an event that is not JSON reaches Catch and the consumer goes on', async function () {
    const t = setUp();
    t.ready();
    await settle();
    const consumer = t.connections.consumers[0];
    await consumer.onMessage(record('{"t":21.5}'));
    assert.equal(t.sent[0].topic, 'readings');
    assert.deepEqual(t.sent[0].payload, { t: 21.5 });
    assert.equal(t.sent[0].diaspora.topic, 'ns.readings');
    await consumer.onMessage(record('not json', '1'));
    assert.equal(t.sent.length, 1);
    assert.match(t.reports[0].err.message, /^errors\.not-json/);
    await t.controller.close();
  });

  it('pause, resume, subscribe, unsubscribe and commit act on the consumer', async function () {
    const t = setUp();
    t.ready();
    await settle();
    const consumer = t.connections.consumers[0];
    await t.controller.control({ action: 'pause' });
    assert.equal(consumer.paused, true);
    assert.equal(t.statuses.at(-1)?.text, 'status.paused');
    await t.controller.control({ action: 'resume' });
    assert.equal(consumer.paused, false);
    await t.controller.control({ action: 'subscribe', topics: ['alerts'] });
    assert.deepEqual(consumer.topics(), ['ns.readings', 'ns.alerts']);
    await t.controller.control({ action: 'commit', origin: { topic: 'ns.readings', partition: 0, offset: '4' } });
    await t.controller.control({ action: 'commit', origin: { topic: 'alerts', partition: 1, offset: '7' } });
    assert.deepEqual(consumer.commits, [
      { topic: 'ns.readings', partition: 0, offset: '4' },
      { topic: 'ns.alerts', partition: 1, offset: '7' },
    ]);
    await assert.rejects(t.controller.control({ action: 'unsubscribe', topics: ['nope'] }), /^ControlError: errors\.not-subscribed .*"topic":"nope"/);
    await t.controller.control({ action: 'unsubscribe', topics: ['readings', 'alerts'] });
    assert.deepEqual(consumer.topics(), []);
    assert.equal(t.statuses.at(-1)?.text, 'status.idle');
    await t.controller.close();
  });

  it('commit in auto mode, or before consuming, is a clear error', async function () {
    const auto = setUp({ commit: 'auto' });
    await assert.rejects(auto.controller.control({ action: 'commit', origin: { topic: 'readings', partition: 0, offset: '1' } }), /errors\.commit-auto/);
    const early = setUp();
    await assert.rejects(early.controller.control({ action: 'commit', origin: { topic: 'readings', partition: 0, offset: '1' } }), /errors\.commit-not-consuming .*"state":"starting"/);
    await auto.controller.close();
    await early.controller.close();
  });

  it('new connections (signed out and in again) get a new consumer; the old one is stopped', async function () {
    const t = setUp();
    t.ready();
    await settle();
    const first = t.connections.consumers[0];
    const second = fakeConnections();
    t.session.moveTo({ state: 'signin-required' });
    t.session.moveTo({ state: 'ready' }, second);
    await settle();
    assert.equal(first.stopped, true);
    assert.equal(second.consumers.length, 1);
    assert.equal(t.released(), 1, 'the events still in the flow are released, not committed');
    await t.controller.close();
    assert.equal(second.consumers[0].stopped, true);
  });

  it('a consumer crash shows red until it consumes again; the session error shows instead while the session is down', async function () {
    const t = setUp();
    t.ready();
    await settle();
    const consumer = t.connections.consumers[0];
    consumer.callbacks.onError?.(new KafkaClientError('unreachable', 'connection lost'), { restartInMs: 1_000 });
    assert.equal(t.statuses.at(-1)?.text, 'status.restarting');
    assert.match(t.reports[0].err.message, /^errors\.consumer-failed .*connection lost/);
    t.session.moveTo(errorState('broker-unreachable', true));
    assert.equal(t.statuses.at(-1), undefined, "the session's own error explains it best");
    t.session.moveTo({ state: 'ready' });
    consumer.callbacks.onStateChange?.('connected');
    assert.equal(t.statuses.at(-1)?.text, 'status.consuming');
    await t.controller.close();
  });

  it('an unregistered topic stops the consumer with the topic named, and a later subscribe reports it', async function () {
    const t = setUp();
    t.connections.createConsumer = () => {
      throw new KafkaClientError('topic-not-authorized', 'Not authorized to access topics', { topic: 'ns.readings' });
    };
    t.ready();
    await settle();
    assert.match(t.reports[0].err.message, /^errors\.consumer-stopped .*errors\.not-registered .*readings/);
    assert.equal(t.statuses.at(-1)?.text, 'status.failed');
    await assert.rejects(t.controller.control({ action: 'subscribe', topics: ['alerts'] }), /^Error: errors\.consumer-stopped .*alerts/);
    await t.controller.close();
  });
});

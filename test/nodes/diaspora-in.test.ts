/**
 * `diaspora-in` on the real Node-RED runtime (node-red-node-test-helper) against the running
 * local fabric (real Globus Auth and Diaspora service emulators, real Kafka broker), together with
 * diaspora-config, diaspora-topic and diaspora-out, and with kcat as an outside Kafka client.
 */
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { AssignerProtocol, Kafka, logLevel } from 'kafkajs';
import type { NodeStatus } from 'node-red';
import diasporaConfig = require('../../nodes/diaspora-config/diaspora-config');
import diasporaTopic = require('../../nodes/diaspora-topic/diaspora-topic');
import diasporaOut = require('../../nodes/diaspora-out/diaspora-out');
import diasporaIn = require('../../nodes/diaspora-in/diaspora-in');
import { isDiasporaConfigNode, type DiasporaConfigNode } from '../../nodes/shared/config-node';
import { kafkaTopicName, namespaceForSubject } from '../../lib/diaspora-service/service';
import type { FabricClient, FabricDescription } from '../../fabric/contract';
import { createFabricKafkaAdmin } from '../../fabric/kafka-admin';
import { loadFabric } from '../fixtures/fabric';
import { kcatConsumeAll, kcatProduce, type KcatTarget } from '../fixtures/kcat';
import { storedBatches } from '../fixtures/kafka-log';
import { eventually, nodeRedHelper, sleep, type FlowNode, type NodeModule, type RuntimeNode } from '../fixtures/node-red';
import { isConsuming } from '../fixtures/node-status';

const helper = nodeRedHelper();
const NODES = [diasporaConfig, diasporaTopic, diasporaOut, diasporaIn] as NodeModule[];
const TAB = 'h6-tab';
const READY_WITHIN_MS = 45_000;
const RECEIVE_WITHIN_MS = 30_000;
/** How long "nothing arrives" is watched for. */
const QUIET_MS = 2_500;

type Api = 'v1' | 'v3';

/** A message as the helper node receives it. */
interface Msg {
  [property: string]: unknown;
  payload?: unknown;
  topic?: string;
  key?: unknown;
  partition?: number;
  offset?: string;
  timestamp?: number;
  headers?: Record<string, unknown>;
  diaspora?: { topic: string; partition: number; offset: string; groupId?: string; timestamp?: number };
  error?: { message: string; source?: { id: string; type: string } };
  h6mark?: number;
}

interface InputNode extends RuntimeNode {
  receive(msg: object): void;
}

function uniqueTopic(purpose: string): string {
  return `h6-${purpose}-${crypto.randomBytes(3).toString('hex')}`;
}

/** A flow on one tab, with its credentials. */
class Flow {
  readonly nodes: FlowNode[] = [{ id: TAB, type: 'tab', label: 'h6' }];
  readonly credentials: Record<string, object> = {};
  private readonly completeScope: string[] = [];

  constructor(private readonly fabric: FabricDescription) {}

  config(id: string, api: Api, client: FabricClient, stored: Record<string, unknown> = {}): this {
    this.nodes.push({
      id,
      type: 'diaspora-config',
      name: `h6 ${id}`,
      api,
      serviceUrl: this.fabric.serviceUrl,
      authUrl: this.fabric.authUrl,
      clientId: client.clientId,
      authMode: 'client',
      brokers: this.fabric.brokers.join(','),
      kafkaAuth: 'scram-sha-512',
      tls: false,
      readyTimeout: 60,
    });
    this.credentials[id] = { ...stored, clientSecret: client.clientSecret };
    return this;
  }

  add(node: FlowNode): this {
    this.nodes.push({ z: TAB, wires: [], ...node });
    return this;
  }

  /** A helper node that records what it receives. */
  sink(id: string): this {
    return this.add({ id, type: 'helper' });
  }

  /** diaspora-topic taking msg.action and msg.topic, its answers to `<id>-out`. */
  topicNode(id: string, fabric: string): this {
    return this.add({ id, type: 'diaspora-topic', fabric, action: 'msg', topic: '', wires: [[`${id}-out`]] }).sink(`${id}-out`);
  }

  /** diaspora-out in ack mode, its acknowledged messages to `<id>-out`. */
  outNode(id: string, fabric: string, topic: string, extra: Partial<FlowNode> = {}): this {
    return this.add({
      id,
      type: 'diaspora-out',
      fabric,
      topic,
      key: '',
      mode: 'ack',
      acks: 'all',
      compression: 'none',
      whenNotReady: 'queue',
      queueSize: 1000,
      wires: [[`${id}-out`]],
      ...extra,
    }).sink(`${id}-out`);
  }

  /** diaspora-in, its events to `<id>-out`; its done() outcomes reach `errorsOf` and `completions`. */
  inNode(id: string, fabric: string, props: { topics: string; start: 'earliest' | 'latest'; groupId?: string; format?: string; commit?: string }): this {
    this.completeScope.push(id);
    return this.add({
      id,
      type: 'diaspora-in',
      fabric,
      topics: props.topics,
      start: props.start,
      groupId: props.groupId ?? '',
      format: props.format ?? 'auto',
      commit: props.commit ?? 'auto',
      wires: [[`${id}-out`]],
    }).sink(`${id}-out`);
  }

  /**
   * The flow with one Catch node (every error of the tab, to the sink `caught`) and one Complete
   * node (the diaspora-in nodes, to the sink `completed`): the test helper registers a core node
   * type once per node of that type, so a flow can hold only one of each.
   */
  build(): FlowNode[] {
    const nodes = [...this.nodes];
    nodes.push({ id: 'caught-catch', z: TAB, type: 'catch', scope: null, uncaught: false, wires: [['caught']] });
    nodes.push({ id: 'caught', z: TAB, type: 'helper', wires: [] });
    if (this.completeScope.length > 0) {
      nodes.push({ id: 'completed-complete', z: TAB, type: 'complete', scope: [...this.completeScope], wires: [['completed']] });
      nodes.push({ id: 'completed', z: TAB, type: 'helper', wires: [] });
    }
    return nodes;
  }

}

function runtimeNode(id: string): InputNode {
  const node = helper.getNode(id);
  assert.ok(node, `node ${id} is not deployed`);
  return node as unknown as InputNode;
}

/** Everything the helper node `id` receives from now on (from the flow node `from` only, when given). */
function collect(id: string, from?: string): Msg[] {
  const got: Msg[] = [];
  runtimeNode(id).on('input', (msg: unknown) => {
    if (from === undefined || (msg as Msg).error?.source?.id === from) got.push(msg as Msg);
  });
  return got;
}

/** The errors (done(err) and node.error with a msg) of flow node `id`, as the Catch node sees them. */
function errorsOf(id: string): Msg[] {
  return collect('caught', id);
}

/** The messages diaspora-in nodes ended with done() (the Complete node). */
function completions(): Msg[] {
  return collect('completed');
}

/** Every status the node shows from now on (the test helper reports each call). */
function statuses(id: string): NodeStatus[] {
  const seen: NodeStatus[] = [];
  runtimeNode(id).on('call:status', (call: unknown) => {
    const status = (call as { args: unknown[] }).args[0];
    seen.push(typeof status === 'string' ? { text: status } : (status as NodeStatus));
  });
  return seen;
}

function configNode(id: string): DiasporaConfigNode {
  const node = helper.getNode(id) as unknown;
  assert.ok(isDiasporaConfigNode(node as DiasporaConfigNode), `${id} is not a diaspora-config node`);
  return node as DiasporaConfigNode;
}

async function untilReady(configId: string): Promise<void> {
  await eventually(
    `${configId} to be ready`,
    () => {
      const state = configNode(configId).session.state;
      if (state.state === 'error') throw new Error(`${configId} failed: ${state.reason}: ${state.message}`);
      return state.state === 'ready' ? true : undefined;
    },
    READY_WITHIN_MS,
    50,
  );
}

async function atLeast(got: Msg[], count: number, what: string, timeoutMs = RECEIVE_WITHIN_MS): Promise<Msg[]> {
  return eventually(`${count} ${what} (got ${got.length})`, () => (got.length >= count ? got.slice(0, count) : undefined), timeoutMs, 50);
}

async function untilStatus(seen: NodeStatus[], text: string, what: string, timeoutMs = RECEIVE_WITHIN_MS): Promise<void> {
  const shows = (status: NodeStatus | undefined): boolean => status?.text === text || (text === 'consuming' && isConsuming(status));
  await eventually(`${what} to show "${text}" (seen: ${seen.map((s) => s.text).join(' > ')})`, () => (shows(seen.at(-1)) ? true : undefined), timeoutMs, 50);
}

let marks = 0;

/** Sends a control message into diaspora-in `id`; resolves with done()'s error, or undefined for done(). */
async function control(id: string, msg: object, caught: Msg[], completed: Msg[]): Promise<Error | undefined> {
  const mark = ++marks;
  runtimeNode(id).receive({ ...msg, h6mark: mark });
  return eventually(
    `the control message ${JSON.stringify(msg)} to end`,
    () => {
      const failure = caught.find((m) => m.h6mark === mark);
      if (failure) return { error: new Error(failure.error?.message ?? 'no message') };
      if (completed.some((m) => m.h6mark === mark)) return { error: undefined };
      return undefined;
    },
    RECEIVE_WITHIN_MS,
    20,
  ).then((outcome) => outcome.error);
}

/** Sends msg into a node and waits for the answer its `<id>-out` sink receives (failure via `<id>`'s Catch). */
async function call(id: string, msg: Msg, answers: Msg[], errors: Msg[]): Promise<Msg> {
  const mark = ++marks;
  runtimeNode(id).receive({ ...msg, h6mark: mark });
  return eventually(
    `${id} to answer ${JSON.stringify(msg).slice(0, 80)}`,
    () => {
      const failure = errors.find((m) => m.h6mark === mark);
      if (failure) throw new Error(`${id} failed: ${failure.error?.message}`);
      return answers.find((m) => m.h6mark === mark);
    },
    RECEIVE_WITHIN_MS,
    20,
  );
}

describe('diaspora-in on the real Node-RED runtime and the local fabric', function () {
  this.timeout(120_000);
  let fabric: FabricDescription;
  let kcatTarget: KcatTarget;
  /** client 0 uses API v1, client 1 API v3 (v1 create_key rotates the subject's one key). */
  let clients: Record<Api, FabricClient>;

  before(function () {
    fabric = loadFabric();
    kcatTarget = { brokers: fabric.brokers, username: fabric.admin.username, password: fabric.admin.password };
    clients = { v1: fabric.clients[0], v3: fabric.clients[1] };
  });

  afterEach(async function () {
    await helper.unload();
  });

  /** The Kafka name of a user-facing topic for a client, as the SDK derives it. */
  function kafkaName(api: Api, topic: string): string {
    return kafkaTopicName(api, clients[api].sub, topic);
  }

  /** Registers a topic through diaspora-topic in a flow of its own (then unloaded). */
  async function registerTopic(api: Api, topic: string): Promise<void> {
    const flow = new Flow(fabric).config('reg-cfg', api, clients[api]).topicNode('reg', 'reg-cfg');
    await helper.load(NODES, flow.build(), flow.credentials);
    const answer = await call('reg', { action: 'register', topic }, collect('reg-out'), errorsOf('reg'));
    assert.ok(['success', 'no-op'].includes(String((answer.payload as { status?: string }).status)), JSON.stringify(answer.payload));
    await helper.unload();
  }

  for (const api of ['v1', 'v3'] as const) {
    it(`${api}: the seed's quickstart as flows: register, list, publish with ack, consume from earliest`, async function () {
      const topic = uniqueTopic(`qs${api}`);
      const sent = [
        { payload: { message: 'Synchronous message from Diaspora SDK' }, key: 'k-0', headers: { source: 'node-red', n: '0' } },
        { payload: 'plain text, not JSON', key: 'k-1', headers: { n: '1' } },
        { payload: [1, 2.5, true, null, 'x'], key: 'k-0', headers: { n: '2' } },
        { payload: 42, key: 'k-2', headers: { n: '3' } },
        { payload: { nested: { unicode: 'Grüße ✓' } }, key: 'k-1', headers: { n: '4' } },
      ];

      // Script 1 of the seed: register_topic, list_topics, producer.send(...).get().
      const setup = new Flow(fabric)
        .config('cfg', api, clients[api])
        .topicNode('topic', 'cfg')
        .outNode('out', 'cfg', topic);
      await helper.load(NODES, setup.build(), setup.credentials);
      const topicAnswers = collect('topic-out');
      const acks = collect('out-out');
      const caught = collect('caught');

      const registered = await call('topic', { action: 'register', topic }, topicAnswers, caught);
      assert.equal((registered.payload as { status: string }).status, 'success', JSON.stringify(registered.payload));
      const listed = await call('topic', { action: 'list' }, topicAnswers, caught);
      assert.ok((listed.payload as { topics: string[] }).topics.includes(topic), `list: ${JSON.stringify(listed.payload)}`);

      await untilReady('cfg');
      const acked: Msg[] = [];
      for (const event of sent) acked.push(await call('out', { ...event }, acks, caught));
      for (const [i, ack] of acked.entries()) {
        assert.equal(ack.diaspora?.topic, kafkaName(api, topic), `ack ${i} names the Kafka topic`);
        assert.equal(ack.diaspora?.offset, String(i), `ack ${i} offset`);
      }
      const stored = { ...(helper.credentials.get('cfg') ?? {}) };
      await helper.unload();

      // Script 2: KafkaConsumer(topic, auto_offset_reset='earliest'), after a restart with the stored key.
      const consume = new Flow(fabric).config('cfg', api, clients[api], stored).inNode('in', 'cfg', { topics: topic, start: 'earliest' });
      await helper.load(NODES, consume.build(), consume.credentials);
      const events = collect('in-out');
      const errors = errorsOf('in');
      const got = await atLeast(events, sent.length, 'events');
      await sleep(500);
      assert.equal(events.length, sent.length, 'exactly what was sent, nothing more');
      assert.equal(errors.length, 0, JSON.stringify(errors.map((e) => e.error)));

      const group = events[0].diaspora?.groupId;
      assert.equal(group, `node-red-${clients[api].sub}-in`, 'the default group id: stable per identity and node');
      for (const [i, msg] of got.entries()) {
        assert.deepEqual(msg.payload, sent[i].payload, `payload ${i}`);
        assert.equal(msg.topic, topic, 'msg.topic is the name the user gave');
        assert.equal(msg.key, sent[i].key, `key ${i}`);
        assert.deepEqual(msg.headers, sent[i].headers, `headers ${i}`);
        assert.equal(msg.partition, 0);
        assert.equal(msg.offset, String(i));
        assert.equal(msg.timestamp, acked[i].diaspora?.timestamp, `timestamp ${i} is the broker's`);
        assert.equal(typeof msg.timestamp, 'number');
        assert.deepEqual(msg.diaspora, { topic: kafkaName(api, topic), partition: 0, offset: String(i), groupId: group });
      }
      if (api === 'v3') assert.ok(events[0].diaspora?.topic.startsWith(`${namespaceForSubject(clients.v3.sub)}.`));
    });
  }

  it('latest sees only events published after it started; earliest sees them all', async function () {
    const topic = uniqueTopic('latest');
    await registerTopic('v3', topic);
    const flow = new Flow(fabric)
      .config('cfg', 'v3', clients.v3)
      .outNode('out', 'cfg', topic);
    await helper.load(NODES, flow.build(), flow.credentials);
    const acks = collect('out-out');
    const outErrors = errorsOf('out');
    await untilReady('cfg');
    for (const n of [1, 2]) await call('out', { payload: { old: n } }, acks, outErrors);
    const stored = { ...(helper.credentials.get('cfg') ?? {}) };
    await helper.unload();

    const both = new Flow(fabric)
      .config('cfg', 'v3', clients.v3, stored)
      .outNode('out', 'cfg', topic)
      .inNode('early', 'cfg', { topics: topic, start: 'earliest' })
      .inNode('late', 'cfg', { topics: topic, start: 'latest' });
    await helper.load(NODES, both.build(), both.credentials);
    const early = collect('early-out');
    const late = collect('late-out');
    const acks2 = collect('out-out');
    const outErrors2 = errorsOf('out');
    await untilReady('cfg');
    // "latest" is fixed when the consumer first fetches: publish until the late node sees one.
    let n = 0;
    await eventually(
      'the latest consumer to receive a new event',
      async () => {
        await call('out', { payload: { fresh: ++n } }, acks2, outErrors2);
        await sleep(300);
        return late.length > 0 ? true : undefined;
      },
      RECEIVE_WITHIN_MS,
      0,
    );
    await atLeast(early, 2 + n, 'events on the earliest node');
    await sleep(500);
    assert.deepEqual(
      early.map((m) => m.payload),
      [{ old: 1 }, { old: 2 }, ...Array.from({ length: n }, (_, i) => ({ fresh: i + 1 }))],
    );
    assert.ok(late.every((m) => (m.payload as { fresh?: number }).fresh !== undefined), `latest got old events: ${JSON.stringify(late.map((m) => m.payload))}`);
    assert.notEqual(early[0].diaspora?.groupId, late[0].diaspora?.groupId, 'each node has its own default group');
  });

  it("a second identity cannot consume or produce on the first's topic: Catch nodes get a clear error", async function () {
    const topic = uniqueTopic('owned');
    await registerTopic('v1', topic);
    // The intruder is client 1 with API v1, where topic names are global (v3 names are namespaced).
    const flow = new Flow(fabric)
      .config('intruder', 'v1', clients.v3)
      .inNode('in', 'intruder', { topics: topic, start: 'earliest' })
      .outNode('out', 'intruder', topic);
    await helper.load(NODES, flow.build(), flow.credentials);
    const seen = statuses('in');
    const caught = errorsOf('in');
    const events = collect('in-out');
    const outErrors = errorsOf('out');
    await untilReady('intruder');

    const [failure] = await atLeast(caught, 1, 'consumer errors at the Catch node');
    assert.match(failure.error?.message ?? '', new RegExp(`topic "${topic}" is not registered to this identity`));
    assert.match(failure.error?.message ?? '', /register it with a diaspora topic node/);
    assert.equal(failure.error?.source?.id, 'in');
    assert.equal(failure.topic, topic);
    await eventually('a red status', () => (seen.some((s) => s.fill === 'red') ? true : undefined), RECEIVE_WITHIN_MS);
    assert.equal(events.length, 0);

    runtimeNode('out').receive({ payload: 'intrusion' });
    const [refused] = await atLeast(outErrors, 1, 'producer errors at the Catch node');
    assert.match(refused.error?.message ?? '', /not registered to this identity/);

    // The consumer keeps restarting with a growing delay, reporting each failure.
    await atLeast(caught, 2, 'a second report after the restart', 15_000);
  });

  it('manual commit: after a restart with the same group the node resumes after the committed message', async function () {
    const topic = uniqueTopic('manual');
    const groupId = `h6-manual-${crypto.randomBytes(3).toString('hex')}`;
    await registerTopic('v3', topic);
    const produce = new Flow(fabric).config('cfg', 'v3', clients.v3).outNode('out', 'cfg', topic);
    await helper.load(NODES, produce.build(), produce.credentials);
    const acks = collect('out-out');
    const outErrors = errorsOf('out');
    await untilReady('cfg');
    for (let i = 1; i <= 6; i++) await call('out', { payload: { n: i } }, acks, outErrors);
    const stored = { ...(helper.credentials.get('cfg') ?? {}) };
    await helper.unload();

    const consume = (): Flow =>
      new Flow(fabric).config('cfg', 'v3', clients.v3, stored).inNode('in', 'cfg', { topics: topic, start: 'earliest', groupId, commit: 'manual' });
    let flow = consume();
    await helper.load(NODES, flow.build(), flow.credentials);
    let events = collect('in-out');
    let caught = errorsOf('in');
    let done = completions();
    const first = await atLeast(events, 6, 'events');
    assert.deepEqual(first.map((m) => (m.payload as { n: number }).n), [1, 2, 3, 4, 5, 6]);
    assert.equal(await control('in', { action: 'commit', diaspora: first[2].diaspora }, caught, done), undefined);
    const bad = await control('in', { action: 'commit', diaspora: { topic: 'x' } }, caught, done);
    assert.match(bad?.message ?? '', /needs msg\.diaspora of the message to commit/);
    await helper.unload();

    flow = consume();
    await helper.load(NODES, flow.build(), flow.credentials);
    events = collect('in-out');
    caught = errorsOf('in');
    done = completions();
    const resumed = await atLeast(events, 3, 'events after the restart');
    await sleep(500);
    assert.deepEqual(
      events.map((m) => (m.payload as { n: number }).n),
      [4, 5, 6],
      'resumes at the 4th: the 3rd was committed, and nothing after it without a commit',
    );
    assert.equal(resumed[0].offset, '3');
    assert.equal(resumed[0].diaspora?.groupId, groupId);
  });

  it('a restart with the default group id resumes where the node stopped (auto commit)', async function () {
    const topic = uniqueTopic('resume');
    await registerTopic('v3', topic);
    const flowFor = (stored: Record<string, unknown>): Flow =>
      new Flow(fabric)
        .config('cfg', 'v3', clients.v3, stored)
        .outNode('out', 'cfg', topic)
        .inNode('in', 'cfg', { topics: topic, start: 'earliest' });
    let flow = flowFor({});
    await helper.load(NODES, flow.build(), flow.credentials);
    let events = collect('in-out');
    let acks = collect('out-out');
    let outErrors = errorsOf('out');
    await untilReady('cfg');
    for (const n of [1, 2]) await call('out', { payload: n }, acks, outErrors);
    await atLeast(events, 2, 'events');
    const stored = { ...(helper.credentials.get('cfg') ?? {}) };
    await helper.unload();

    flow = flowFor(stored);
    await helper.load(NODES, flow.build(), flow.credentials);
    events = collect('in-out');
    acks = collect('out-out');
    outErrors = errorsOf('out');
    await untilReady('cfg');
    await call('out', { payload: 3 }, acks, outErrors);
    await atLeast(events, 1, 'the new event');
    await sleep(QUIET_MS);
    assert.deepEqual(events.map((m) => m.payload), [3], 'only the event published after the restart');
  });

  it('a new key, and a sign-out and start: the consumer goes on, in the same group, without redelivering', async function () {
    const topic = uniqueTopic('rekey');
    await registerTopic('v3', topic);
    const flow = new Flow(fabric)
      .config('cfg', 'v3', clients.v3)
      .outNode('out', 'cfg', topic)
      .inNode('in', 'cfg', { topics: topic, start: 'earliest' });
    await helper.load(NODES, flow.build(), flow.credentials);
    const events = collect('in-out');
    const seen = statuses('in');
    const acks = collect('out-out');
    const outErrors = errorsOf('out');
    await untilReady('cfg');
    await call('out', { payload: 'with the first key' }, acks, outErrors);
    await atLeast(events, 1, 'the first event');
    const firstKey = helper.credentials.get('cfg')?.secretKey;

    await configNode('cfg').session.newKey();
    await untilReady('cfg');
    assert.notEqual(helper.credentials.get('cfg')?.secretKey, firstKey, 'the key was replaced');
    await call('out', { payload: 'with the second key' }, acks, outErrors);
    await atLeast(events, 2, 'the event after the new key');
    await untilStatus(seen, 'consuming', 'diaspora-in with the new key');
    await sleep(500);
    assert.deepEqual(events.map((m) => m.payload), ['with the first key', 'with the second key']);
    assert.equal(events[1].diaspora?.groupId, events[0].diaspora?.groupId);

    // Sign-out closes the session's connection manager; the next start brings a new one.
    const session = configNode('cfg').session;
    const before = session.connections;
    await session.signOut();
    void session.start();
    await untilReady('cfg');
    assert.ok(session.connections && session.connections !== before, 'a new connection manager');
    await call('out', { payload: 'after signing in again' }, acks, outErrors);
    await atLeast(events, 3, 'the event after signing in again');
    await sleep(500);
    assert.deepEqual(events.map((m) => m.payload), ['with the first key', 'with the second key', 'after signing in again']);
  });

  it('two nodes with one group id split the partitions of a 2-partition topic', async function () {
    const topic = uniqueTopic('split');
    const groupId = `h6-split-${crypto.randomBytes(3).toString('hex')}`;
    // Load once so that the v3 user and its namespace exist, then create the topic with 2 partitions
    // inside the namespace (the identity's prefixed ACL covers it) with the broker admin.
    const flow = new Flow(fabric)
      .config('cfg-a', 'v3', clients.v3)
      .config('cfg-b', 'v3', clients.v3)
      .outNode('out', 'cfg-a', topic);
    await helper.load(NODES, flow.build(), flow.credentials);
    await untilReady('cfg-a');
    const admin = await createFabricKafkaAdmin({ brokers: fabric.brokers, username: fabric.admin.username, password: fabric.admin.password });
    try {
      await admin.createTopic(kafkaName('v3', topic), 2);
    } finally {
      await admin.close();
    }
    const stored = { ...(helper.credentials.get('cfg-a') ?? {}) };
    await helper.unload();

    // Two config nodes = two Node-RED instances' worth of connections, one group.
    const split = new Flow(fabric)
      .config('cfg-a', 'v3', clients.v3, stored)
      .config('cfg-b', 'v3', clients.v3, stored)
      .outNode('out', 'cfg-a', topic)
      .inNode('a', 'cfg-a', { topics: topic, start: 'earliest', groupId })
      .inNode('b', 'cfg-b', { topics: topic, start: 'earliest', groupId });
    await helper.load(NODES, split.build(), split.credentials);
    const a = collect('a-out');
    const b = collect('b-out');
    const acks = collect('out-out');
    const outErrors = errorsOf('out');
    await untilReady('cfg-a');
    await untilReady('cfg-b');
    await untilGroupSplit(fabric, groupId, kafkaName('v3', topic));

    for (let i = 0; i < 10; i++) await call('out', { payload: { i }, partition: i % 2 }, acks, outErrors);
    await eventually(`all 10 events (a ${a.length}, b ${b.length})`, () => (a.length + b.length >= 10 ? true : undefined), RECEIVE_WITHIN_MS);
    await sleep(500);
    assert.equal(a.length + b.length, 10, 'each event once');
    const partitionsOf = (got: Msg[]): number[] => [...new Set(got.map((m) => m.partition as number))];
    assert.equal(partitionsOf(a).length, 1, `node a reads one partition, got ${JSON.stringify(partitionsOf(a))}`);
    assert.equal(partitionsOf(b).length, 1, `node b reads one partition, got ${JSON.stringify(partitionsOf(b))}`);
    assert.notEqual(partitionsOf(a)[0], partitionsOf(b)[0]);
    assert.equal(a.length, 5);
    assert.equal(b.length, 5);
  });

  it('control messages: pause, resume, subscribe, unsubscribe, commit in auto mode, invalid actions', async function () {
    const first = uniqueTopic('ctl1');
    const second = uniqueTopic('ctl2');
    await registerTopic('v3', first);
    await registerTopic('v3', second);
    const flow = new Flow(fabric)
      .config('cfg', 'v3', clients.v3)
      .outNode('out', 'cfg', '')
      .inNode('in', 'cfg', { topics: first, start: 'earliest' });
    await helper.load(NODES, flow.build(), flow.credentials);
    const events = collect('in-out');
    const caught = errorsOf('in');
    const done = completions();
    const seen = statuses('in');
    const acks = collect('out-out');
    const outErrors = errorsOf('out');
    const publish = (topic: string, payload: unknown): Promise<Msg> => call('out', { topic, payload }, acks, outErrors);
    await untilReady('cfg');
    await untilStatus(seen, 'consuming', 'diaspora-in');

    assert.equal(await control('in', { action: 'pause' }, caught, done), undefined);
    assert.equal(seen.at(-1)?.text, 'paused');
    await publish(first, 'while paused');
    await sleep(QUIET_MS);
    assert.equal(events.length, 0, 'nothing is delivered while paused');
    assert.equal(await control('in', { action: 'resume' }, caught, done), undefined);
    await atLeast(events, 1, 'the event held while paused');
    assert.equal(events[0].payload, 'while paused');

    assert.equal(await control('in', { action: 'subscribe', topic: second }, caught, done), undefined);
    await untilStatus(seen, 'consuming', 'diaspora-in after subscribe');
    await publish(second, 'on the second topic');
    await atLeast(events, 2, 'the event on the subscribed topic');
    assert.equal(events[1].topic, second);
    assert.equal(events[1].diaspora?.topic, kafkaName('v3', second));

    assert.equal(await control('in', { action: 'unsubscribe', topic: first }, caught, done), undefined);
    await untilStatus(seen, 'consuming', 'diaspora-in after unsubscribe');
    await publish(first, 'after unsubscribing');
    await publish(second, 'still subscribed');
    await atLeast(events, 3, 'the event on the remaining topic');
    await sleep(QUIET_MS);
    assert.deepEqual(events.slice(2).map((m) => m.payload), ['still subscribed']);

    const notSubscribed = await control('in', { action: 'unsubscribe', topic: first }, caught, done);
    assert.match(notSubscribed?.message ?? '', new RegExp(`not subscribed to "${first}"`));
    const noTopic = await control('in', { action: 'subscribe' }, caught, done);
    assert.match(noTopic?.message ?? '', /needs msg\.topic/);
    const autoCommit = await control('in', { action: 'commit', diaspora: events[2].diaspora }, caught, done);
    assert.match(autoCommit?.message ?? '', /Commit set to Manual/);
    const invalid = await control('in', { action: 'rewind' }, caught, done);
    assert.match(invalid?.message ?? '', /unknown msg\.action "rewind": use pause, resume, subscribe, unsubscribe or commit/);
    const missing = await control('in', { payload: 'no action' }, caught, done);
    assert.match(missing?.message ?? '', /msg\.action is missing: use pause, resume, subscribe, unsubscribe or commit/);
  });

  it('formats: tombstones give null, binary keys stay Buffers, json reports a non-JSON event to Catch and goes on', async function () {
    const topic = uniqueTopic('format');
    await registerTopic('v3', topic);
    const flow = new Flow(fabric)
      .config('cfg', 'v3', clients.v3)
      .outNode('out', 'cfg', topic)
      .inNode('as-json', 'cfg', { topics: topic, start: 'earliest', format: 'json' })
      .inNode('as-buffer', 'cfg', { topics: topic, start: 'earliest', format: 'buffer' });
    await helper.load(NODES, flow.build(), flow.credentials);
    const acks = collect('out-out');
    const outErrors = errorsOf('out');
    const json = collect('as-json-out');
    const jsonErrors = errorsOf('as-json');
    const buffers = collect('as-buffer-out');
    await untilReady('cfg');
    const binaryKey = Buffer.from([0xff, 0xfe, 0x00, 0x01]);
    await call('out', { payload: 'not { json' }, acks, outErrors);
    await call('out', { payload: { ok: true }, key: binaryKey }, acks, outErrors);
    await call('out', { payload: null, key: 'deleted-key' }, acks, outErrors);

    await atLeast(json, 2, 'JSON events');
    const [notJson] = await atLeast(jsonErrors, 1, 'the non-JSON event at the Catch node');
    assert.match(notJson.error?.message ?? '', new RegExp(`the event on ${topic} at offset 0 is not JSON`));
    assert.equal(notJson.payload, 'not { json', 'the Catch node gets the raw text');
    assert.equal(notJson.offset, '0');
    assert.equal(notJson.topic, topic);
    assert.deepEqual(json[0].payload, { ok: true });
    assert.ok(Buffer.isBuffer(json[0].key), 'a key that is not UTF-8 stays a Buffer');
    assert.deepEqual(json[0].key, binaryKey);
    assert.equal(json[1].payload, null, 'a tombstone gives payload null');
    assert.equal(json[1].key, 'deleted-key');

    await atLeast(buffers, 3, 'raw events');
    assert.ok(Buffer.isBuffer(buffers[0].payload));
    assert.equal((buffers[0].payload as Buffer).toString('utf8'), 'not { json');
    assert.equal(buffers[0].key, null, 'no key gives null');
    assert.equal(buffers[2].payload, null);
  });

  it('interop with kcat: compressed batches from kcat are consumed, and ours (lz4) are read back by kcat', async function () {
    const topic = uniqueTopic('kcat');
    await registerTopic('v1', topic);
    const codecs = ['lz4', 'snappy', 'gzip'] as const;
    for (const codec of codecs) {
      const records = [0, 1, 2].map((i) => ({ key: `${codec}-${i}`, value: JSON.stringify({ codec, i }) }));
      await kcatProduce(kcatTarget, topic, records, { compression: codec, headers: { producer: 'kcat', codec } });
    }
    assert.deepEqual(
      storedBatches(topic).map((b) => [b.codec, b.records]),
      codecs.map((codec) => [codec, 3]),
      'kcat wrote one compressed batch per codec',
    );
    const flow = new Flow(fabric)
      .config('cfg', 'v1', clients.v1)
      .inNode('in', 'cfg', { topics: topic, start: 'earliest' })
      .outNode('out', 'cfg', topic, { compression: 'lz4' });
    await helper.load(NODES, flow.build(), flow.credentials);
    const events = collect('in-out');
    const caught = errorsOf('in');
    const acks = collect('out-out');
    const outErrors = errorsOf('out');
    await atLeast(events, 9, 'events from kcat');
    assert.equal(caught.length, 0, `no consumer error on compressed batches: ${JSON.stringify(caught.map((e) => e.error))}`);
    assert.deepEqual(
      events.map((m) => [m.key, m.payload, m.headers]),
      codecs.flatMap((codec) => [0, 1, 2].map((i) => [`${codec}-${i}`, { codec, i }, { producer: 'kcat', codec }])),
    );

    // Ours: five events sent together, so they travel as one lz4-compressed batch.
    const mark = ++marks;
    for (let i = 0; i < 5; i++) runtimeNode('out').receive({ payload: { ours: i }, key: `ours-${i}`, headers: { from: 'node-red' }, h6mark: mark });
    await atLeast(acks, 5, 'acknowledgements');
    assert.equal(outErrors.length, 0, JSON.stringify(outErrors.map((e) => e.error)));
    const ourBatches = storedBatches(topic).filter((b) => b.baseOffset >= 9n);
    assert.ok(ourBatches.every((b) => b.codec === 'lz4'), `our batches: ${JSON.stringify(ourBatches.map((b) => b.codec))}`);
    assert.equal(ourBatches.reduce((sum, b) => sum + b.records, 0), 5);
    assert.ok(ourBatches.some((b) => b.records > 1), 'events sent together travel as one batch');
    const read = await kcatConsumeAll(kcatTarget, topic);
    const ours = read.filter((r) => r.key?.startsWith('ours-'));
    assert.deepEqual(
      ours.map((r) => [r.key, JSON.parse(r.payload ?? 'null'), r.headers]).sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
      [0, 1, 2, 3, 4].map((i) => [`ours-${i}`, { ours: i }, { from: 'node-red' }]),
    );
    // And diaspora-in got them too, after kcat's.
    await atLeast(events, 14, 'all events');
  });

  it('without a diaspora-config node, control messages end in a clear error', async function () {
    const flow = new Flow(fabric).inNode('in', 'missing-config', { topics: 'x', start: 'latest' });
    await helper.load(NODES, flow.build(), flow.credentials);
    const caught = errorsOf('in');
    const done = completions();
    const error = await control('in', { action: 'pause' }, caught, done);
    assert.match(error?.message ?? '', /no diaspora-config node selected/);
  });
});

/** Waits until the group has two members and each was assigned one partition of the topic. */
async function untilGroupSplit(fabric: FabricDescription, groupId: string, topic: string): Promise<void> {
  const kafka = new Kafka({
    clientId: 'h6-group-check',
    brokers: fabric.brokers,
    sasl: { mechanism: 'scram-sha-512', username: fabric.admin.username, password: fabric.admin.password },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await eventually(
      `group ${groupId} to split ${topic} between two members`,
      async () => {
        const { groups } = await admin.describeGroups([groupId]);
        const group = groups[0];
        if (!group || group.state !== 'Stable' || group.members.length !== 2) return undefined;
        const counts = group.members.map((m) => {
          const assignment = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
          return assignment?.assignment[topic]?.length ?? 0;
        });
        return counts.every((c) => c === 1) ? true : undefined;
      },
      RECEIVE_WITHIN_MS,
      250,
    );
  } finally {
    await admin.disconnect();
  }
}

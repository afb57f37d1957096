/**
 * `diaspora-out` on the real Node-RED runtime against the running local fabric: events published
 * through the config node's shared producer and read back from the real broker with a separate
 * kafkajs consumer (the broker's admin user), the not-ready queue, and every actionable error
 * reaching a Catch node.
 */
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import diasporaConfig = require('../../nodes/diaspora-config/diaspora-config');
import diasporaOut = require('../../nodes/diaspora-out/diaspora-out');
import type { FabricDescription } from '../../fabric/contract';
import { registerCompressionCodecs } from '../../lib/kafka/codecs';
import { withTimeout } from '../../lib/with-timeout';
import type { DiasporaConfigNode } from '../../nodes/shared/config-node';
import { loadFabric } from '../fixtures/fabric';
import { fabricControl, type FabricControl } from '../fixtures/fabric-control';
import { spoolRecords } from '../fixtures/spool-files';
import { eventually, nodeRedHelper, type FlowNode, type NodeModule } from '../fixtures/node-red';
import { catchNode, completeNode, configNode, inject, Sink, sinkNode, tab, TAB, uniqueTopic, type Api, type Msg } from './flow-support';

const helper = nodeRedHelper();
const NODES: NodeModule[] = [diasporaConfig as NodeModule, diasporaOut as NodeModule];
const READY_WITHIN_MS = 30_000;

interface Metadata {
  topic: string;
  partition: number;
  offset: string;
  timestamp: number;
}

interface Deployed {
  config: DiasporaConfigNode;
  out: Sink;
  caught: Sink;
  completed: Sink;
}

/** A status the node showed, as recorded by the helper's spy on Node.status. */
interface StatusCall {
  args: [{ fill?: string; shape?: string; text?: string }];
}

describe('diaspora-out on the real Node-RED runtime and the local fabric', function () {
  this.timeout(60_000);
  let fabric: FabricDescription;
  let control: FabricControl;
  let kafka: Kafka;
  /** The last deploy's flow and credentials, for redeploys. */
  let deployed: { flow: FlowNode[]; credentials: Record<string, object> } | undefined;

  before(function () {
    fabric = loadFabric();
    control = fabricControl(fabric);
    registerCompressionCodecs();
    kafka = new Kafka({
      clientId: 'h5-read-back',
      brokers: fabric.brokers,
      sasl: { mechanism: 'scram-sha-512', username: fabric.admin.username, password: fabric.admin.password },
      logLevel: logLevel.NOTHING,
    });
  });

  afterEach(async function () {
    await helper.unload();
  });

  /** Reads `count` records of `topic` from the beginning, as an outside consumer would. */
  async function readBack(topic: string, count: number, timeoutMs = 30_000): Promise<KafkaMessage[]> {
    const consumer = kafka.consumer({ groupId: `h5-read-back-${crypto.randomBytes(4).toString('hex')}` });
    const got: KafkaMessage[] = [];
    let enough: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      enough = resolve;
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          got.push(message);
          if (got.length >= count) enough();
        },
      });
      const outcome = await withTimeout(done, timeoutMs);
      assert.ok(outcome.done, `read ${got.length} of ${count} records from ${topic} within ${timeoutMs} ms`);
      return got;
    } finally {
      await consumer.disconnect();
    }
  }

  async function highWatermark(topic: string): Promise<number> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.reduce((sum, o) => sum + Number(o.high), 0);
    } finally {
      await admin.disconnect();
    }
  }

  /** Deploys a config node and the given diaspora-out nodes (all wired to `out`), a Catch and a Complete. */
  async function deploy(
    api: Api,
    outNodes: Array<{ id: string } & Record<string, unknown>>,
    opts: { client?: number; configExtra?: Record<string, unknown>; otherConfigs?: Array<ReturnType<typeof configNode>> } = {},
  ): Promise<Deployed> {
    const config = configNode('cfg', fabric, api, fabric.clients[opts.client ?? 0], opts.configExtra);
    const flow: FlowNode[] = [
      tab(),
      config.node,
      sinkNode('out'),
      sinkNode('caught'),
      sinkNode('completed'),
      catchNode('catch', 'caught'),
      completeNode(
        'complete',
        'completed',
        outNodes.map((n) => n.id),
      ),
      ...outNodes.map((n) => ({ type: 'diaspora-out', z: TAB, x: 0, y: 0, fabric: 'cfg', topic: '', key: '', mode: 'ack', acks: 'all', compression: 'none', whenNotReady: 'queue', queueSize: 1000, wires: [['out']], ...n })),
      ...(opts.otherConfigs ?? []).map((c) => c.node),
    ];
    const credentials = Object.assign({}, config.credentials, ...(opts.otherConfigs ?? []).map((c) => c.credentials)) as Record<string, object>;
    await helper.load(NODES, flow, credentials);
    deployed = { flow, credentials };
    return {
      config: helper.getNode('cfg') as unknown as DiasporaConfigNode,
      out: new Sink(helper, 'out'),
      caught: new Sink(helper, 'caught'),
      completed: new Sink(helper, 'completed'),
    };
  }

  /** Registers a topic for the deployed config node's identity; returns its Kafka name. */
  async function register(config: DiasporaConfigNode, topic: string): Promise<string> {
    await eventually('the identity', () => config.session.subject, READY_WITHIN_MS);
    const answer = await (await config.session.service()).registerTopic(topic);
    assert.ok(['success', 'no-op'].includes(answer.status), answer.message);
    return config.kafkaTopic(topic);
  }

  async function ready(config: DiasporaConfigNode): Promise<void> {
    await config.session.whenReady(READY_WITHIN_MS);
  }

  function errorOf(msg: Msg): string {
    return msg.error?.message ?? '';
  }

  for (const api of ['v1', 'v3'] as const) {
    it(`${api}: ack mode sends the msg on with msg.diaspora, and the events are on the broker with key, headers and timestamp`, async function () {
      const d = await deploy(api, [
        { id: 'pub' },
        { id: 'pub-keyed', key: 'node-key', compression: 'lz4', acks: 'leader' },
      ]);
      const topic = uniqueTopic(`ack${api}`);
      const kafkaTopic = await register(d.config, topic);
      if (api === 'v3') assert.match(kafkaTopic, /^ns-[0-9a-f]{12}\.h5-/);
      await ready(d.config);

      const buffer = Buffer.from([0, 1, 2, 254, 255]);
      inject(helper, 'pub', { tag: 'obj', topic, payload: { reading: 21.5, unit: 'C', ok: true, list: [1, 'ü'] }, key: 'sensor-1', headers: { lab: 'B2', raw: Buffer.from('bytes') } });
      const first = await d.out.next('obj');
      inject(helper, 'pub', { tag: 'str', topic, payload: 'plain text ✓', timestamp: 1_700_000_000_000 });
      const second = await d.out.next('str');
      inject(helper, 'pub', { tag: 'buf', topic, payload: buffer, partition: 0 });
      const third = await d.out.next('buf');
      inject(helper, 'pub-keyed', { tag: 'keyed', topic, payload: 42, key: 'ignored-msg-key' });
      const fourth = await d.out.next('keyed');
      assert.equal(d.caught.messages.length, 0, d.caught.messages.map(errorOf).join('; '));

      const metas = [first, second, third, fourth].map((m) => m.diaspora as Metadata);
      for (const meta of metas) {
        assert.equal(meta.topic, kafkaTopic);
        assert.equal(meta.partition, 0);
        assert.match(meta.offset, /^\d+$/);
        assert.equal(typeof meta.timestamp, 'number');
      }
      assert.deepEqual(metas.map((m) => Number(m.offset)), [0, 1, 2, 3]);
      assert.equal(metas[1].timestamp, 1_700_000_000_000);
      assert.equal(first.payload && (first.payload as { unit: string }).unit, 'C', 'the msg goes on as it came in');

      const records = await readBack(kafkaTopic, 4);
      assert.deepEqual(records.map((r) => r.offset), ['0', '1', '2', '3']);
      // The SDK's serializer: json.dumps with Python's separators and ASCII escapes.
      assert.equal(records[0].value?.toString('utf8'), '{"reading": 21.5, "unit": "C", "ok": true, "list": [1, "\\u00fc"]}');
      assert.equal(records[0].key?.toString('utf8'), 'sensor-1');
      assert.equal(records[0].headers?.lab?.toString(), 'B2');
      assert.equal(records[0].headers?.raw?.toString(), 'bytes');
      assert.equal(records[1].value?.toString('utf8'), 'plain text ✓');
      assert.equal(records[1].key, null);
      assert.equal(records[1].timestamp, '1700000000000');
      assert.deepEqual(records[2].value, buffer);
      assert.equal(records[3].value?.toString('utf8'), '42');
      assert.equal(records[3].key?.toString('utf8'), 'node-key', 'the node\'s key wins over msg.key');
    });
  }

  it('fire mode: no output, done() only once the broker has the event', async function () {
    const d = await deploy('v1', [{ id: 'fire', mode: 'fire' }]);
    const topic = uniqueTopic('fire');
    const kafkaTopic = await register(d.config, topic);
    await ready(d.config);

    inject(helper, 'fire', { tag: 'f1', topic, payload: { n: 1 } });
    const completed = await d.completed.next('f1');
    assert.equal(completed.tag, 'f1');
    assert.equal(await highWatermark(kafkaTopic), 1, 'the event was on the broker when done() was called');
    inject(helper, 'fire', { tag: 'f2', topic, payload: [2] });
    await d.completed.next('f2');
    assert.equal(d.out.messages.length, 0, 'fire mode has no output');
    assert.equal(d.caught.messages.length, 0, d.caught.messages.map(errorOf).join('; '));
    const records = await readBack(kafkaTopic, 2);
    assert.deepEqual(records.map((r) => r.value?.toString()), ['{"n": 1}', '[2]']);
  });

  it('payloads that cannot be serialized, and bad key/headers/partition, reach Catch without being sent', async function () {
    const d = await deploy('v1', [{ id: 'pub' }]);
    const topic = uniqueTopic('bad');
    const kafkaTopic = await register(d.config, topic);
    await ready(d.config);

    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    const cases: Array<[string, Msg, RegExp]> = [
      ['circular', { topic, payload: circular }, /msg\.payload\.self refers back to itself \(circular structure\)/],
      ['undefined', { topic }, /msg\.payload is undefined/],
      ['bigint', { topic, payload: { big: 10n } }, /msg\.payload\.big is a BigInt/],
      ['function', { topic, payload: () => 1 }, /msg\.payload is a function/],
      ['key', { topic, payload: 'x', key: { not: 'a key' } }, /msg\.key must be a string, Buffer or number/],
      ['headers', { topic, payload: 'x', headers: { n: 5 } }, /msg\.headers\.n must be a string or Buffer/],
      ['partition', { topic, payload: 'x', partition: 7 }, /partition 7 does not exist/],
      ['no-topic', { payload: 'x' }, /no topic: set the topic on the node or in msg\.topic/],
    ];
    for (const [tag, msg] of cases) inject(helper, 'pub', { ...msg, tag });
    for (const [tag, , expected] of cases) {
      const caught = await d.caught.next(tag);
      assert.match(errorOf(caught), expected, tag);
      assert.equal(caught.error?.source?.id, 'pub');
    }
    assert.equal(d.out.messages.length, 0);
    assert.equal(await highWatermark(kafkaTopic), 0, 'nothing was sent');
  });

  for (const api of ['v1', 'v3'] as const) {
    it(`${api}: publishing to a topic this identity has not registered reaches Catch with the "register it" hint`, async function () {
      const d = await deploy(api, [{ id: 'pub' }]);
      await ready(d.config);
      const topic = uniqueTopic('unreg');
      inject(helper, 'pub', { tag: 'u', topic, payload: 'nobody registered me' });
      const caught = await d.caught.next('u', 45_000);
      assert.match(errorOf(caught), /register it with a diaspora-topic node/);
      assert.match(errorOf(caught), new RegExp(topic));
      assert.equal(d.out.messages.length, 0);
    });
  }

  it('v1: publishing to a topic another identity owns reaches Catch', async function () {
    const d = await deploy('v1', [{ id: 'pub' }], { otherConfigs: [configNode('other', fabric, 'v1', fabric.clients[1])] });
    const mine = d.config;
    const theirs = helper.getNode('other') as unknown as DiasporaConfigNode;
    const caught = d.caught;
    const topic = uniqueTopic('theirs');
    await register(theirs, topic);
    try {
      await ready(mine);
      inject(helper, 'pub', { tag: 't', topic, payload: 'not mine' });
      const error = await caught.next('t', 45_000);
      assert.match(errorOf(error), /is not registered to this identity: register it with a diaspora-topic node/);
    } finally {
      await (await theirs.session.service()).unregisterTopic(topic);
    }
  });

  describe('before the key is usable (key propagation delay)', function () {
    let previousDelay: number | undefined;

    afterEach(async function () {
      if (previousDelay !== undefined) await control.setKeyPropagationDelay(previousDelay);
      previousDelay = undefined;
    });

    // The tests above leave this identity with a key that activates late: rotate it once more at
    // the normal delay, so the suites after this one find a usable key.
    after(async function () {
      try {
        const d = await deploy('v1', [{ id: 'pub' }]);
        await ready(d.config);
        // Let the shared producer finish connecting: closing it mid-connect leaves kafkajs retrying for seconds.
        await eventually('the producer to connect', () => (d.config.session.connections?.currentStatus.state === 'connected' ? true : undefined), READY_WITHIN_MS);
      } finally {
        await helper.unload();
      }
    });

    it('queue mode holds messages and delivers all in order once ready; overflow and fail mode reach Catch at once', async function () {
      previousDelay = await control.setKeyPropagationDelay(6_000);
      const statuses: Array<{ node: string; text: string }> = [];
      const d = await deploy('v1', [
        { id: 'queue' },
        { id: 'small', queueSize: 3 },
        { id: 'fail', whenNotReady: 'fail' },
      ]);
      for (const id of ['queue', 'small']) {
        helper.getNode(id)?.on('call:status', (call: unknown) => statuses.push({ node: id, text: (call as StatusCall).args[0]?.text ?? '' }));
      }
      const topic = uniqueTopic('queued');
      const sentAt = Date.now();
      assert.notEqual(d.config.session.state.state, 'ready');

      inject(helper, 'fail', { tag: 'fail-0', topic, payload: 'now or never' });
      for (let i = 0; i < 5; i++) inject(helper, 'queue', { tag: `q-${i}`, topic, payload: { i } });
      for (let i = 0; i < 5; i++) inject(helper, 'small', { tag: `s-${i}`, topic, payload: { s: i } });

      const failed = await d.caught.next('fail-0', 2_000);
      assert.match(errorOf(failed), /: not ready: /);
      for (const tag of ['s-3', 's-4']) {
        const overflow = await d.caught.next(tag, 2_000);
        assert.match(errorOf(overflow), /: queue full \(3\): /);
      }
      await eventually('"queued: 3" on the small queue', () => statuses.find((s) => s.node === 'small' && s.text === 'queued: 3'), 15_000);
      await eventually('"queued: 5" on the queue', () => statuses.find((s) => s.node === 'queue' && s.text === 'queued: 5'), 15_000);

      const kafkaTopic = await register(d.config, topic);
      const delivered: Msg[] = [];
      for (const tag of ['q-0', 'q-1', 'q-2', 'q-3', 'q-4', 's-0', 's-1', 's-2']) delivered.push(await d.out.next(tag, READY_WITHIN_MS));
      assert.ok(Date.now() - sentAt >= 4_000, 'held until the key worked');
      assert.equal(d.caught.messages.length, 3, d.caught.messages.map(errorOf).join('; '));

      const offsetsOf = (prefix: string): number[] =>
        delivered.filter((m) => m.tag?.startsWith(prefix)).map((m) => Number((m.diaspora as Metadata).offset));
      const increasing = (xs: number[]): boolean => xs.every((x, i) => i === 0 || x > xs[i - 1]);
      assert.ok(increasing(offsetsOf('q-')), `queue delivered in order: ${offsetsOf('q-').join(',')}`);
      assert.ok(increasing(offsetsOf('s-')), `small queue delivered in order: ${offsetsOf('s-').join(',')}`);
      const records = await readBack(kafkaTopic, 8);
      assert.equal(new Set(records.map((r) => r.value?.toString())).size, 8);
      await eventually('the queue status to clear', () => {
        const last = statuses.filter((s) => s.node === 'queue').pop();
        return last && !last.text.startsWith('queued') ? last : undefined;
      }, 2_000);
    });

    it('queued messages fail with "not ready in time" when the key does not become usable in time', async function () {
      previousDelay = await control.setKeyPropagationDelay(20_000);
      const d = await deploy('v1', [{ id: 'queue' }], { configExtra: { readyTimeout: 2 } });
      const topic = uniqueTopic('late');
      inject(helper, 'queue', { tag: 'late-0', topic, payload: 1 });
      inject(helper, 'queue', { tag: 'late-1', topic, payload: 2 });
      for (const tag of ['late-0', 'late-1']) {
        assert.match(errorOf(await d.caught.next(tag, 15_000)), /: not ready in time: /);
      }
      // Once the session has given up, new messages fail at once instead of queueing forever.
      inject(helper, 'queue', { tag: 'late-2', topic, payload: 3 });
      assert.match(errorOf(await d.caught.next('late-2', 1_000)), /: not ready in time: /);
    });

    describe('spool mode', function () {
      let userDir: string;

      before(function () {
        userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'h5-spool-'));
        helper.settings({ userDir });
      });

      after(function () {
        helper.settings({ userDir: undefined });
        fs.rmSync(userDir, { recursive: true, force: true });
      });

      const spooled = (id: string): number => spoolRecords(userDir, id);

      it('holds events on disk while not ready (done() once stored, status with depth and size), sends them in order once ready, then bypasses the disk', async function () {
        previousDelay = await control.setKeyPropagationDelay(6_000);
        const statuses: string[] = [];
        const d = await deploy('v1', [{ id: 'spool', whenNotReady: 'spool' }]);
        helper.getNode('spool')?.on('call:status', (call: unknown) => statuses.push((call as StatusCall).args[0]?.text ?? ''));
        const topic = uniqueTopic('spooled');
        for (let i = 0; i < 5; i++) inject(helper, 'spool', { tag: `p-${i}`, topic, key: 'one-partition', payload: { i } });
        for (let i = 0; i < 5; i++) await d.completed.next(`p-${i}`, 5_000);
        assert.notEqual(d.config.session.state.state, 'ready', 'done() ran before the session was ready');
        assert.equal(d.out.messages.length, 0, 'a spooled message is not sent on: the broker has not acknowledged it');
        assert.equal(spooled('spool'), 5);
        await eventually('"spool 5 · <size>" in the status', () => statuses.find((t) => /spool 5 · \d+ B$/.test(t)), 15_000);

        const kafkaTopic = await register(d.config, topic);
        const records = await readBack(kafkaTopic, 5);
        assert.deepEqual(records.map((r) => (JSON.parse(r.value?.toString() ?? '') as { i: number }).i), [0, 1, 2, 3, 4]);
        await eventually('the spool to empty', () => (spooled('spool') === 0 ? true : undefined), 10_000);
        await eventually('the spool status to clear', () => (statuses.length > 0 && !statuses[statuses.length - 1].startsWith('spool') ? true : undefined), 15_000);

        inject(helper, 'spool', { tag: 'p-5', topic, key: 'one-partition', payload: { i: 5 } });
        const direct = await d.out.next('p-5', 10_000);
        assert.equal((direct.diaspora as Metadata).offset, '5', 'ready and empty: straight to the broker, with its metadata');
        assert.equal(spooled('spool'), 0);
        assert.equal(d.caught.messages.length, 0, d.caught.messages.map(errorOf).join('; '));
      });

      it('a redeploy keeps the spool; removing the node deletes it after a warning with the number of events dropped', async function () {
        previousDelay = await control.setKeyPropagationDelay(60_000);
        const d = await deploy('v1', [{ id: 'spool', whenNotReady: 'spool' }]);
        const topic = uniqueTopic('kept');
        for (let i = 0; i < 3; i++) inject(helper, 'spool', { tag: `k-${i}`, topic, payload: { i } });
        for (let i = 0; i < 3; i++) await d.completed.next(`k-${i}`, 5_000);
        const flow = deployed?.flow ?? [];
        const credentials = deployed?.credentials ?? {};

        await helper.setFlows(flow.map((n) => (n.id === 'spool' ? { ...n, name: 'renamed' } : n)), 'nodes', credentials);
        assert.equal(spooled('spool'), 3, 'the changed node kept its spool');
        inject(helper, 'spool', { tag: 'k-3', topic, payload: { i: 3 } });
        await eventually('the fourth event on disk', () => (spooled('spool') === 4 ? true : undefined), 15_000);

        await helper.setFlows(flow.filter((n) => n.id !== 'spool'), 'nodes', credentials);
        assert.equal(spooled('spool'), -1, 'the spool folder is gone');
        const logged = JSON.stringify(helper.log().args);
        assert.match(logged, /node removed from the flow: its spool held 4 events not yet sent, deleted with it/);
      });

      it('a full spool fails the message with done(err) naming spoolSizeMB', async function () {
        previousDelay = await control.setKeyPropagationDelay(60_000);
        const d = await deploy('v1', [{ id: 'small-spool', whenNotReady: 'spool', spoolSizeMB: 0.01 }]);
        const topic = uniqueTopic('full');
        for (let i = 0; i < 4; i++) inject(helper, 'small-spool', { tag: `f-${i}`, topic, payload: 'x'.repeat(4000) });
        for (let i = 0; i < 2; i++) await d.completed.next(`f-${i}`, 5_000);
        for (let i = 2; i < 4; i++) assert.match(errorOf(await d.caught.next(`f-${i}`, 5_000)), /spool full \(spoolSizeMB 0\.01\): the spool is full: 2 events use [\d.]+ KB of its 10\.2 KB/);
      });
    });

    it('closing the node fails its queued messages with done(err) and still calls close\'s done', async function () {
      previousDelay = await control.setKeyPropagationDelay(20_000);
      await deploy('v1', [{ id: 'queue' }]);
      const node = helper.getNode('queue') as unknown as { on(e: string, l: (call: unknown) => void): void; close(removed: boolean): Promise<void> };
      const errors: string[] = [];
      node.on('call:error', (call: unknown) => {
        const [err] = (call as { args: unknown[] }).args;
        errors.push(err instanceof Error ? err.message : String(err));
      });
      const topic = uniqueTopic('closed');
      inject(helper, 'queue', { tag: 'c-0', topic, payload: 1 });
      inject(helper, 'queue', { tag: 'c-1', topic, payload: 2 });
      const started = Date.now();
      await node.close(true);
      // Well within the 20 s the key takes to propagate, on a loaded machine too.
      assert.ok(Date.now() - started < 10_000, 'close ended promptly, without waiting for the key');
      await eventually('both queued messages to fail', () => (errors.length >= 2 ? errors : undefined), 10_000);
      for (const message of errors) assert.match(message, /node closed before the fabric was ready/);
    });
  });

  it('1,000 messages injected at once are all acknowledged, with distinct increasing offsets, in few batches', async function () {
    const d = await deploy('v3', [{ id: 'pub' }]);
    const topic = uniqueTopic('bulk');
    const kafkaTopic = await register(d.config, topic);
    await ready(d.config);
    const manager = d.config.session.connections;
    assert.ok(manager);
    const batchesBefore = manager.stats().sentBatches;

    const count = 1000;
    const started = Date.now();
    for (let i = 0; i < count; i++) inject(helper, 'pub', { tag: `b-${i}`, topic, payload: { i } });
    await eventually('1,000 acknowledgements', () => (d.out.messages.length + d.caught.messages.length >= count ? true : undefined), 45_000, 50);
    const elapsed = Date.now() - started;
    assert.equal(d.caught.messages.length, 0, d.caught.messages.slice(0, 3).map(errorOf).join('; '));

    const byTag = new Map(d.out.messages.map((m) => [m.tag, Number((m.diaspora as Metadata).offset)]));
    const offsets = Array.from({ length: count }, (_, i) => byTag.get(`b-${i}`) as number);
    assert.equal(new Set(offsets).size, count, 'distinct offsets');
    assert.ok(offsets.every((o, i) => i === 0 || o > offsets[i - 1]), 'offsets increase in the order the messages came in');
    const batches = manager.stats().sentBatches - batchesBefore;
    assert.ok(batches <= 50, `${count} messages went out in ${batches} batches`);
    assert.equal(await highWatermark(kafkaTopic), count);
    console.log(`      1,000 messages acknowledged in ${elapsed} ms, ${batches} sendBatch calls`);
  });
});

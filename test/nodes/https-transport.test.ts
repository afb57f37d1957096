/**
 * The HTTPS transport on the real Node-RED runtime against the local fabric: the service
 * emulator's REST data plane backed by the real Kafka broker. diaspora-out over HTTPS is read by
 * a Kafka-mode diaspora-in and the other way round with the same bytes; a dropped instance is
 * recovered; the 4-instance limit shows; redeploys leave at most one instance per node.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { NodeStatus } from 'node-red';
import diasporaConfig = require('../../nodes/diaspora-config/diaspora-config');
import diasporaTopic = require('../../nodes/diaspora-topic/diaspora-topic');
import diasporaOut = require('../../nodes/diaspora-out/diaspora-out');
import diasporaIn = require('../../nodes/diaspora-in/diaspora-in');
import type { DiasporaConfigNode } from '../../nodes/shared/config-node';
import type { FabricDescription } from '../../fabric/contract';
import { readFabricSecrets } from '../../fabric/fabric';
import { loadFabric } from '../fixtures/fabric';
import { eventually, nodeRedHelper, sleep, type FlowNode, type NodeModule } from '../fixtures/node-red';
import { catchNode, completeNode, configNode, inject, Sink, sinkNode, tab, TAB, uniqueTopic, type Msg } from './flow-support';
import { fabricControl } from '../fixtures/fabric-control';
import { spoolRecords } from '../fixtures/spool-files';
import { readTopic } from '../faults/support/flows';
import { tcpProxy, type Proxy } from '../faults/support/proxies';

const helper = nodeRedHelper();
const NODES = [diasporaConfig, diasporaTopic, diasporaOut, diasporaIn] as NodeModule[];
const WITHIN_MS = 30_000;

interface Instance {
  name: string;
  group: string;
}

/** The emulator's consumer instances (its /_fabric control route), or all of them dropped. */
async function instances(fabric: FabricDescription, drop = false): Promise<Instance[]> {
  const authorization = `Basic ${Buffer.from(`admin:${readFabricSecrets().adminPassword}`).toString('base64')}`;
  const response = await fetch(`${fabric.serviceUrl}/_fabric/consumers`, { method: drop ? 'DELETE' : 'GET', headers: { authorization } });
  assert.ok(response.ok, `/_fabric/consumers answered ${response.status}`);
  const body = (await response.json()) as { instances?: Instance[]; dropped?: unknown };
  return body.instances ?? [];
}

function config(id: string): DiasporaConfigNode {
  return helper.getNode(id) as unknown as DiasporaConfigNode;
}

function outNode(id: string, fabric: string, topic: string): FlowNode[] {
  return [
    { id, type: 'diaspora-out', z: TAB, fabric, topic, key: '', mode: 'ack', acks: 'all', compression: 'none', whenNotReady: 'queue', queueSize: 1000, wires: [[`${id}-out`]] },
    sinkNode(`${id}-out`),
  ];
}

function inNode(id: string, fabric: string, topic: string, format = 'buffer', start = 'earliest'): FlowNode[] {
  return [{ id, type: 'diaspora-in', z: TAB, fabric, topics: topic, start, groupId: '', format, commit: 'auto', wires: [[`${id}-out`]] }, sinkNode(`${id}-out`)];
}

function statuses(id: string): NodeStatus[] {
  const seen: NodeStatus[] = [];
  const node = helper.getNode(id) as unknown as { status(s: NodeStatus): void };
  const original = node.status.bind(node);
  node.status = (s: NodeStatus) => {
    seen.push(s);
    original(s);
  };
  return seen;
}

/** The same messages for both transports: an object, a text, bytes that are not UTF-8, a tombstone-free key. */
const SAMPLES: Msg[] = [
  { tag: 'object', payload: { step: 1, loss: 0.52, tags: ['a', 'é'] }, key: 'job-42' },
  { tag: 'text', payload: 'done', key: 'job-42' },
  { tag: 'bytes', payload: Buffer.from([0xff, 0x00, 0x7f]), key: Buffer.from([0x01, 0xfe]) },
  { tag: 'headers', payload: 7, headers: { trace: Buffer.from([0, 1]), who: 'node-red' } },
];

describe('HTTPS transport (REST data plane of the service emulator)', function () {
  this.timeout(120_000);
  let fabric: FabricDescription;

  let kafka: Kafka;

  before(function () {
    fabric = loadFabric();
    kafka = new Kafka({
      clientId: 'h5-https-read-back',
      brokers: fabric.brokers,
      sasl: { mechanism: 'scram-sha-512', username: fabric.admin.username, password: fabric.admin.password },
      logLevel: logLevel.NOTHING,
    });
  });

  afterEach(async function () {
    await helper.unload();
  });

  function flowWith(nodes: FlowNode[], withKafka = false): { flow: FlowNode[]; credentials: Record<string, object> } {
    const https = configNode('cfg-https', fabric, 'v3', fabric.clients[1], { transport: 'https', brokers: '127.0.0.1:1' });
    const kafka = configNode('cfg-kafka', fabric, 'v3', fabric.clients[1]);
    return {
      flow: [tab(), https.node, ...(withKafka ? [kafka.node] : []), ...nodes, catchNode('catch', 'caught'), sinkNode('caught')],
      credentials: { ...https.credentials, ...(withKafka ? kafka.credentials : {}) },
    };
  }

  async function registered(topic: string): Promise<void> {
    const cfg = config('cfg-https');
    await cfg.session.whenReady(WITHIN_MS);
    await (await cfg.session.service()).registerTopic(topic);
  }

  it('is ready with the sign-in alone: no key created, the (closed) broker address never tried', async function () {
    const { flow, credentials } = flowWith([]);
    const started = Date.now();
    await helper.load(NODES, flow, credentials);
    await config('cfg-https').session.whenReady(WITHIN_MS);
    const readyMs = Date.now() - started;
    assert.equal(config('cfg-https').session.state.state, 'ready');
    const stored = helper.credentials.get('cfg-https') as { secretKey?: string; tokens?: string } | undefined;
    assert.equal(stored?.secretKey, undefined, 'no key');
    assert.ok(stored?.tokens, 'the sign-in is stored');
    // A redeploy with the stored sign-in, as after a restart: one request to the service.
    const times: number[] = [];
    for (let round = 0; round < 5; round++) {
      const redeployed = Date.now();
      await helper.setFlows(flow, 'full', { ...credentials, 'cfg-https': { ...stored } });
      await config('cfg-https').session.whenReady(WITHIN_MS);
      times.push(Date.now() - redeployed);
    }
    const median = [...times].sort((a, b) => a - b)[2];
    console.log(`      deploy → ready over HTTPS: ${readyMs} ms with a new token; with the stored sign-in ${times.join(', ')} ms (median ${median} ms)`);
    assert.ok(median < 500, `deploy → ready with a stored sign-in took ${median} ms (target < 500 ms)`);
  });

  it('diaspora-out over HTTPS and over Kafka write the same value and key bytes, read by a Kafka-mode diaspora-in', async function () {
    const topic = uniqueTopic('https-out');
    const { flow, credentials } = flowWith([...outNode('out-https', 'cfg-https', topic), ...outNode('out-kafka', 'cfg-kafka', topic), ...inNode('in-kafka', 'cfg-kafka', topic)], true);
    await helper.load(NODES, flow, credentials);
    await registered(topic);
    await config('cfg-kafka').session.whenReady(WITHIN_MS);
    const acked = { https: new Sink(helper, 'out-https-out'), kafka: new Sink(helper, 'out-kafka-out') };
    const got = new Sink(helper, 'in-kafka-out');
    const caught = new Sink(helper, 'caught');
    for (const via of ['https', 'kafka'] as const) {
      for (const sample of SAMPLES) inject(helper, `out-${via}`, { ...sample, tag: `${via}-${String(sample.tag)}` });
    }
    for (const via of ['https', 'kafka'] as const) {
      for (const sample of SAMPLES) {
        const tag = `${via}-${String(sample.tag)}`;
        const ack = await eventually(`${tag} acknowledged (caught: ${caught.messages.map((m) => m.error?.message).join('; ')})`, () => acked[via].tagged(tag), WITHIN_MS);
        const meta = ack.diaspora as { topic: string; partition: number; offset: string; timestamp: number };
        assert.deepEqual(Object.keys(meta).sort(), ['offset', 'partition', 'timestamp', 'topic']);
        assert.equal(meta.topic, config('cfg-https').kafkaTopic(topic), 'the Kafka name, as in Kafka mode');
        assert.equal(meta.partition, 0);
        assert.match(meta.offset, /^\d+$/);
        assert.ok(Number.isFinite(meta.timestamp) && meta.timestamp > Date.now() - 120_000, `timestamp ${meta.timestamp}`);
      }
    }
    await eventually('every event read back', () => (got.messages.length >= SAMPLES.length * 2 ? true : undefined), WITHIN_MS);
    const byOffset = (via: 'https' | 'kafka', tag: string): Msg => {
      const offset = (acked[via].tagged(`${via}-${tag}`)?.diaspora as { offset: string }).offset;
      const found = got.messages.find((m) => m.offset === offset);
      assert.ok(found, `${via} ${tag} at offset ${offset} read back`);
      return found;
    };
    for (const sample of SAMPLES) {
      const tag = String(sample.tag);
      const overHttps = byOffset('https', tag);
      const overKafka = byOffset('kafka', tag);
      assert.deepEqual(overHttps.payload, overKafka.payload, `${tag}: the same value bytes`);
      assert.deepEqual(overHttps.key, overKafka.key, `${tag}: the same key`);
      assert.deepEqual(overHttps.headers, overKafka.headers, `${tag}: the same headers`);
    }
    // An object is written as Python's json.dumps writes it, whichever the transport (not the service's compact JSON).
    assert.equal((byOffset('https', 'object').payload as Buffer).toString('utf8'), '{"step": 1, "loss": 0.52, "tags": ["a", "\\u00e9"]}');
    assert.deepEqual(caught.messages, []);
  });

  it('diaspora-in over HTTPS reads what Kafka-mode diaspora-out wrote, with the same bytes, decoded by its format', async function () {
    const topic = uniqueTopic('https-in');
    const { flow, credentials } = flowWith([...outNode('out-kafka', 'cfg-kafka', topic), ...inNode('in-bytes', 'cfg-https', topic), ...inNode('in-auto', 'cfg-https', topic, 'auto')], true);
    await helper.load(NODES, flow, credentials);
    await registered(topic);
    await config('cfg-kafka').session.whenReady(WITHIN_MS);
    const acked = new Sink(helper, 'out-kafka-out');
    const bytes = new Sink(helper, 'in-bytes-out');
    const auto = new Sink(helper, 'in-auto-out');
    for (const sample of SAMPLES) inject(helper, 'out-kafka', sample);
    await eventually('all acknowledged', () => (acked.messages.length === SAMPLES.length ? true : undefined), WITHIN_MS);
    await eventually('all read over HTTPS', () => (bytes.messages.length >= SAMPLES.length && auto.messages.length >= SAMPLES.length ? true : undefined), WITHIN_MS);
    const at = (sink: Sink, tag: string): Msg => {
      const offset = (acked.tagged(tag)?.diaspora as { offset: string }).offset;
      const found = sink.messages.find((m) => m.offset === offset);
      assert.ok(found, `${tag} read`);
      return found;
    };
    assert.equal((at(bytes, 'object').payload as Buffer).toString('utf8'), '{"step": 1, "loss": 0.52, "tags": ["a", "\\u00e9"]}');
    assert.deepEqual(at(auto, 'object').payload, { step: 1, loss: 0.52, tags: ['a', 'é'] });
    assert.equal(at(auto, 'text').payload, 'done');
    assert.equal(at(auto, 'object').key, 'job-42');
    assert.deepEqual(at(bytes, 'bytes').payload, Buffer.from([0xff, 0x00, 0x7f]));
    assert.deepEqual(at(bytes, 'bytes').key, Buffer.from([0x01, 0xfe]));
    assert.deepEqual(at(auto, 'headers').headers, { trace: '\u0000\u0001', who: 'node-red' });
    assert.equal(at(auto, 'headers').topic, topic);
  });

  it('a refused event ends in done(err) with the service\'s code and message', async function () {
    const topic = uniqueTopic('https-unregistered');
    const { flow, credentials } = flowWith(outNode('out-https', 'cfg-https', topic));
    await helper.load(NODES, flow, credentials);
    await config('cfg-https').session.whenReady(WITHIN_MS);
    const caught = new Sink(helper, 'caught');
    inject(helper, 'out-https', { tag: 'x', payload: 1 });
    const failure = await caught.next('x', WITHIN_MS);
    assert.match(failure.error?.message ?? '', /\(404\d\d: .+\)/, failure.error?.message);
  });

  it('spool mode over HTTPS: the service unreachable, then answering 503: events spooled, removed only once the service took them, all sent in order', async function () {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'h5-https-spool-'));
    helper.settings({ userDir });
    let proxy: Proxy | undefined = await tcpProxy(fabric.serviceUrl);
    const control = fabricControl(fabric);
    try {
      const topic = uniqueTopic('https-spool');
      const out: FlowNode = { id: 'spooler', type: 'diaspora-out', z: TAB, fabric: 'cfg-https', topic, key: 'one-partition', mode: 'ack', acks: 'all', compression: 'none', whenNotReady: 'spool', spoolSizeMB: 10, wires: [['spooler-out']] };
      const { flow, credentials } = flowWith([out, sinkNode('spooler-out'), completeNode('done', 'completed', ['spooler']), sinkNode('completed')]);
      const cfgNode = flow.find((n) => n.id === 'cfg-https')!;
      cfgNode.serviceUrl = proxy.url;
      await helper.load(NODES, flow, credentials);
      await registered(topic);
      const cfg = config('cfg-https');
      const acked = new Sink(helper, 'spooler-out');
      const completed = new Sink(helper, 'completed');
      const caught = new Sink(helper, 'caught');
      const send = (seq: number): void => inject(helper, 'spooler', { tag: `s-${seq}`, payload: { seq } });
      const spooled = (): number => spoolRecords(userDir, 'spooler');

      // Ready: straight to the service, acknowledged with where it was written; the spool stays empty.
      for (let seq = 0; seq < 5; seq++) send(seq);
      for (let seq = 0; seq < 5; seq++) await acked.next(`s-${seq}`, WITHIN_MS);
      assert.equal(spooled(), 0);

      const port = Number(new URL(proxy.url).port);
      await proxy.close();
      proxy = undefined;
      await eventually('the session to notice the service is unreachable', () => (cfg.session.state.state !== 'ready' ? cfg.session.state : undefined), WITHIN_MS);
      const SPOOLED = 100;
      for (let seq = 5; seq < 5 + SPOOLED; seq++) send(seq);
      for (let seq = 5; seq < 5 + SPOOLED; seq++) await completed.next(`s-${seq}`, WITHIN_MS);
      assert.equal(spooled(), SPOOLED, 'every done() came after its event was on disk');
      assert.equal(acked.messages.length, 5, 'a spooled event is not acknowledged: the service has not seen it');

      // The service answers again but refuses produce requests (503) for a while: nothing leaves the spool.
      await control.refuseProduce({ status: 503, requests: 6 });
      proxy = await tcpProxy(fabric.serviceUrl, port);
      await eventually('the service to refuse the drain', async () => ((await control.producesRefused()) > 0 ? true : undefined), WITHIN_MS);
      assert.equal(spooled(), SPOOLED, 'refused by the service: still in the spool');
      await eventually(`the spool to empty (${spooled()} left)`, () => (spooled() === 0 ? true : undefined), 60_000);
      assert.ok((await control.producesRefused()) >= 2, 'the drain went on after the refusals');

      const onTopic = (await readTopic(kafka, cfg.kafkaTopic(topic))).map((v) => (JSON.parse(v) as { seq: number }).seq);
      assert.deepEqual(onTopic, Array.from({ length: 5 + SPOOLED }, (_, i) => i), 'every event once, in the order it came in');
      assert.deepEqual(caught.messages.map((m) => m.error?.message), []);
    } finally {
      await control.refuseProduce({ status: null });
      await proxy?.close();
      await helper.unload();
      helper.settings({ userDir: undefined });
      fs.rmSync(userDir, { recursive: true, force: true });
    }
  });

  it('after the service dropped every instance (a redeploy of the service): consuming goes on, nothing is lost or handed on twice', async function () {
    const topic = uniqueTopic('https-drop');
    const { flow, credentials } = flowWith([...outNode('out-https', 'cfg-https', topic), ...inNode('in-https', 'cfg-https', topic, 'auto')]);
    await helper.load(NODES, flow, credentials);
    await registered(topic);
    const got = new Sink(helper, 'in-https-out');
    for (let i = 0; i < 20; i++) inject(helper, 'out-https', { payload: { seq: i } });
    await eventually('the first 20', () => (got.messages.length >= 20 ? true : undefined), WITHIN_MS);
    await instances(fabric, true);
    for (let i = 20; i < 40; i++) inject(helper, 'out-https', { payload: { seq: i } });
    await eventually('all 40', () => (got.messages.length >= 40 ? true : undefined), WITHIN_MS);
    await sleep(1000);
    const seqs = got.messages.map((m) => (m.payload as { seq: number }).seq);
    assert.deepEqual(seqs, Array.from({ length: 40 }, (_, i) => i), 'every event once, in order');
    const stats = config('cfg-https').session.connections?.stats() as { instancesCreated?: number; redelivered?: number };
    assert.ok((stats.instancesCreated ?? 0) >= 2, `the instance was created again (${JSON.stringify(stats)})`);
    console.log(`      instances created: ${stats.instancesCreated}; events that came a second time (skipped): ${stats.redelivered}`);
  });

  it('the fifth HTTPS consumer of one identity shows a red status naming the limit of 4', async function () {
    const topic = uniqueTopic('https-limit');
    const nodes = [1, 2, 3, 4, 5].flatMap((n) => inNode(`in-${n}`, 'cfg-https', topic, 'auto', 'latest'));
    const { flow, credentials } = flowWith(nodes);
    await helper.load(NODES, flow, credentials);
    const seen = [1, 2, 3, 4, 5].map((n) => statuses(`in-${n}`));
    await registered(topic);
    const limited = await eventually(
      'one node to show the limit',
      () => seen.flat().find((s) => s.fill === 'red' && /^4 consumers max$/.test(String(s.text))),
      WITHIN_MS,
    );
    assert.equal(limited.fill, 'red');
    const held = (await instances(fabric)).length;
    assert.ok(held <= 4, `${held} instances`);
  });

  it('100 redeploys leave at most one instance per diaspora-in node on the service', async function () {
    this.timeout(600_000);
    const topic = uniqueTopic('https-redeploy');
    const { flow, credentials } = flowWith(inNode('in-https', 'cfg-https', topic, 'auto', 'latest'));
    await helper.load(NODES, flow, credentials);
    await registered(topic);
    const mine = async (): Promise<Instance[]> => (await instances(fabric)).filter((i) => i.name.includes('in-https'));
    await eventually('the instance', async () => ((await mine()).length === 1 ? true : undefined), WITHIN_MS);
    let most = 0;
    for (let round = 0; round < 100; round++) {
      await helper.setFlows(flow, 'full', credentials);
      if (round % 10 === 9) most = Math.max(most, (await mine()).length);
    }
    await sleep(2000);
    const after = await mine();
    console.log(`      after 100 redeploys: ${after.length} instance(s) of the node; most seen between redeploys: ${most}`);
    assert.ok(after.length <= 1, JSON.stringify(after));
    assert.ok(most <= 1, `at most one instance between redeploys, saw ${most}`);
  });
});

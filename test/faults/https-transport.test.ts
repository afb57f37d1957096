/**
 * Faults of the HTTPS transport, against the fault fabric's service emulator and broker:
 * - the service drops every consumer instance (what its redeploy or restart does) while events are
 *   produced and consumed: nothing is lost; what came twice is counted;
 * - a 429 storm (the service admits no produce request for a while, with Retry-After): every
 *   event is written once, after the storm;
 * - the service unreachable for 30 s in queue mode (a proxy in front of it closed and reopened on
 *   the same port): nothing is lost.
 */
import assert from 'node:assert/strict';
import diasporaConfig = require('../../nodes/diaspora-config/diaspora-config');
import diasporaOut = require('../../nodes/diaspora-out/diaspora-out');
import diasporaIn = require('../../nodes/diaspora-in/diaspora-in');
import { readFabricSecrets } from '../../fabric/fabric';
import { eventually, nodeRedHelper, sleep, type FlowNode, type NodeModule } from '../fixtures/node-red';
import { catchNode, inject, Sink, sinkNode, tab, type Msg } from '../nodes/flow-support';
import { faultFabric, type FaultFabric } from './support/fault-fabric';
import { configOf, faultConfig, faultTopic, inNode, outNode, readTopic, recordStatuses, registerTopic, statusSequence } from './support/flows';
import { tcpProxy, type Proxy } from './support/proxies';
import { countSequences, recordResult, seqOf } from './support/results';

const helper = nodeRedHelper();
const NODES: NodeModule[] = [diasporaConfig as NodeModule, diasporaOut as NodeModule, diasporaIn as NodeModule];

describe('faults: the HTTPS transport', function () {
  this.timeout(180_000);
  let fabric: FaultFabric;
  let proxy: Proxy | undefined;

  before(async function () {
    this.timeout(180_000);
    fabric = await faultFabric();
  });

  afterEach(async function () {
    await helper.unload();
    await proxy?.close();
    proxy = undefined;
  });

  async function control(method: 'GET' | 'POST' | 'DELETE', route: string, body?: object): Promise<unknown> {
    const authorization = `Basic ${Buffer.from(`admin:${readFabricSecrets(fabric.dir).adminPassword}`).toString('base64')}`;
    const response = await fetch(`${fabric.description.serviceUrl}/_fabric/${route}`, {
      method,
      headers: { authorization, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    assert.ok(response.ok, `/_fabric/${route} answered ${response.status}: ${text}`);
    return JSON.parse(text) as unknown;
  }

  function flowWith(extra: Record<string, unknown> = {}, withIn = true): { flow: FlowNode[]; credentials: Record<string, object> } {
    const config = faultConfig('cfg', fabric.description, 'v3', fabric.description.clients[1], { transport: 'https', ...extra });
    return {
      flow: [
        tab(),
        config.node,
        outNode('pub', 'cfg', {}, [['acked']]),
        ...(withIn ? [inNode('sub', 'cfg', '', {}, [['got']])] : []),
        sinkNode('acked'),
        sinkNode('got'),
        sinkNode('caught'),
        catchNode('catch', 'caught'),
      ],
      credentials: config.credentials,
    };
  }

  /** Sends events seq from..from+count-1 at `perTick` per 20 ms. */
  async function publish(topic: string, from: number, count: number, perTick = 10): Promise<void> {
    for (let seq = from; seq < from + count; seq++) {
      inject(helper, 'pub', { tag: `p${seq}`, topic, payload: { seq } });
      if ((seq - from) % perTick === perTick - 1) await sleep(20);
    }
  }

  function flowSeqs(got: Sink): number[] {
    return got.messages.map((m: Msg) => (m.payload as { seq?: number }).seq ?? -1);
  }

  it('the service drops every consumer instance twice mid-stream: nothing lost, what came twice counted', async function () {
    const topic = faultTopic('https-drop');
    const { flow, credentials } = flowWith();
    flow.find((n) => n.id === 'sub')!.topics = topic;
    await helper.load(NODES, flow, credentials);
    const cfg = configOf(helper, 'cfg');
    await cfg.session.whenReady(30_000);
    const kafkaTopic = await registerTopic(cfg, topic);
    const got = new Sink(helper, 'got');
    const caught = new Sink(helper, 'caught');
    const SENT = 600;
    const sending = publish(topic, 0, SENT);
    await eventually('the first events consumed', () => (got.messages.length >= 100 ? true : undefined), 30_000);
    const droppedAt = Date.now();
    await control('DELETE', 'consumers');
    await sleep(500);
    await control('DELETE', 'consumers');
    await sending;
    await eventually(`all ${SENT} consumed (${got.messages.length} so far; caught: ${caught.messages.length})`, () => (new Set(flowSeqs(got)).size >= SENT ? true : undefined), 60_000);
    const recoveredMs = Date.now() - droppedAt;
    const inFlow = countSequences(SENT, flowSeqs(got));
    const onTopic = countSequences(SENT, (await readTopic(fabric.adminKafka('h10-https-drop-reader'), kafkaTopic)).map(seqOf));
    const stats = cfg.session.connections?.stats() as { instancesCreated?: number; redelivered?: number };
    recordResult({
      scenario: 'HTTPS: the service drops every consumer instance twice mid-stream',
      sent: SENT,
      received: inFlow.received,
      lost: inFlow.lost.length,
      duplicated: inFlow.duplicated,
      recoverMs: recoveredMs,
      notes: `instances created ${stats.instancesCreated}, events fetched a second time and skipped ${stats.redelivered}; on the topic: ${onTopic.received} distinct, ${onTopic.duplicated} duplicated; caught ${caught.messages.length}`,
    });
    assert.deepEqual(inFlow.lost, []);
    assert.deepEqual(onTopic.lost, []);
    assert.equal(onTopic.duplicated, 0, 'produce is not retried where it could duplicate');
    assert.ok((stats.instancesCreated ?? 0) >= 2, JSON.stringify(stats));
  });

  it('a 429 storm (Retry-After 1 s, for 6 s): every event written once, after the storm', async function () {
    const topic = faultTopic('https-429');
    const { flow, credentials } = flowWith({}, false);
    await helper.load(NODES, flow, credentials);
    const cfg = configOf(helper, 'cfg');
    await cfg.session.whenReady(30_000);
    const kafkaTopic = await registerTopic(cfg, topic);
    const acked = new Sink(helper, 'acked');
    const caught = new Sink(helper, 'caught');
    await control('POST', 'produce-refusal', { status: 429, forMs: 6_000, retryAfterSeconds: 1 });
    const started = Date.now();
    const SENT = 300;
    await publish(topic, 0, SENT);
    await eventually(`all ${SENT} acknowledged (caught ${caught.messages.length})`, () => (acked.messages.length + caught.messages.length >= SENT ? true : undefined), 60_000);
    const refused = ((await control('GET', 'produce-refusal')) as { refused?: number }).refused;
    const onTopic = countSequences(SENT, (await readTopic(fabric.adminKafka('h10-https-429-reader'), kafkaTopic)).map(seqOf));
    recordResult({
      scenario: 'HTTPS: a 429 storm (Retry-After 1 s, 6 s long)',
      sent: SENT,
      received: onTopic.received,
      lost: onTopic.lost.length,
      duplicated: onTopic.duplicated,
      recoverMs: Date.now() - started,
      notes: `${refused} requests answered 429; acknowledged ${acked.messages.length}, caught ${caught.messages.length}`,
    });
    assert.deepEqual(caught.messages.map((m) => m.error?.message), []);
    assert.deepEqual(onTopic.lost, []);
    assert.equal(onTopic.duplicated, 0);
  });

  it('the service unreachable for 30 s in queue mode: every event queued and written once it answers', async function () {
    const topic = faultTopic('https-down');
    proxy = await tcpProxy(fabric.description.serviceUrl);
    const { flow, credentials } = flowWith({ serviceUrl: proxy.url }, false);
    await helper.load(NODES, flow, credentials);
    const cfg = configOf(helper, 'cfg');
    await cfg.session.whenReady(30_000);
    const kafkaTopic = await registerTopic(cfg, topic);
    const acked = new Sink(helper, 'acked');
    const caught = new Sink(helper, 'caught');
    const statuses = recordStatuses(helper, 'pub');
    await publish(topic, 0, 50);
    await eventually('the first 50 acknowledged', () => (acked.messages.length >= 50 ? true : undefined), 30_000);
    await proxy.close();
    const downAt = Date.now();
    await publish(topic, 50, 100, 5);
    await sleep(Math.max(0, 30_000 - (Date.now() - downAt)));
    assert.equal(acked.messages.length, 50, 'nothing acknowledged while the service is down');
    proxy = await tcpProxy(fabric.description.serviceUrl, Number(new URL(proxy.url).port));
    const upAt = Date.now();
    await eventually(`all 150 acknowledged (caught ${caught.messages.length})`, () => (acked.messages.length + caught.messages.length >= 150 ? true : undefined), 60_000);
    const recoverMs = Date.now() - upAt;
    const onTopic = countSequences(150, (await readTopic(fabric.adminKafka('h10-https-down-reader'), kafkaTopic)).map(seqOf));
    const shown = statusSequence(statuses);
    recordResult({
      scenario: 'HTTPS: the service unreachable for 30 s (queue mode)',
      sent: 150,
      received: onTopic.received,
      lost: onTopic.lost.length,
      duplicated: onTopic.duplicated,
      recoverMs,
      notes: `out status: ${shown.join(' → ')}`,
    });
    assert.deepEqual(caught.messages.map((m) => m.error?.message), []);
    assert.deepEqual(onTopic.lost, []);
    assert.equal(onTopic.duplicated, 0);
    assert.ok(shown.some((s) => s.startsWith('red:service-unreachable')), `the outage showed: ${shown.join(' → ')}`);
  });
});

/**
 * `diaspora-topic` on the real Node-RED runtime against the running local fabric (real Globus
 * Auth emulator, real Diaspora service emulator, real Kafka broker): the seed's register_topic /
 * list_topics / unregister_topic as a flow, and every refusal reaching a Catch node.
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import diasporaConfig = require('../../nodes/diaspora-config/diaspora-config');
import diasporaTopic = require('../../nodes/diaspora-topic/diaspora-topic');
import type { FabricDescription } from '../../fabric/contract';
import { readFabricSecrets } from '../../fabric/fabric';
import { loadFabric } from '../fixtures/fabric';
import { fabricControl } from '../fixtures/fabric-control';
import { closedPort, nodeRedHelper, type FlowNode, type NodeModule } from '../fixtures/node-red';
import { catchNode, configNode, inject, outcome, Sink, sinkNode, tab, uniqueTopic, type Api, type Msg, type Outcome } from './flow-support';

const helper = nodeRedHelper();
const NODES: NodeModule[] = [diasporaConfig as NodeModule, diasporaTopic as NodeModule];

interface TopicPayload {
  status: string;
  message: string;
  topics?: string[];
}

describe('diaspora-topic on the real Node-RED runtime and the local fabric', function () {
  this.timeout(60_000);
  let fabric: FabricDescription;
  let counter = 0;

  before(function () {
    fabric = loadFabric();
  });

  afterEach(async function () {
    await helper.unload();
  });

  /** A flow: config node(s) → one diaspora-topic node per config, all outputs to `out`, a Catch to `caught`. */
  async function deploy(
    configs: Array<{ id: string; api: Api; client: number; extra?: Record<string, unknown> }>,
    topicProps: Record<string, unknown> = {},
  ): Promise<{ out: Sink; caught: Sink }> {
    const flow: FlowNode[] = [tab(), sinkNode('out'), sinkNode('caught'), catchNode('catch', 'caught')];
    let credentials: Record<string, object> = {};
    for (const c of configs) {
      const config = configNode(c.id, fabric, c.api, fabric.clients[c.client], c.extra);
      flow.push(config.node, { id: `topic-${c.id}`, type: 'diaspora-topic', z: 'h5-tab', x: 0, y: 0, fabric: c.id, action: 'msg', topic: '', ...topicProps, wires: [['out']] });
      credentials = { ...credentials, ...config.credentials };
    }
    await helper.load(NODES, flow, credentials);
    return { out: new Sink(helper, 'out'), caught: new Sink(helper, 'caught') };
  }

  /** Sends `msg` to the topic node of `configId` and waits for its output or its error. */
  async function ask(sinks: { out: Sink; caught: Sink }, configId: string, msg: Msg, timeoutMs = 20_000): Promise<Outcome> {
    const tag = `m${++counter}`;
    inject(helper, `topic-${configId}`, { ...msg, tag });
    return outcome(sinks.out, sinks.caught, tag, timeoutMs);
  }

  async function succeeds(sinks: { out: Sink; caught: Sink }, configId: string, msg: Msg): Promise<TopicPayload> {
    const result = await ask(sinks, configId, msg);
    assert.ok(result.ok, `expected success, but Catch got: ${result.error?.error?.message}`);
    return result.ok.payload as TopicPayload;
  }

  async function fails(sinks: { out: Sink; caught: Sink }, configId: string, msg: Msg, timeoutMs?: number): Promise<string> {
    const result = await ask(sinks, configId, msg, timeoutMs);
    assert.ok(result.error, `expected a Catch, but the node sent ${JSON.stringify(result.ok?.payload)}`);
    const error = result.error.error;
    assert.equal(error?.source?.id, `topic-${configId}`);
    return error?.message ?? '';
  }

  for (const api of ['v1', 'v3'] as const) {
    it(`${api}: register → list contains the topic → unregister → list does not`, async function () {
      const sinks = await deploy([{ id: `cfg-${api}`, api, client: 0 }]);
      const cfg = `cfg-${api}`;
      const topic = uniqueTopic(api);

      const registered = await succeeds(sinks, cfg, { action: 'register', topic });
      assert.equal(registered.status, 'success', registered.message);
      assert.equal(typeof registered.message, 'string');
      assert.ok(registered.message.length > 0);

      const again = await succeeds(sinks, cfg, { action: 'register', topic });
      assert.ok(['success', 'no-op'].includes(again.status), `second register: ${again.status} ${again.message}`);
      if (api === 'v1') assert.equal(again.status, 'no-op');

      const listed = await succeeds(sinks, cfg, { action: 'list' });
      assert.equal(listed.status, 'success');
      assert.ok(Array.isArray(listed.topics), 'list gives topics');
      assert.ok(listed.topics.includes(topic), `${topic} in ${JSON.stringify(listed.topics)}`);
      if (api === 'v3') {
        assert.ok(!listed.topics.some((t) => t.startsWith('ns-')), `v3 lists the short names: ${JSON.stringify(listed.topics)}`);
      }

      const unregistered = await succeeds(sinks, cfg, { action: 'unregister', topic });
      assert.equal(unregistered.status, 'success', unregistered.message);

      const after = await succeeds(sinks, cfg, { action: 'list' });
      assert.ok(!after.topics?.includes(topic), `${topic} still listed: ${JSON.stringify(after.topics)}`);
    });
  }

  it('passes msg.topic on and takes the node\'s own action and topic over msg', async function () {
    const topic = uniqueTopic('fixed');
    const flow: FlowNode[] = [tab(), sinkNode('out'), sinkNode('caught'), catchNode('catch', 'caught')];
    const config = configNode('cfg-fixed', fabric, 'v1', fabric.clients[0]);
    flow.push(
      config.node,
      { id: 'topic-reg', type: 'diaspora-topic', z: 'h5-tab', x: 0, y: 0, fabric: 'cfg-fixed', action: 'register', topic, wires: [['out']] },
      { id: 'topic-unreg', type: 'diaspora-topic', z: 'h5-tab', x: 0, y: 0, fabric: 'cfg-fixed', action: 'unregister', topic: '', wires: [['out']] },
    );
    await helper.load(NODES, flow, config.credentials);
    const sinks = { out: new Sink(helper, 'out'), caught: new Sink(helper, 'caught') };

    inject(helper, 'topic-reg', { tag: 'reg', action: 'list', topic: 'ignored-topic' });
    const reg = await outcome(sinks.out, sinks.caught, 'reg');
    assert.ok(reg.ok, reg.error?.error?.message);
    assert.equal((reg.ok.payload as TopicPayload).status, 'success');
    assert.equal(reg.ok.topic, topic, 'msg.topic carries the registered topic on');

    // The registered msg goes on to an unregister node that takes msg.topic.
    inject(helper, 'topic-unreg', { tag: 'unreg', topic });
    const unreg = await outcome(sinks.out, sinks.caught, 'unreg');
    assert.ok(unreg.ok, unreg.error?.error?.message);
    assert.equal((unreg.ok.payload as TopicPayload).status, 'success');
  });

  it('v1: a second identity registering the first one\'s topic reaches Catch with the service\'s reason', async function () {
    const sinks = await deploy([
      { id: 'owner', api: 'v1', client: 0 },
      { id: 'other', api: 'v1', client: 1 },
    ]);
    const topic = uniqueTopic('owned');
    const registered = await succeeds(sinks, 'owner', { action: 'register', topic });
    assert.equal(registered.status, 'success');
    try {
      const message = await fails(sinks, 'other', { action: 'register', topic });
      assert.match(message, /Topic already has ACLs\./);
      assert.match(message, new RegExp(topic));
      const theirs = await succeeds(sinks, 'other', { action: 'list' });
      assert.ok(!theirs.topics?.includes(topic), 'the refused identity does not get the topic');
    } finally {
      await succeeds(sinks, 'owner', { action: 'unregister', topic });
    }
  });

  it('v3: an invalid topic name reaches Catch with the documented failure message', async function () {
    const sinks = await deploy([{ id: 'cfg-v3', api: 'v3', client: 0 }]);
    assert.match(await fails(sinks, 'cfg-v3', { action: 'register', topic: '-h5-bad' }), /Name cannot start or end with hyphen or underscore/);
    assert.match(await fails(sinks, 'cfg-v3', { action: 'register', topic: 'ab' }), /Name must be between 3 and 32 characters/);
    assert.match(await fails(sinks, 'cfg-v3', { action: 'register', topic: 'h5-no+plus' }), /Name can only contain letters, numbers, dash, and underscore/);
  });

  it('bad input (unknown msg.action, no topic) reaches Catch with what to set', async function () {
    const sinks = await deploy([{ id: 'cfg-bad', api: 'v1', client: 0 }]);
    assert.match(await fails(sinks, 'cfg-bad', { action: 'delete', topic: 'h5-x' }), /msg\.action is delete: set it to "register", "unregister" or "list"/);
    assert.match(await fails(sinks, 'cfg-bad', { topic: 'h5-x' }), /msg\.action is \(missing\)/);
    assert.match(await fails(sinks, 'cfg-bad', { action: 'register' }), /no topic: set the topic on the node or in msg\.topic/);
    assert.match(await fails(sinks, 'cfg-bad', { action: 'register', topic: 'has space' }), /contains spaces/);
  });

  it('a revoked sign-in reaches Catch with the service\'s reason', async function () {
    const sinks = await deploy([{ id: 'cfg-revoked', api: 'v3', client: 1 }]);
    // Make sure the identity exists before revoking its tokens.
    await succeeds(sinks, 'cfg-revoked', { action: 'list' });
    await fabricControl(fabric).revokeAll(fabric.clients[1].sub);
    const message = await fails(sinks, 'cfg-revoked', { action: 'list' });
    assert.match(message, /Token is inactive/);
  });

  it('a service that cannot be reached reaches Catch with the URL and a hint', async function () {
    const port = await closedPort();
    const sinks = await deploy([{ id: 'cfg-down', api: 'v1', client: 0, extra: { serviceUrl: `http://127.0.0.1:${port}` } }]);
    const message = await fails(sinks, 'cfg-down', { action: 'list' });
    assert.match(message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.match(message, /ECONNREFUSED/);
    assert.match(message, /check the service URL/);
  });

  it('a web server that is not the Diaspora service (HTML) reaches Catch', async function () {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!DOCTYPE html><html><body>Welcome to nginx</body></html>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const sinks = await deploy([{ id: 'cfg-html', api: 'v3', client: 0, extra: { serviceUrl: `http://127.0.0.1:${port}` } }]);
      const message = await fails(sinks, 'cfg-html', { action: 'register', topic: 'h5-html' });
      assert.match(message, /HTML page instead of JSON/);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  describe('with the service emulator misbehaving on purpose', function () {
    const setFail = async (mode: 'none' | 'html' | '500' | 'slow', delayMs?: number): Promise<void> => {
      const authorization = `Basic ${Buffer.from(`admin:${readFabricSecrets().adminPassword}`).toString('base64')}`;
      const res = await fetch(`${fabric.serviceUrl}/_fabric/fail`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ mode, ...(delayMs !== undefined ? { delayMs } : {}) }),
      });
      assert.equal(res.status, 200, await res.text());
    };

    afterEach(async function () {
      await setFail('none');
    });

    it('HTTP 500 reaches Catch', async function () {
      const sinks = await deploy([{ id: 'cfg-500', api: 'v1', client: 0 }]);
      await succeeds(sinks, 'cfg-500', { action: 'list' });
      await setFail('500');
      const message = await fails(sinks, 'cfg-500', { action: 'list' });
      assert.match(message, /HTTP 500/);
    });

    it('a service slower than the request timeout reaches Catch', async function () {
      this.timeout(45_000);
      const sinks = await deploy([{ id: 'cfg-slow', api: 'v1', client: 0 }]);
      await succeeds(sinks, 'cfg-slow', { action: 'list' });
      await setFail('slow', 20_000);
      const started = Date.now();
      const message = await fails(sinks, 'cfg-slow', { action: 'list' }, 30_000);
      assert.match(message, /did not answer within/);
      assert.ok(Date.now() - started < 25_000);
    });
  });
});

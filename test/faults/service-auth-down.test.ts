/**
 * Fault 4: the Diaspora service is down, or Globus Auth cannot be reached. The emulators daemon
 * serves both, so the config node reaches each through a proxy that the test closes (connection
 * refused, as a stopped server gives):
 * - service down: diaspora-topic fails with a clear error; producing with the stored key goes on,
 *   also after a redeploy while the service is still down;
 * - Globus Auth unreachable: the cached access token is used until it expires (tokens made to live
 *   15 s here), then diaspora-topic fails with a clear error and a red status; producing goes on.
 */
import assert from 'node:assert/strict';
import diasporaConfig = require('../../nodes/diaspora-config/diaspora-config');
import diasporaOut = require('../../nodes/diaspora-out/diaspora-out');
import diasporaTopic = require('../../nodes/diaspora-topic/diaspora-topic');
import { DIASPORA_RESOURCE_SERVER } from '../../lib/globus/constants';
import { eventually, nodeRedHelper, sleep, type FlowNode, type NodeModule } from '../fixtures/node-red';
import { catchNode, inject, Sink, sinkNode, tab, type Msg } from '../nodes/flow-support';
import { faultFabric, type FaultFabric } from './support/fault-fabric';
import { configOf, faultConfig, faultTopic, outNode, readTopic, readyAndConnected, recordStatuses, statusSequence, topicNode } from './support/flows';
import { tcpProxy, oidcProxy, type Proxy } from './support/proxies';
import { countSequences, recordResult, seqOf } from './support/results';

const helper = nodeRedHelper();
const NODES: NodeModule[] = [diasporaConfig as NodeModule, diasporaOut as NodeModule, diasporaTopic as NodeModule];
const TOKEN_TTL_S = 15;

describe('faults: the Diaspora service down, Globus Auth unreachable', function () {
  this.timeout(120_000);
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

  function flowWith(config: ReturnType<typeof faultConfig>): FlowNode[] {
    return [
      tab(),
      config.node,
      topicNode('topics', 'cfg', { action: 'msg' }, [['answered']]),
      outNode('pub', 'cfg', {}, [['acked']]),
      sinkNode('answered'),
      sinkNode('acked'),
      sinkNode('caught'),
      catchNode('catch', 'caught'),
    ];
  }

  interface Running {
    answered: Sink;
    acked: Sink;
    caught: Sink;
  }

  function sinks(): Running {
    return { answered: new Sink(helper, 'answered'), acked: new Sink(helper, 'acked'), caught: new Sink(helper, 'caught') };
  }

  /** Sends `count` numbered events through diaspora-out and waits for every acknowledgement. */
  async function publish(run: Running, topic: string, from: number, count: number): Promise<void> {
    for (let seq = from; seq < from + count; seq++) inject(helper, 'pub', { tag: `p${seq}`, topic, payload: { seq } });
    for (let seq = from; seq < from + count; seq++) {
      const tag = `p${seq}`;
      const outcome = await eventually(`${tag} to end`, () => run.acked.tagged(tag) ?? run.caught.tagged(tag), 30_000, 20);
      assert.equal(outcome.error, undefined, `${tag}: ${outcome.error?.message}`);
    }
  }

  async function topicCall(run: Running, tag: string, msg: Msg): Promise<Msg> {
    inject(helper, 'topics', { ...msg, tag });
    return eventually(`${tag} to be answered or caught`, () => run.answered.tagged(tag) ?? run.caught.tagged(tag), 45_000, 20);
  }

  it('service down: diaspora-topic reaches Catch with a clear error; producing with the stored key goes on, even after a redeploy', async function () {
    proxy = await tcpProxy(fabric.description.serviceUrl);
    const config = faultConfig('cfg', fabric.description, 'v3', fabric.description.clients[1], { serviceUrl: proxy.url });
    const flow = flowWith(config);
    await helper.load(NODES, flow, config.credentials);
    let run = sinks();
    const cfg = configOf(helper, 'cfg');
    const topic = faultTopic('svcdown');
    const registered = await topicCall(run, 'register', { action: 'register', topic });
    assert.equal(registered.error, undefined, registered.error?.message);
    await readyAndConnected(cfg);
    await publish(run, topic, 0, 20);

    await proxy.close();
    const downAt = Date.now();
    const statuses = recordStatuses(helper, 'topics');
    const failed = await topicCall(run, 'list-down', { action: 'list' });
    const message = failed.error?.message ?? '';
    assert.ok(failed.error, 'listing topics with the service down reached Catch');
    assert.match(message, new RegExp(proxy.url.replace(/[.]/g, '\\.')), `the error names the service URL: ${message}`);
    assert.match(message, /reach|refused|unreachable/i, message);
    await eventually('the topic node to turn red', () => statuses.find((s) => s.fill === 'red'), 15_000);
    await publish(run, topic, 20, 50);

    // A redeploy (as a restart would) with the service still down: the stored key is enough.
    const stored = helper.credentials.get('cfg');
    assert.ok(stored?.secretKey, 'the key is stored');
    await helper.setFlows(flow, 'full', { cfg: stored as object });
    run = sinks();
    const restartedAt = Date.now();
    await readyAndConnected(configOf(helper, 'cfg'));
    const readyAfterMs = Date.now() - restartedAt;
    await publish(run, topic, 70, 30);
    const onTopic = countSequences(100, (await readTopic(fabric.adminKafka('h10-svcdown-reader'), cfg.kafkaTopic(topic))).map(seqOf));

    recordResult({
      scenario: 'Diaspora service down (proxy closed: connection refused)',
      sent: 100,
      received: onTopic.received,
      lost: onTopic.lost.length,
      duplicated: onTopic.duplicated,
      recoverMs: 'n/a (producing never stopped)',
      notes: `diaspora-topic → Catch: "${message.slice(0, 140)}"; redeploy with the service down: ready in ${(readyAfterMs / 1000).toFixed(1)} s with the stored key; ${(Date.now() - downAt) / 1000 | 0} s down`,
    });
    assert.deepEqual(onTopic.lost, []);
  });

  it('Globus Auth unreachable: the cached token is used until it expires, then diaspora-topic fails clearly; producing goes on', async function () {
    const control = fabric.control();
    const previousTtl = await control.setAccessTokenTtl(TOKEN_TTL_S);
    try {
      proxy = await oidcProxy(fabric.description.authUrl);
      const config = faultConfig('cfg', fabric.description, 'v3', fabric.description.clients[1], { authUrl: proxy.url });
      await helper.load(NODES, flowWith(config), config.credentials);
      const run = sinks();
      const cfg = configOf(helper, 'cfg');
      const topic = faultTopic('authdown');
      const registered = await topicCall(run, 'register', { action: 'register', topic });
      assert.equal(registered.error, undefined, registered.error?.message);
      await readyAndConnected(cfg);
      await publish(run, topic, 0, 10);

      await proxy.close();
      const downAt = Date.now();
      const statuses = recordStatuses(helper, 'topics');
      const bundle = JSON.parse(String(helper.credentials.get('cfg')?.tokens)) as { tokens: Record<string, { expiresAt: number }> };
      const expiresAt = bundle.tokens[DIASPORA_RESOURCE_SERVER].expiresAt;
      assert.ok(expiresAt > Date.now() + 2_000, 'the cached token has a few seconds left');

      const cached = await topicCall(run, 'list-cached', { action: 'list' });
      assert.equal(cached.error, undefined, `with a valid cached token: ${cached.error?.message}`);
      assert.ok(((cached.payload as { topics?: string[] }).topics ?? []).includes(topic));
      await publish(run, topic, 10, 20);

      await sleep(Math.max(0, expiresAt - Date.now()) + 500);
      const expired = await topicCall(run, 'list-expired', { action: 'list' });
      const message = expired.error?.message ?? '';
      assert.ok(expired.error, 'after the token expired, listing reached Catch');
      assert.match(message, /Globus Auth at http:\/\/127\.0\.0\.1:\d+ /, message);
      assert.match(message, /check the auth URL and the network/, message);
      await eventually('the topic node to turn red', () => statuses.find((s) => s.at >= expiresAt && s.fill === 'red'), 15_000);
      await publish(run, topic, 30, 20);
      const onTopic = countSequences(50, (await readTopic(fabric.adminKafka('h10-authdown-reader'), cfg.kafkaTopic(topic))).map(seqOf));

      recordResult({
        scenario: `Globus Auth unreachable (token lifetime ${TOKEN_TTL_S} s)`,
        sent: 50,
        received: onTopic.received,
        lost: onTopic.lost.length,
        duplicated: onTopic.duplicated,
        recoverMs: 'n/a (producing never stopped)',
        notes: `cached token used for ${((expiresAt - downAt) / 1000).toFixed(1)} s after Auth went down; then diaspora-topic → Catch: "${message.slice(0, 120)}"; topic status ${statusSequence(statuses).join(' → ')}`,
      });
      assert.deepEqual(onTopic.lost, []);
    } finally {
      await control.setAccessTokenTtl(previousTtl);
    }
  });
});

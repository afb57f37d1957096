/**
 * Fault 3: the key is rotated elsewhere (v1 create_key by another client of the same identity,
 * as a second Node-RED or the Python SDK would do). The nodes must notice the rejected key, show
 * it in red with a clear reason, not crash, follow the queue/fail policy for sends meanwhile, and
 * recover when the user chooses "new key" (admin route POST /diaspora/:id/newkey).
 */
import assert from 'node:assert/strict';
import diasporaConfig = require('../../nodes/diaspora-config/diaspora-config');
import diasporaIn = require('../../nodes/diaspora-in/diaspora-in');
import diasporaOut = require('../../nodes/diaspora-out/diaspora-out');
import diasporaTopic = require('../../nodes/diaspora-topic/diaspora-topic');
import { GlobusAuth, diasporaToken } from '../../lib/globus/auth';
import { createDiasporaService } from '../../lib/diaspora-service/service';
import type { SessionStateFields } from '../../lib/session/types';
import { eventually, nodeRedHelper, type FlowNode, type NodeModule } from '../fixtures/node-red';
import { catchNode, inject, Sink, sinkNode, tab } from '../nodes/flow-support';
import { faultFabric, type FaultFabric } from './support/fault-fabric';
import {
  configOf, faultConfig, faultTopic, inNode, outNode, readTopic, readyAndConnected, recordStatuses, registerTopic, statusSequence, topicNode, type StatusRecord,
} from './support/flows';
import { countSequences, recordResult, seqOf } from './support/results';
import { isConsuming } from '../fixtures/node-status';

const helper = nodeRedHelper();
const NODES: NodeModule[] = [diasporaConfig as NodeModule, diasporaOut as NodeModule, diasporaIn as NodeModule, diasporaTopic as NodeModule];

describe('faults: the key rotated elsewhere (v1 create_key by another client of the same identity)', function () {
  this.timeout(120_000);
  let fabric: FaultFabric;

  before(async function () {
    this.timeout(180_000);
    fabric = await faultFabric();
  });

  afterEach(async function () {
    await helper.unload();
  });

  /** What another client of the same identity does: its own token, then create_key (v1 rotates). */
  async function rotateElsewhere(): Promise<void> {
    const client = fabric.description.clients[0];
    const auth = new GlobusAuth({ authUrl: fabric.description.authUrl, clientId: client.clientId, clientSecret: client.clientSecret });
    const bundle = await auth.clientCredentials();
    const service = createDiasporaService({
      api: 'v1',
      serviceUrl: fabric.description.serviceUrl,
      subject: client.sub,
      accessToken: async () => diasporaToken(bundle).accessToken,
    });
    await service.createKey();
  }

  it('the nodes turn red (key rejected) without crashing, queue or fail sends by policy, and recover after "new key"', async function () {
    const topic = faultTopic('rotate');
    const config = faultConfig('cfg', fabric.description, 'v1', fabric.description.clients[0]);
    const flow: FlowNode[] = [
      tab(),
      config.node,
      outNode('pub', 'cfg', {}, [['acked']]),
      outNode('pub-fail', 'cfg', { whenNotReady: 'fail' }, [['acked']]),
      inNode('sub', 'cfg', topic, { groupId: `h10-rotate-${topic}` }, [['received']]),
      topicNode('lister', 'cfg', { action: 'list' }, [['listed']]),
      sinkNode('acked'),
      sinkNode('received'),
      sinkNode('listed'),
      sinkNode('caught'),
      catchNode('catch', 'caught'),
    ];
    await helper.load(NODES, flow, config.credentials);
    const cfg = configOf(helper, 'cfg');
    const acked = new Sink(helper, 'acked');
    const received = new Sink(helper, 'received');
    const caught = new Sink(helper, 'caught');
    const statuses: Record<string, StatusRecord[]> = Object.fromEntries(['pub', 'pub-fail', 'sub', 'lister'].map((id) => [id, recordStatuses(helper, id)]));
    const kafkaTopic = await registerTopic(cfg, topic);
    await readyAndConnected(cfg);
    await eventually('diaspora-in to consume', () => (isConsuming(statuses.sub.at(-1)) ? true : undefined), 30_000);

    let seq = 0;
    const send = (node: string): string => {
      const tag = `${node}-${seq}`;
      inject(helper, node, { tag, topic, payload: { seq } });
      seq += 1;
      return tag;
    };
    for (let i = 0; i < 10; i++) send('pub');
    await eventually('the first 10 acknowledgements', () => (acked.messages.length >= 10 ? true : undefined), 20_000);

    const rotatedAt = Date.now();
    await rotateElsewhere();
    const red = await eventually(
      'the nodes to show the rejected key',
      () => statuses.pub.find((r) => r.at >= rotatedAt && r.fill === 'red' && /key-rejected/.test(r.text ?? '')),
      60_000,
      100,
    );
    const detectedMs = red.at - rotatedAt;
    const state: SessionStateFields = cfg.session.state;
    assert.equal(state.reason, 'key-rejected');
    assert.match(state.message ?? '', /create a new key/);

    // During the outage: queue mode holds, fail mode fails at once with the reason.
    const queuedTags = Array.from({ length: 20 }, () => send('pub'));
    const failTags = Array.from({ length: 5 }, () => send('pub-fail'));
    for (const tag of failTags) {
      const failure = await caught.next(tag, 5_000);
      assert.match(failure.error?.message ?? '', /not ready: key-rejected: .*create a new key/);
    }
    await eventually('"queued: 20" on diaspora-out', () => statuses.pub.find((r) => /queued: 20/.test(r.text ?? '')), 15_000);
    assert.equal(queuedTags.filter((tag) => acked.tagged(tag) || caught.tagged(tag)).length, 0, 'queued messages were held, not sent or failed');
    for (const id of ['sub', 'lister', 'pub-fail']) {
      await eventually(`${id} to show red (key rejected)`, () => statuses[id].find((r) => r.at >= rotatedAt && r.fill === 'red' && /key-rejected/.test(r.text ?? '')), 10_000);
    }

    // The user chooses "new key".
    const res = await helper.request().post('/diaspora/cfg/newkey').send({});
    assert.equal(res.status, 200, res.text);
    const newKeyAt = Date.now();
    await cfg.session.whenReady(30_000);
    for (const tag of queuedTags) await acked.next(tag, 30_000);
    const readyAt = statuses.pub.find((r) => r.at >= newKeyAt && r.fill === 'green')?.at ?? Date.now();
    for (let i = 0; i < 10; i++) send('pub');
    await eventually('every queue-mode message acknowledged', () => (acked.messages.length >= seq - failTags.length ? true : undefined), 30_000);

    const sentToQueue = seq - failTags.length;
    const sentSeqs = [...Array(seq).keys()].filter((n) => !failTags.includes(`pub-fail-${n}`));
    await eventually(`diaspora-in to receive all ${sentToQueue} queue-mode messages`, () => {
      const got = new Set(received.messages.map((m) => (m.payload as { seq: number }).seq));
      return sentSeqs.every((n) => got.has(n)) ? true : undefined;
    }, 60_000, 200);
    const onTopic = (await readTopic(fabric.adminKafka('h10-rotate-reader'), kafkaTopic)).map(seqOf);
    const topicCount = countSequences(seq, onTopic);
    const consumed = countSequences(seq, received.messages.map((m) => (m.payload as { seq: number }).seq));

    recordResult({
      scenario: 'key rotated elsewhere (v1 create_key), then "new key"',
      sent: `${sentToQueue} (queue) + ${failTags.length} (fail)`,
      received: consumed.received,
      lost: topicCount.lost.filter((n) => !failTags.includes(`pub-fail-${n}`)).length,
      duplicated: consumed.duplicated,
      recoverMs: readyAt - newKeyAt,
      notes: `rejected key shown ${(detectedMs / 1000).toFixed(1)} s after the rotation; time to recover = "new key" → green; fail-mode sends: ${failTags.length} done(err); out status: ${statusSequence(statuses.pub, rotatedAt).join(' → ')}; in status: ${statusSequence(statuses.sub, rotatedAt).join(' → ')}`,
    });
    assert.deepEqual(topicCount.lost, failTags.map((t) => Number(t.split('-').at(-1))), 'only the fail-mode messages are absent');
    assert.equal(cfg.session.state.state, 'ready');
    for (const id of ['pub', 'sub']) assert.equal(statuses[id].at(-1)?.fill, 'green', `${id} is green again: ${statusSequence(statuses[id], rotatedAt).join(' → ')}`);
  });
});

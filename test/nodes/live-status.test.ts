/**
 * The live figures on the statuses, on a real Node-RED runtime against the real broker:
 * diaspora-in shows `lag N · R/s` where N is the partition's high watermark minus the group's
 * committed offset, diaspora-out `R/s`; both at most about once a second.
 */
import assert from 'node:assert/strict';
import type { NodeStatus } from 'node-red';
import diasporaConfig = require('../../nodes/diaspora-config/diaspora-config');
import diasporaOut = require('../../nodes/diaspora-out/diaspora-out');
import diasporaIn = require('../../nodes/diaspora-in/diaspora-in');
import type { FabricDescription } from '../../fabric/contract';
import { isDiasporaConfigNode } from '../../nodes/shared/config-node';
import { loadFabric } from '../fixtures/fabric';
import { eventually, nodeRedHelper, type NodeModule, type RuntimeNode } from '../fixtures/node-red';
import { configNode, inject, Sink, sinkNode, tab, TAB, uniqueTopic, type Msg } from './flow-support';

const helper = nodeRedHelper();
const NODES = [diasporaConfig, diasporaOut, diasporaIn] as NodeModule[];
const WITHIN_MS = 30_000;
const LIVE_IN = /^lag (\d+) · \d+(\.\d)?k?\/s$/;
const LIVE_OUT = /^\d+(\.\d)?k?\/s( · \d+ ⏳)?$/;

type Seen = { at: number; status: NodeStatus }[];

function statuses(id: string): Seen {
  const seen: Seen = [];
  (helper.getNode(id) as RuntimeNode).on('call:status', (call: unknown) => {
    const status = (call as { args: unknown[] }).args[0];
    seen.push({ at: Date.now(), status: typeof status === 'string' ? { text: status } : (status as NodeStatus) });
  });
  return seen;
}

/**
 * out (ack) → broker → in, on a new topic; sends `count` events and waits for their acks and their
 * arrival. The statuses are those from the moment the config was ready; `fromLoad` has all.
 */
async function flowEvents(fabric: FabricDescription, commit: 'auto' | 'manual', count: number): Promise<{ inStatus: Seen; outStatus: Seen; fromLoad: { in: Seen; out: Seen }; events: Sink; ready: NodeStatus }> {
  const topic = uniqueTopic('live');
  const config = configNode('cfg', fabric, 'v1', fabric.clients[0]);
  const flow = [
    tab(),
    config.node,
    { id: 'out', type: 'diaspora-out', z: TAB, fabric: 'cfg', topic, mode: 'ack', acks: 'all', compression: 'none', whenNotReady: 'queue', queueSize: 1000, outputs: 1, wires: [['acks']] },
    sinkNode('acks'),
    { id: 'in', type: 'diaspora-in', z: TAB, fabric: 'cfg', topics: topic, start: 'earliest', groupId: `${topic}-group`, format: 'auto', commit, wires: [['events']] },
    sinkNode('events'),
  ];
  await helper.load(NODES, flow, config.credentials);
  const fromLoad = { in: statuses('in'), out: statuses('out') };
  const cfg = helper.getNode('cfg') as unknown as Parameters<typeof isDiasporaConfigNode>[0];
  assert.ok(isDiasporaConfigNode(cfg));
  const session = cfg.session;
  await eventually('the config to be ready', () => (session.state.state === 'ready' ? true : undefined), WITHIN_MS);
  await (await session.service()).registerTopic(topic);
  const inStatus = statuses('in');
  const outStatus = statuses('out');
  const acks = new Sink(helper, 'acks');
  const events = new Sink(helper, 'events');
  for (let i = 0; i < count; i++) inject(helper, 'out', { payload: { i } } as Msg);
  await eventually(`${count} acknowledgements`, () => (acks.messages.length >= count ? true : undefined), WITHIN_MS);
  await eventually(`${count} events`, () => (events.messages.length >= count ? true : undefined), WITHIN_MS);
  return { inStatus, outStatus, fromLoad, events, ready: cfg.statusFor(session.state) };
}

describe('live statuses (rates and lag)', function () {
  this.timeout(90_000);
  let fabric: FabricDescription;

  before(function () {
    fabric = loadFabric();
  });

  afterEach(async function () {
    await helper.unload();
  });

  it('diaspora-in shows the uncommitted events as lag and its rate; diaspora-out its rate; at most about once a second', async function () {
    const count = 20;
    const { inStatus, outStatus, events } = await flowEvents(fabric, 'manual', count);

    // Commit the first event only: the group is then count - 1 behind.
    inject(helper, 'in', { action: 'commit', diaspora: events.messages[0].diaspora } as Msg);
    const behind = await eventually(
      `"lag ${count - 1} · …/s" (seen: ${inStatus.map((s) => s.status.text).join(' > ')})`,
      () => inStatus.find((s) => s.status.fill === 'green' && LIVE_IN.exec(String(s.status.text))?.[1] === String(count - 1)),
      WITHIN_MS,
    );
    assert.ok(behind);
    inject(helper, 'in', { action: 'commit', diaspora: events.messages[count - 1].diaspora } as Msg);
    await eventually('"lag 0 · …/s"', () => (LIVE_IN.exec(String(inStatus.at(-1)?.status.text))?.[1] === '0' ? true : undefined), WITHIN_MS);

    const live = outStatus.filter((s) => s.status.fill === 'green' && LIVE_OUT.test(String(s.status.text)));
    assert.ok(live.length > 0, `diaspora-out showed no rate (seen: ${outStatus.map((s) => s.status.text).join(' > ')})`);
    assert.ok(live.some((s) => /^[1-9]/.test(String(s.status.text))), 'diaspora-out never showed a rate above 0 while it sent');

    // Updated at most about once a second (the first status after a change comes at once).
    const span = (inStatus.at(-1)!.at - inStatus[0].at) / 1000;
    assert.ok(inStatus.length <= span + 4, `${inStatus.length} diaspora-in statuses in ${span.toFixed(1)} s`);
  });

  describe('with diaspora: { liveStatus: false } in the settings', function () {
    before(function () {
      helper.settings({ diaspora: { liveStatus: false } });
    });

    after(function () {
      helper.settings({ diaspora: undefined });
    });

    it('shows the plain statuses while events flow and lists no node for the sidebar', async function () {
      const { fromLoad, ready } = await flowEvents(fabric, 'auto', 20);
      // Live figures would have been drawn within a second or two of the events.
      const until = Date.now() + 2_500;
      await eventually('2.5 s of statuses', () => (Date.now() >= until || undefined), WITHIN_MS);

      const live = [...fromLoad.in, ...fromLoad.out].filter((s) => LIVE_IN.test(String(s.status.text)) || LIVE_OUT.test(String(s.status.text)));
      assert.deepEqual(live, [], 'a live figure was shown');
      assert.deepEqual([fromLoad.in.at(-1)?.status.text, fromLoad.out.at(-1)?.status], ['consuming', ready], 'the plain statuses');

      const res = await helper.request().get('/diaspora/live');
      assert.equal(res.status, 200);
      const snapshot = res.body as { liveStatus: boolean; nodes: unknown[]; configs: { id: string; state: string }[] };
      assert.equal(snapshot.liveStatus, false);
      assert.deepEqual(snapshot.nodes, []);
      assert.deepEqual(snapshot.configs.map((c) => [c.id, c.state]), [['cfg', 'ready']]);
    });
  });
});

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

function statuses(id: string): { at: number; status: NodeStatus }[] {
  const seen: { at: number; status: NodeStatus }[] = [];
  (helper.getNode(id) as RuntimeNode).on('call:status', (call: unknown) => {
    const status = (call as { args: unknown[] }).args[0];
    seen.push({ at: Date.now(), status: typeof status === 'string' ? { text: status } : (status as NodeStatus) });
  });
  return seen;
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
    const topic = uniqueTopic('live');
    const config = configNode('cfg', fabric, 'v1', fabric.clients[0]);
    const flow = [
      tab(),
      config.node,
      { id: 'out', type: 'diaspora-out', z: TAB, fabric: 'cfg', topic, mode: 'ack', acks: 'all', compression: 'none', whenNotReady: 'queue', queueSize: 1000, outputs: 1, wires: [['acks']] },
      sinkNode('acks'),
      { id: 'in', type: 'diaspora-in', z: TAB, fabric: 'cfg', topics: topic, start: 'earliest', groupId: `${topic}-group`, format: 'auto', commit: 'manual', wires: [['events']] },
      sinkNode('events'),
    ];
    await helper.load(NODES, flow, config.credentials);
    const cfg = helper.getNode('cfg') as unknown as Parameters<typeof isDiasporaConfigNode>[0];
    assert.ok(isDiasporaConfigNode(cfg));
    const session = cfg.session;
    await eventually('the config to be ready', () => (session.state.state === 'ready' ? true : undefined), WITHIN_MS);
    await (await session.service()).registerTopic(topic);
    const inStatus = statuses('in');
    const outStatus = statuses('out');
    const acks = new Sink(helper, 'acks');
    const events = new Sink(helper, 'events');

    const count = 20;
    for (let i = 0; i < count; i++) inject(helper, 'out', { payload: { i } } as Msg);
    await eventually(`${count} acknowledgements`, () => (acks.messages.length >= count ? true : undefined), WITHIN_MS);
    await eventually(`${count} events`, () => (events.messages.length >= count ? true : undefined), WITHIN_MS);

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
});

/**
 * 2b. No tax on other flows: a flow of core nodes (source → change → counter) with and without an
 * idle diaspora-in deployed beside it, interleaved per round. diaspora-in learns through Node-RED's
 * hooks when the flow has finished an event; those must cost a flow that has nothing to do with it
 * nothing.
 */
import type { BenchContext } from '../context';
import { sleep } from '../lib/proc';
import { counter, diasporaIn, mark, source } from '../node-red/flows';
import type { Table } from '../report';
import { groupId } from './consumer';
import { producedPerSecond, type NodeRedSession } from './node-red-session';
import { interleave, PAYLOAD_BYTES, type Variant } from './producer';

export const WITHOUT = 'core flow, no diaspora-in deployed';
export const WITH_IDLE = 'core flow, an idle diaspora-in deployed';
/** Long enough for the consumer to have joined its group and gone quiet. */
const SETTLE_MS = 4000;

export async function isolationSection(ctx: BenchContext, nr: NodeRedSession): Promise<Table> {
  const count = ctx.sizes.messages * 5;
  const topic = await ctx.topic('quiet');
  const core = [source('core-src', [['core-mark']]), mark('core-mark', [['bench-count']]), counter('bench-count')];
  // The consumer's own output goes to a node that counts nothing: no event arrives on this topic anyway.
  const consumer = [diasporaIn('quiet-in', topic, 'latest', groupId('quiet'), [['quiet-mark']]), mark('quiet-mark', [])];
  await nr.deploy(core);
  const measure = (nodes: typeof core) => async () => {
    await nr.deployChanged(nodes);
    await sleep(SETTLE_MS);
    const result = await nr.run('core-src', { count, window: ctx.sizes.window, rate: 0, payloadBytes: PAYLOAD_BYTES, latency: false });
    return { perSecond: producedPerSecond(result), ...(result.cpuUs !== undefined ? { cpuUs: result.cpuUs / count } : {}) };
  };
  const variants: Variant[] = [
    { label: WITHOUT, available: true, measure: measure(core) },
    { label: WITH_IDLE, available: true, measure: measure([...core, ...consumer]) },
  ];
  const values = await interleave(variants, Math.max(5, ctx.sizes.rounds), 'isolation');
  await nr.deployChanged([]);
  return {
    id: 'isolation',
    title: `2b. Other flows: ${count.toLocaleString('en-US')} messages through source → change → counter, with and without an idle diaspora-in beside them`,
    columns: { perSecond: 'msg/s median (min–max)', cpuUs: 'CPU µs/msg' },
    ratioMetric: 'perSecond',
    rows: variants.map((v) => ({
      label: v.label,
      metrics: {
        perSecond: (values.get(v.label) ?? []).map((m) => m.perSecond),
        cpuUs: (values.get(v.label) ?? []).map((m) => m.cpuUs ?? NaN),
      },
      ...(v.label === WITH_IDLE ? { vs: WITHOUT } : {}),
    })),
    notes: [
      'The idle diaspora-in is subscribed (latest) to a topic nobody writes to, wired to a change node; each run deploys the variant, waits 4 s, then measures.',
      "diaspora-in installs Node-RED's onComplete/postReceive hooks once per runtime and only while one of its events is in a flow; with none in flight no hook runs for other messages.",
    ],
  };
}

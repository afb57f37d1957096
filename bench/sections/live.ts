/**
 * 2c. What the live figures cost: diaspora-out (ack mode) and diaspora-in with the live statuses
 * and sidebar figures on, and with `diaspora: { liveStatus: false }` in the runtime's settings,
 * in two Node-RED processes that are otherwise the same, interleaved per round.
 */
import { kafkajsProduce } from '../clients/kafkajs';
import type { BenchContext } from '../context';
import { say } from '../lib/log';
import type { HostOptions } from '../node-red/child';
import type { Table } from '../report';
import { nodeRedConsume } from './consumer';
import { producedPerSecond, type NodeRedSession } from './node-red-session';
import { interleave, PAYLOAD_BYTES, producerNodes, rawBatching, throughputRows, type Measurement, type Variant } from './producer';

/** The second runtime's settings: what a user writes in settings.js to turn the figures off. */
export const LIVE_OFF: HostOptions = { settings: { diaspora: { liveStatus: false } } };

export const PRODUCER_ON = 'diaspora-out (ack), live figures on';
export const PRODUCER_OFF = 'diaspora-out (ack), live figures off';
export const CONSUMER_ON = 'diaspora-in, live figures on';
export const CONSUMER_OFF = 'diaspora-in, live figures off';

export async function liveSection(ctx: BenchContext, on: NodeRedSession, off: NodeRedSession): Promise<Table> {
  const { sizes } = ctx;
  const count = sizes.messages;
  const rounds = Math.max(5, sizes.rounds);
  const run = { count, window: sizes.window, rate: 0, payloadBytes: PAYLOAD_BYTES, latency: false };

  const produce = async (nr: NodeRedSession, name: string): Promise<() => Promise<Measurement>> => {
    await nr.deploy(producerNodes(await ctx.topic(`live-${name}`), await ctx.topic(`live-${name}-fire`)));
    await nr.run('src-ack', { ...run, count: 2000 });
    return async () => {
      const result = await nr.run('src-ack', run);
      return { perSecond: producedPerSecond(result), ...(result.cpuUs !== undefined ? { cpuUs: result.cpuUs / count } : {}) };
    };
  };
  const producers: Variant[] = [
    { label: PRODUCER_ON, available: true, measure: await produce(on, 'on') },
    { label: PRODUCER_OFF, available: true, measure: await produce(off, 'off') },
  ];
  const produced = await interleave(producers, rounds, 'live figures, producer', true);

  const topic = await ctx.topic('live-c');
  say(`live figures: filling ${topic} with ${count} events (raw kafkajs)`);
  await kafkajsProduce(ctx.target, topic, count, PAYLOAD_BYTES, rawBatching(PAYLOAD_BYTES));
  const consumers: Variant[] = [
    { label: CONSUMER_ON, available: true, measure: () => nodeRedConsume(on, topic, count) },
    { label: CONSUMER_OFF, available: true, measure: () => nodeRedConsume(off, topic, count) },
  ];
  const consumed = await interleave(consumers, rounds, 'live figures, consumer', true);

  const rows = (variants: Variant[], values: Map<string, Measurement[]>, base: string) =>
    throughputRows(variants, values, base, PAYLOAD_BYTES, () => 'unavailable');
  return {
    id: 'live',
    title: `2c. Live figures on and off: ${count.toLocaleString('en-US')} × ${PAYLOAD_BYTES} B JSON through diaspora-out (ack) and diaspora-in (${rounds} rounds)`,
    columns: { perSecond: 'msg/s median (min–max)', mbPerSecond: 'MB/s', cpuUs: 'CPU µs/msg' },
    ratioMetric: 'perSecond',
    rows: [...rows(producers, produced, PRODUCER_OFF), ...rows(consumers, consumed, CONSUMER_OFF)],
    notes: [
      'Two bench Node-RED processes, the same but for `diaspora: { liveStatus: false }` in the second one\'s settings; each round measures both, the one that went first going second in the next round (A B, B A, …). Producer runs as in section 1 (ack mode), consumer runs as in section 2 (fresh group, from the earliest offset).',
      'On: each node counts its events (one integer addition per event; diaspora-out also counts what awaits the broker\'s answer), and once a second works out the rate, redraws its status if the text changed and the sidebar\'s snapshot is pushed; diaspora-in asks the broker for its lag every 5 s. Off: none of that runs.',
    ],
  };
}

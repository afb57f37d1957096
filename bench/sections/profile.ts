/**
 * Where the time goes: V8 CPU profiles (node --cpu-prof) of one Node-RED producer run and one
 * consumer run, and of the raw kafkajs worker doing the same, each limited to the measured interval.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { kafkajsConsume, kafkajsProduce, setKafkajsWorkerNodeArgs } from '../clients/kafkajs';
import type { BenchContext } from '../context';
import { summarizeProfile, type ProfileSummary } from '../lib/cpuprofile';
import { say } from '../lib/log';
import { NodeRedHost } from '../node-red/child';
import { consumerFlow, counter, source, TAB } from '../node-red/flows';
import type { Row, Table } from '../report';
import { groupId } from './consumer';
import { NodeRedSession, producedPerSecond, consumedPerSecond } from './node-red-session';
import { PAYLOAD_BYTES, producerNodes, rawBatching } from './producer';

function onlyProfile(dir: string): string {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length !== 1) throw new Error(`expected one CPU profile in ${dir}, found ${files.length}`);
  return path.join(dir, files[0]);
}

async function profiledHost<T>(ctx: BenchContext, name: string, body: (nr: NodeRedSession) => Promise<{ window: [number, number]; value: T }>): Promise<{ file: string; window: [number, number]; value: T }> {
  const dir = fs.mkdtempSync(path.join(ctx.workDir, `prof-${name}-`));
  const host = await NodeRedHost.start({ cpuProfDir: dir });
  let outcome: { window: [number, number]; value: T };
  try {
    outcome = await body(new NodeRedSession(host, ctx.fabric, ctx.identity.client));
  } finally {
    await host.stop();
  }
  return { file: onlyProfile(dir), ...outcome };
}

/**
 * What Node-RED itself costs per message, without any Diaspora node: bench-source → counter (the
 * harness and one delivery), and with one more node in between (a `change` node without rules).
 */
export async function nodeRedFloor(ctx: BenchContext): Promise<Table> {
  const count = ctx.sizes.messages;
  const host = await NodeRedHost.start();
  try {
    const nr = new NodeRedSession(host, ctx.fabric, ctx.identity.client);
    await nr.deploy([
      source('src-1', [['bench-count']]),
      source('src-2', [['noop']]),
      { id: 'noop', type: 'change', z: TAB, x: 100, y: 100, rules: [], wires: [['bench-count']] },
      counter('bench-count'),
    ]);
    const rows: Row[] = [
      { label: 'bench-source → counter', metrics: { perSecond: [], cpuUs: [] } },
      { label: 'bench-source → change (no rules) → counter', metrics: { perSecond: [], cpuUs: [] } },
    ];
    for (const id of ['src-1', 'src-2']) await nr.run(id, { count: 2000, window: ctx.sizes.window, rate: 0, payloadBytes: PAYLOAD_BYTES, latency: false });
    for (let round = 0; round < ctx.sizes.rounds; round += 1) {
      for (const [i, id] of ['src-1', 'src-2'].entries()) {
        const result = await nr.run(id, { count, window: ctx.sizes.window, rate: 0, payloadBytes: PAYLOAD_BYTES, latency: false });
        rows[i].metrics.perSecond.push(producedPerSecond(result));
        rows[i].metrics.cpuUs.push((result.cpuUs ?? NaN) / count);
      }
    }
    return {
      id: 'node-red-floor',
      title: `Node-RED's own cost per message, no Diaspora node (${count.toLocaleString('en-US')} × ${PAYLOAD_BYTES} B readings, ${ctx.sizes.rounds} rounds)`,
      columns: { perSecond: 'msg/s', cpuUs: 'CPU µs/msg' },
      rows,
      notes: ['The same source and counter as the producer runs: the difference between the rows is what one more node in a flow costs (a delivery through Node-RED\'s router, hooks and setImmediate).'],
    };
  } finally {
    await host.stop();
  }
}

export async function profileSection(ctx: BenchContext): Promise<ProfileSummary[]> {
  const count = ctx.sizes.messages;
  const ackTopic = await ctx.topic('prof-nr-ack');
  const fireTopic = await ctx.topic('prof-nr-fire');
  const rawTopic = await ctx.topic('prof-raw');
  const summaries: ProfileSummary[] = [];

  const produced = await profiledHost(ctx, 'nr-produce', async (nr) => {
    await nr.deploy(producerNodes(ackTopic, fireTopic));
    await nr.run('src-ack', { count: 2000, window: ctx.sizes.window, rate: 0, payloadBytes: PAYLOAD_BYTES, latency: false });
    const result = await nr.run('src-ack', { count, window: ctx.sizes.window, rate: 0, payloadBytes: PAYLOAD_BYTES, latency: false });
    return { window: result.windowUs!, value: producedPerSecond(result) };
  });
  summaries.push(summarizeProfile(produced.file, `Node-RED producer (diaspora-out ack), ${Math.round(produced.value)} msg/s while profiled`, produced.window));

  const consumed = await profiledHost(ctx, 'nr-consume', async (nr) => {
    await nr.deploy([]);
    const result = await nr.waitFor(count, () => nr.deployChanged(consumerFlow(ackTopic, groupId('prof'), 'earliest')), 600_000, 'profiled consumer');
    return { window: result.windowUs!, value: consumedPerSecond(result) };
  });
  summaries.push(summarizeProfile(consumed.file, `Node-RED consumer (diaspora-in), ${Math.round(consumed.value)} msg/s while profiled`, consumed.window));

  for (const phase of ['produce', 'consume'] as const) {
    const dir = fs.mkdtempSync(path.join(ctx.workDir, `prof-raw-${phase}-`));
    setKafkajsWorkerNodeArgs(['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    try {
      if (phase === 'produce') {
        const r = await kafkajsProduce(ctx.target, rawTopic, count, PAYLOAD_BYTES, rawBatching(PAYLOAD_BYTES));
        summaries.push(summarizeProfile(onlyProfile(dir), `raw kafkajs producer (sendBatch), ${Math.round((count / r.elapsedMs) * 1000)} msg/s while profiled`, r.windowUs));
      } else {
        const r = await kafkajsConsume(ctx.target, rawTopic, count, groupId('prof-raw'));
        summaries.push(summarizeProfile(onlyProfile(dir), `raw kafkajs consumer (eachMessage), ${Math.round(((r.count - 1) / (r.lastAt - r.firstAt)) * 1000)} msg/s while profiled`, r.windowUs));
      }
    } finally {
      setKafkajsWorkerNodeArgs([]);
    }
  }
  for (const s of summaries) say(`profile: ${s.label}: ${Object.entries(s.components).map(([k, v]) => `${k} ${v.toFixed(0)}%`).join(', ')}`);
  return summaries;
}

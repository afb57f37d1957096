/**
 * 5. Readiness of the config node, with the fabric's key propagation delay at 0 (so what is
 * measured is our own overhead): a full deploy with a stored key → ready; "new key" → ready; and a
 * Node-RED restart (process start) with the stored key → ready. Interleaved per round.
 */
import type { FabricClient } from '../../fabric/contract';
import type { BenchContext } from '../context';
import { say } from '../lib/log';
import { NodeRedHost } from '../node-red/child';
import { CONFIG, out } from '../node-red/flows';
import type { Table } from '../report';
import { NodeRedSession } from './node-red-session';

export async function readinessSection(ctx: BenchContext, client: FabricClient): Promise<Table> {
  const topic = await ctx.topic('ready-1k');
  const flow = [out('out', topic, 'ack')];
  let host = await NodeRedHost.start();
  const userDir = host.userDir;
  try {
    let nr = new NodeRedSession(host, ctx.fabric, client, 'bench readiness');
    const firstMs = await nr.deploy(flow);
    let keyCreatedAt = (await host.waitReady(CONFIG, 10_000)).state.keyCreatedAt;
    const deployMs: number[] = [];
    const newKeyMs: number[] = [];
    const restartMs: number[] = [];
    for (let round = 1; round <= ctx.sizes.rounds; round += 1) {
      deployMs.push(await nr.deploy(flow, `bench readiness ${round}`));

      const t0 = Date.now();
      await host.request('POST', `/diaspora/${CONFIG}/newkey`, {});
      const ready = await host.waitReady(CONFIG, 60_000, keyCreatedAt);
      newKeyMs.push(ready.at - t0);
      keyCreatedAt = ready.state.keyCreatedAt;

      await host.stop(false);
      const t1 = Date.now();
      host = await NodeRedHost.start({}, userDir);
      restartMs.push((await host.waitReady(CONFIG, 60_000)).at - t1);
      nr = new NodeRedSession(host, ctx.fabric, client, 'bench readiness');
      nr.markDeployed();
      say(`readiness round ${round}/${ctx.sizes.rounds}: deploy → ready ${deployMs.at(-1)} ms, new key → ready ${newKeyMs.at(-1)} ms, restart → ready ${restartMs.at(-1)} ms`);
    }
    return {
      id: 'readiness',
      title: `5. Readiness of diaspora-config (key propagation delay 0, ${ctx.sizes.rounds} rounds)`,
      columns: { ms: 'ms median (min–max)' },
      rows: [
        { label: 'full deploy → ready, stored key', metrics: { ms: deployMs } },
        { label: '"new key" → ready (v3: delete + create key, then probe)', metrics: { ms: newKeyMs } },
        { label: 'Node-RED process start → ready, stored key', metrics: { ms: restartMs } },
        { label: 'first deploy → ready (sign-in, new identity, key created)', metrics: { ms: [firstMs] } },
      ],
      notes: [
        'Ready = the config node\'s session state "ready": the key authenticated to the broker (SASL SCRAM) and answered a metadata request. Observed inside Node-RED (polled every 2 ms); start times are the benchmark\'s clock on the same machine.',
        'A full deploy restarts the config node: client-credentials token from the stored sign-in, the stored key, one broker probe.',
        'Process start includes loading Node-RED and its nodes.',
      ],
    };
  } finally {
    await host.stop();
  }
}

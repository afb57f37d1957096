/**
 * HTTPS transport throughput: diaspora-out and diaspora-in over the service emulator's REST data
 * plane (a real Node-RED runtime, node-red-node-test-helper) against the Diaspora SDK's own HTTPS
 * path (diaspora-event-sdk 0.5.1: a `produce_batch` loop of 500 and a `RESTConsumer.fetch` loop),
 * same identity, same emulator, 1 KB JSON events, interleaved per round. Also deploy → ready over
 * HTTPS with a stored sign-in. Needs the local fabric (`npm run fabric -- start`).
 *
 *   node dist/bench/https.js [events per run, default 20000] [rounds, default 3]
 */
import { execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import diasporaConfig = require('../nodes/diaspora-config/diaspora-config');
import diasporaIn = require('../nodes/diaspora-in/diaspora-in');
import diasporaOut = require('../nodes/diaspora-out/diaspora-out');
import { repoRoot } from '../fabric/contract';
import { ensurePythonVenv } from '../fabric/python-venv';
import type { DiasporaConfigNode } from '../nodes/shared/config-node';
import { loadFabric } from '../test/fixtures/fabric';
import { eventually, nodeRedHelper, type FlowNode, type NodeModule } from '../test/fixtures/node-red';

const run = promisify(execFile);
const NODES = [diasporaConfig, diasporaOut, diasporaIn] as NodeModule[];
const PAYLOAD_BYTES = 1024;
const SDK = 'diaspora-event-sdk==0.5.1';
const DRIVER = path.join(repoRoot, 'bench', 'python', 'sdk_rest_bench.py');

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 20_000);
  const rounds = Number(process.argv[3] ?? 3);
  const fabric = loadFabric();
  const client = fabric.clients[1];
  const helper = nodeRedHelper();
  const python = await ensurePythonVenv('sdk-venv', [SDK], (line) => console.log(`[sdk] ${line}`));
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-https-sdk-'));
  const config: FlowNode = {
    id: 'cfg-https', type: 'diaspora-config', name: 'bench https', api: 'v3', transport: 'https', serviceUrl: fabric.serviceUrl,
    authUrl: fabric.authUrl, clientId: client.clientId, authMode: 'client', brokers: '', kafkaAuth: 'scram-sha-512', tls: false, readyTimeout: 60,
  };
  let credentials: Record<string, object> = { 'cfg-https': { clientSecret: client.clientSecret } };
  const tab: FlowNode = { id: 'bench-tab', type: 'tab', label: 'bench' };
  const sdk = async (...args: string[]): Promise<{ count: number; seconds: number }> => {
    const { stdout } = await run(python, [DRIVER, ...args], {
      timeout: 600_000,
      env: {
        ...process.env,
        DIASPORA_SDK_CLIENT_ID: client.clientId,
        DIASPORA_SDK_CLIENT_SECRET: client.clientSecret,
        GLOBUS_SDK_SERVICE_URL_AUTH: `${fabric.authUrl}/`,
        DIASPORA_USER_DIR: userDir,
        DIASPORA_TEST_SERVICE_URL: fabric.serviceUrl,
      },
    });
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { count: number; seconds: number };
  };
  const deploy = async (nodes: FlowNode[]): Promise<DiasporaConfigNode> => {
    if (helper.getNode('cfg-https')) await helper.setFlows([tab, config, ...nodes], 'full', credentials);
    else await helper.load(NODES, [tab, config, ...nodes], credentials);
    const cfg = helper.getNode('cfg-https') as unknown as DiasporaConfigNode;
    await cfg.session.whenReady(30_000);
    credentials = { 'cfg-https': { ...(helper.credentials.get('cfg-https') ?? {}) } };
    return cfg;
  };
  const filler = 'x'.repeat(PAYLOAD_BYTES - 40);
  const results: Record<string, number[]> = { 'diaspora-out (HTTPS, ack)': [], 'SDK produce_batch loop': [], 'diaspora-in (HTTPS)': [], 'SDK RESTConsumer.fetch loop': [] };
  const readyMs: number[] = [];

  const topics: string[] = [];
  let cfg = await deploy([]);
  for (let round = 1; round <= rounds; round++) {
    const tag = crypto.randomBytes(3).toString('hex');
    const nodeTopic = `bench-https-node-${tag}`;
    const sdkTopic = `bench-https-sdk-${tag}`;
    const service = await cfg.session.service();
    await service.registerTopic(nodeTopic);
    await service.registerTopic(sdkTopic);

    // diaspora-out over HTTPS: every event injected at once, timed to the last acknowledgement.
    cfg = await deploy([
      { id: 'out', type: 'diaspora-out', z: 'bench-tab', fabric: 'cfg-https', topic: nodeTopic, key: '', mode: 'ack', acks: 'all', compression: 'none', whenNotReady: 'fail', queueSize: 0, wires: [['acked']] },
      { id: 'acked', type: 'helper', z: 'bench-tab' },
    ]);
    let acked = 0;
    let failed = 0;
    helper.getNode('acked')?.on('input', () => acked++);
    const out = helper.getNode('out') as unknown as { receive(msg: object): void; on(event: string, listener: (...args: unknown[]) => void): void };
    let firstError = '';
    out.on('call:error', (call: unknown) => {
      failed++;
      firstError ||= String((call as { args?: unknown[] }).args?.[0]);
    });
    let started = Date.now();
    for (let seq = 0; seq < count; seq++) out.receive({ payload: { seq, data: filler } });
    await eventually('every acknowledgement', () => (acked + failed >= count ? true : undefined), 600_000, 20);
    if (failed > 0) throw new Error(`${failed} events failed, the first with: ${firstError}`);
    results['diaspora-out (HTTPS, ack)'].push(count / ((Date.now() - started) / 1000));
    console.log(`  diaspora-out: ${cfg.session.connections?.stats().sentBatches} records:batch requests for ${count} events`);

    const produced = await sdk('produce', sdkTopic, String(count), String(PAYLOAD_BYTES));
    results['SDK produce_batch loop'].push(produced.count / produced.seconds);

    // diaspora-in over HTTPS: a fresh group from the earliest event, timed from deploy to the last event.
    started = Date.now();
    cfg = await deploy([
      { id: 'in', type: 'diaspora-in', z: 'bench-tab', fabric: 'cfg-https', topics: nodeTopic, start: 'earliest', groupId: `bench-${tag}`, format: 'auto', commit: 'auto', wires: [['got']] },
      { id: 'got', type: 'helper', z: 'bench-tab' },
    ]);
    readyMs.push(Date.now() - started);
    let got = 0;
    helper.getNode('got')?.on('input', () => got++);
    await eventually('every event consumed', () => (got >= count ? true : undefined), 600_000, 20);
    results['diaspora-in (HTTPS)'].push(count / ((Date.now() - started) / 1000));

    const consumed = await sdk('consume', sdkTopic, String(count), `bench-sdk-${tag}`);
    results['SDK RESTConsumer.fetch loop'].push(consumed.count / consumed.seconds);
    console.log(`round ${round}/${rounds}: ${Object.entries(results).map(([k, v]) => `${k} ${Math.round(v.at(-1) ?? 0)} msg/s`).join('; ')}`);
    cfg = await deploy([]);
    topics.push(nodeTopic, sdkTopic);
  }
  // Unregistered only at the end: the emulator stops answering records:batch after a topic it wrote to is deleted.
  for (const topic of topics) await (await cfg.session.service()).unregisterTopic(topic).catch(() => undefined);
  await helper.unload();
  fs.rmSync(userDir, { recursive: true, force: true });

  const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  console.log(`\nHTTPS transport, ${count} events of ${PAYLOAD_BYTES} B per run, ${rounds} rounds interleaved (median msg/s):`);
  console.log('| client | msg/s (median) | runs | vs SDK |');
  console.log('|---|---|---|---|');
  const pairs: Array<[string, string]> = [['diaspora-out (HTTPS, ack)', 'SDK produce_batch loop'], ['diaspora-in (HTTPS)', 'SDK RESTConsumer.fetch loop']];
  for (const [ours, theirs] of pairs) {
    for (const label of [ours, theirs]) {
      const runs = results[label];
      console.log(`| ${label} | ${Math.round(median(runs))} | ${runs.map(Math.round).join(', ')} | ${label === ours ? `${(median(runs) / median(results[theirs])).toFixed(2)}×` : '1.00×'} |`);
    }
  }
  console.log(`deploy of a diaspora-in (HTTPS, stored sign-in) → config ready: ${readyMs.join(', ')} ms`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

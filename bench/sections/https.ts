/**
 * HTTPS transport throughput: diaspora-out (ack mode) and diaspora-in over the service emulator's
 * REST data plane, in a real Node-RED (the same child process, source and counter as the Kafka
 * sections), against the Diaspora SDK 0.5.1's own HTTPS path on the same emulator and identity:
 * a `produce_batch` loop of 500 and a `RESTConsumer.fetch` loop. 1 KB JSON events, interleaved
 * per round; also deploy → ready over HTTPS with a stored sign-in.
 */
import { execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, type FabricDescription } from '../../fabric/contract';
import { DIASPORA_SDK_VENV, ensurePythonVenv } from '../../fabric/python-venv';
import { say } from '../lib/log';
import { NodeRedHost } from '../node-red/child';
import { catcher, consumerFlow, counter, out, source } from '../node-red/flows';
import type { Table } from '../report';
import type { BenchIdentity } from '../setup/fabric';
import { consumedPerSecond, NodeRedSession, producedPerSecond } from './node-red-session';
import { PAYLOAD_BYTES } from './producer';

const DRIVER = path.join(repoRoot, 'bench', 'python', 'sdk_rest_bench.py');
/** The SDK's loop sends this many entries per produce_batch: the most one request may carry. */
export const SDK_BATCH = 500;

const run = promisify(execFile);

export interface HttpsSizes {
  messages: number;
  rounds: number;
  /** Messages the source may have unfinished (as in the Kafka producer section). */
  window: number;
}

export interface HttpsOptions {
  /** Write a CPU profile of the Node-RED process here (node --cpu-prof). */
  cpuProfDir?: string;
}

interface SdkRun {
  count: number;
  seconds: number;
  cpu_seconds: number;
}

export const HTTPS_LABELS = {
  out: 'Node-RED diaspora-out over HTTPS, ack mode',
  sdkProduce: `SDK produce_batch loop (${SDK_BATCH} per request)`,
  in: 'Node-RED diaspora-in over HTTPS',
  sdkFetch: 'SDK RESTConsumer.fetch loop',
} as const;
export const HTTPS_READY_LABEL = 'full deploy → ready over HTTPS, stored sign-in';

export async function httpsSection(fabric: FabricDescription, identity: BenchIdentity, sizes: HttpsSizes, opts: HttpsOptions = {}): Promise<Table> {
  const { messages: count, rounds } = sizes;
  const client = identity.client;
  const python = await ensurePythonVenv(DIASPORA_SDK_VENV.name, DIASPORA_SDK_VENV.requirements, (line) => say(`sdk venv: ${line}`));
  const sdkHome = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-https-sdk-'));
  const sdk = async (...args: string[]): Promise<SdkRun> => {
    const { stdout } = await run(python, [DRIVER, ...args], {
      timeout: 600_000,
      env: {
        ...process.env,
        DIASPORA_SDK_CLIENT_ID: client.clientId,
        DIASPORA_SDK_CLIENT_SECRET: client.clientSecret,
        GLOBUS_SDK_SERVICE_URL_AUTH: `${fabric.authUrl}/`,
        DIASPORA_USER_DIR: sdkHome,
        DIASPORA_TEST_SERVICE_URL: fabric.serviceUrl,
      },
    });
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as SdkRun;
  };
  const results: Record<string, number[]> = Object.fromEntries(Object.values(HTTPS_LABELS).map((label) => [label, []]));
  const cpuUs: Record<string, number[]> = Object.fromEntries(Object.values(HTTPS_LABELS).map((label) => [label, []]));
  const readyMs: number[] = [];
  const host = await NodeRedHost.start(opts.cpuProfDir ? { cpuProfDir: opts.cpuProfDir } : {});
  const topics: string[] = [];
  try {
    const nr = new NodeRedSession(host, fabric, client, 'bench https', 'https');
    await nr.deploy([]);
    const record = (label: string, value: number, cpu: number): void => {
      results[label].push(value);
      cpuUs[label].push(cpu);
      say(`https round ${results[label].length}/${rounds}: ${label}: ${Math.round(value)} msg/s, ${cpu.toFixed(1)} µs CPU/msg`);
    };
    const sdkRecord = (label: string, r: SdkRun): void => record(label, r.count / r.seconds, (r.cpu_seconds * 1e6) / r.count);
    for (let round = 1; round <= rounds; round++) {
      const tag = crypto.randomBytes(3).toString('hex');
      const nodeTopic = `bench-https-node-${tag}`;
      const sdkTopic = `bench-https-sdk-${tag}`;
      for (const topic of [nodeTopic, sdkTopic]) {
        await identity.service.registerTopic(topic);
        topics.push(topic);
      }
      const kafkaTopic = identity.service.kafkaTopic(nodeTopic);

      // diaspora-out: as fast as it accepts them, timed from the first message to the last acknowledgement.
      // A full deploy restarts the config node: deploy → ready with the stored sign-in is measured too.
      readyMs.push(await nr.deploy([
        source('src-https', [['out-https']]),
        out('out-https', kafkaTopic, 'ack', [['bench-count']]),
        counter('bench-count'),
        counter('bench-errors', 'error'),
        catcher('bench-catch', ['out-https'], 'bench-errors'),
      ], `bench https ${round}`));
      const produced = await nr.run('src-https', { count, window: sizes.window, rate: 0, payloadBytes: PAYLOAD_BYTES, latency: false });
      record(HTTPS_LABELS.out, producedPerSecond(produced), (produced.cpuUs ?? NaN) / count);

      const sdkProduced = await sdk('produce', sdkTopic, String(count), String(PAYLOAD_BYTES), String(SDK_BATCH));
      sdkRecord(HTTPS_LABELS.sdkProduce, sdkProduced);

      // diaspora-in: a new group from the earliest event, timed from the first event to the last.
      const consumed = await nr.waitFor(count, () => nr.deployChanged(consumerFlow(kafkaTopic, `bench-${tag}`, 'earliest')), 600_000, `diaspora-in reading ${count} events over HTTPS`);
      record(HTTPS_LABELS.in, consumedPerSecond(consumed), (consumed.cpuUs ?? NaN) / (count - 1));
      // Its instance is deleted before the SDK's is created (the service allows 4 per user).
      await nr.deployChanged([]);

      const sdkConsumed = await sdk('consume', sdkTopic, String(count), `bench-sdk-${tag}`);
      sdkRecord(HTTPS_LABELS.sdkFetch, sdkConsumed);
    }
  } finally {
    await host.stop();
    // Unregistered at the end: the emulator stops answering records:batch after a topic it wrote to is deleted.
    for (const topic of topics) await identity.service.unregisterTopic(topic).catch(() => undefined);
    fs.rmSync(sdkHome, { recursive: true, force: true });
  }
  return {
    id: 'https',
    title: `8. HTTPS transport: ${count.toLocaleString('en-US')} × ${PAYLOAD_BYTES} B JSON over the service's REST data plane, against the Diaspora SDK's HTTPS path (${rounds} rounds)`,
    columns: { perSecond: 'msg/s median (min–max)', mbPerSecond: 'MB/s', cpuUs: 'client CPU µs/msg', ms: 'ms' },
    ratioMetric: 'perSecond',
    rows: [
      { label: HTTPS_LABELS.out, metrics: { perSecond: results[HTTPS_LABELS.out], mbPerSecond: results[HTTPS_LABELS.out].map((v) => (v * PAYLOAD_BYTES) / 1e6), cpuUs: cpuUs[HTTPS_LABELS.out] }, vs: HTTPS_LABELS.sdkProduce },
      { label: HTTPS_LABELS.sdkProduce, metrics: { perSecond: results[HTTPS_LABELS.sdkProduce], mbPerSecond: results[HTTPS_LABELS.sdkProduce].map((v) => (v * PAYLOAD_BYTES) / 1e6), cpuUs: cpuUs[HTTPS_LABELS.sdkProduce] } },
      { label: HTTPS_LABELS.in, metrics: { perSecond: results[HTTPS_LABELS.in], mbPerSecond: results[HTTPS_LABELS.in].map((v) => (v * PAYLOAD_BYTES) / 1e6), cpuUs: cpuUs[HTTPS_LABELS.in] }, vs: HTTPS_LABELS.sdkFetch },
      { label: HTTPS_LABELS.sdkFetch, metrics: { perSecond: results[HTTPS_LABELS.sdkFetch], mbPerSecond: results[HTTPS_LABELS.sdkFetch].map((v) => (v * PAYLOAD_BYTES) / 1e6), cpuUs: cpuUs[HTTPS_LABELS.sdkFetch] } },
      { label: HTTPS_READY_LABEL, metrics: { ms: readyMs } },
    ],
    notes: [
      `Node-RED: the Kafka sections' bench-source feeds diaspora-out (ack mode, whenNotReady queue) with at most ${sizes.window.toLocaleString('en-US')} messages unfinished, timed from the first message to the last acknowledgement; diaspora-in (format auto, commit auto, default window) into a counter, new group each run, timed from the first event to the last.`,
      `SDK (diaspora-event-sdk 0.5.1, Python): the same 1 KB JSON values (\`{"seq", "data"}\`, sent as JSON entries), \`Client.produce_batch\` of ${SDK_BATCH} entries one request after the other, timed after one warm-up request; \`RESTConsumer(format="binary", auto_offset_reset="earliest")\`, \`fetch(timeout_ms=1000)\` then \`commit()\` after each non-empty fetch, values decoded from base64 and parsed as JSON (what diaspora-in's format auto does), timed from the first fetched event to the last.`,
      'Both sides use one identity and one emulator, one after the other in each round (A B C D A B C D …); the emulator (Node.js, kafkajs, acks=all) and the broker share the machine\'s 2 cores with the client measured.',
      'Client CPU: user + system CPU time of the client\'s own process (Node-RED, or the SDK\'s Python) over the timed interval, per event; the emulator\'s and the broker\'s CPU are not in it. It is the figure least disturbed by other work on the machine.',
      'Ready = the config node\'s session state "ready" over HTTPS: a token from the stored sign-in and one answered GET /api/v3/namespace; no key, no broker.',
    ],
  };
}

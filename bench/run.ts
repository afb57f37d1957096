/**
 * `npm run bench`: installs what the comparisons need (kcat, kafka-python, Kafka's perf tools),
 * starts a fabric of its own (ports from 19800, BENCH_PORT_BASE, a temporary folder, key propagation delay 0), runs
 * every section against its real broker, and writes bench/results/<date>.json and
 * docs/benchmarks.md. BENCH_QUICK=1 runs small counts and 2 rounds; BENCH_ONLY=a,b runs some
 * sections (producer, consumer, isolation, live, latency, memory, redeploy, readiness, scaling, spool, https, profile, peers;
 * BENCH_ONLY=peers compares with the other Node-RED Kafka packages only);
 * BENCH_SKIP=java,kcat,python leaves outside clients out. `--render <results.json>` only rewrites
 * docs/benchmarks.md from a results file.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OutsideClients } from './clients/outside';
import { sizesFromEnv, type BenchContext } from './context';
import { say } from './lib/log';
import { NodeRedHost, type HostOptions } from './node-red/child';
import { machineInfo, writeResults, type BenchResults } from './results';
import { benchFabricDir, benchIdentity, registerTopic, startBenchFabric, stopBenchFabric, type BenchFabric } from './setup/fabric';
import { ensureTools } from './setup/tools';
import { consumerSection } from './sections/consumer';
import { isolationSection } from './sections/isolation';
import { latencySection } from './sections/latency';
import { LIVE_OFF, liveSection } from './sections/live';
import { memorySection, redeploySection } from './sections/memory';
import { NodeRedSession } from './sections/node-red-session';
import { peersSection } from './sections/peers';
import { producerSection } from './sections/producer';
import { nodeRedFloor, profileSection } from './sections/profile';
import { readinessSection } from './sections/readiness';
import { scalingSection } from './sections/scaling';
import { spoolSection } from './sections/spool';
import { httpsSection } from './sections/https';
import { PRODUCER_SETTINGS } from './clients/settings';

const SECTIONS = ['producer', 'consumer', 'isolation', 'live', 'latency', 'memory', 'redeploy', 'readiness', 'scaling', 'spool', 'https', 'profile', 'peers'] as const;
type Section = (typeof SECTIONS)[number];

function selectedSections(): Set<Section> {
  const only = process.env.BENCH_ONLY;
  if (!only) return new Set(SECTIONS);
  const names = only.split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of names) {
    if (!(SECTIONS as readonly string[]).includes(name)) throw new Error(`BENCH_ONLY: unknown section "${name}"; use ${SECTIONS.join(', ')}`);
  }
  return new Set(names as Section[]);
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const sizes = sizesFromEnv();
  const sections = selectedSections();
  say(`${sizes.quick ? 'quick' : 'full'} run: ${[...sections].join(', ')}; ${sizes.rounds} rounds, ${sizes.messages.toLocaleString('en-US')} messages per throughput run`);
  const tools = await ensureTools();
  const { dir, temporary } = benchFabricDir();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'diaspora-bench-work-'));
  const results: BenchResults = {
    date: new Date().toISOString(),
    quick: sizes.quick,
    sizes,
    machine: await machineInfo(tools),
    tables: [],
    targets: [],
    profiles: [],
    durationSeconds: 0,
  };
  const hosts: NodeRedHost[] = [];
  let fabric: BenchFabric | undefined;
  try {
    // The peers run over SASL_SSL (kafka-suite can only do SCRAM over TLS).
    fabric = await startBenchFabric(dir, sections.has('peers'));
    const description = fabric.description;
    const identity = await benchIdentity(description, description.clients[0]);
    const target = { brokers: identity.brokers, username: identity.username, password: identity.password };
    const ctx: BenchContext = {
      fabric: description,
      identity,
      target,
      tools,
      outside: new OutsideClients(tools, target, workDir, PRODUCER_SETTINGS),
      sizes,
      workDir,
      topic: (name) => registerTopic(identity, name),
    };
    /** Each section gets a Node-RED process of its own, so none inherits another's heap. */
    const withNodeRed = async (body: (nr: NodeRedSession) => Promise<void>, opts: HostOptions = {}): Promise<void> => {
      const host = await NodeRedHost.start(opts);
      hosts.push(host);
      try {
        await body(new NodeRedSession(host, description, identity.client));
      } finally {
        await host.stop();
      }
    };
    const section = async (name: Section, body: () => Promise<void>): Promise<void> => {
      if (!sections.has(name)) return;
      const t0 = Date.now();
      say(`— section ${name}`);
      await body();
      say(`— section ${name} done in ${Math.round((Date.now() - t0) / 1000)} s`);
    };
    await section('producer', () => withNodeRed(async (nr) => {
      results.tables.push(await producerSection(ctx, nr));
    }));
    await section('consumer', () => withNodeRed(async (nr) => {
      results.tables.push(await consumerSection(ctx, nr));
    }));
    await section('isolation', () => withNodeRed(async (nr) => {
      results.tables.push(await isolationSection(ctx, nr));
    }));
    // Two runtimes at once, one with the live figures turned off in its settings.
    await section('live', () => withNodeRed((on) => withNodeRed(async (off) => {
      results.tables.push(await liveSection(ctx, on, off));
    }, LIVE_OFF)));
    await section('latency', () => withNodeRed(async (nr) => {
      results.tables.push(await latencySection(ctx, nr));
    }));
    await section('scaling', () => withNodeRed(async (nr) => {
      results.tables.push(...(await scalingSection(ctx, nr)));
    }));
    await section('memory', async () => {
      results.tables.push(await memorySection(ctx));
    });
    await section('redeploy', async () => {
      results.tables.push(await redeploySection(ctx));
    });
    await section('readiness', async () => {
      // A second identity: "new key" rotates its key, which would cut the other clients off.
      const client = description.clients[1];
      results.tables.push(await readinessSection(ctx, client));
    });
    await section('peers', async () => {
      const caFile = description.tls?.caFile;
      const host = await NodeRedHost.start({ peers: true, ...(caFile ? { env: { NODE_EXTRA_CA_CERTS: caFile } } : {}) });
      hosts.push(host);
      try {
        results.tables.push(...(await peersSection(ctx, host)));
      } finally {
        await host.stop();
      }
    });
    await section('spool', async () => {
      results.tables.push(...(await spoolSection(ctx)));
    });
    await section('https', async () => {
      results.tables.push(await httpsSection(description, identity, sizes));
    });
    await section('profile', async () => {
      results.tables.push(await nodeRedFloor(ctx));
      results.profiles.push(...(await profileSection(ctx)));
    });
  } finally {
    for (const host of hosts) await host.stop().catch(() => undefined);
    if (fabric && process.env.BENCH_KEEP_FABRIC !== '1') {
      await stopBenchFabric(fabric, temporary).catch((err: unknown) => say(`stopping the fabric: ${String(err)}`));
    } else if (!fabric && temporary) {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  results.durationSeconds = Math.round((Date.now() - startedAt) / 1000);
  const written = writeResults(results, sections.size === SECTIONS.length);
  say(`wrote ${written.json} and ${written.markdown} (${results.durationSeconds} s)`);
}

/** `node dist/bench/run.js --render <results.json>`: rewrites docs/benchmarks.md from a results file (after editing bench/analysis.md). */
function render(file: string): void {
  const results = JSON.parse(fs.readFileSync(file, 'utf8')) as BenchResults;
  const written = writeResults(results, true);
  say(`wrote ${written.markdown} from ${file}`);
}

(process.argv[2] === '--render' ? Promise.resolve().then(() => render(path.resolve(process.argv[3] ?? ''))) : main()).catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});

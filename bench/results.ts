/** The results file (bench/results/<date>.json) and the Markdown report (docs/benchmarks.md). */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KAFKA_VERSION, repoRoot } from '../fabric/contract';
import { findJava } from '../fabric/kafka-broker';
import type { Sizes } from './context';
import type { ProfileSummary } from './lib/cpuprofile';
import { run } from './lib/proc';
import { ratio, summarize } from './lib/stats';
import { fmt, medianRatio, tableMarkdown, type Table, type Target } from './report';
import type { Tools } from './setup/tools';
import { WITH_IDLE } from './sections/isolation';
import { CONSUMER_ON, PRODUCER_ON } from './sections/live';
import { COUNTING, PEER_LABELS, VIA_FUNCTION } from './sections/peers';
import { HTTPS_LABELS, HTTPS_READY_LABEL } from './sections/https';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  java: string;
  kafkaBroker: string;
  kafkajs: string;
  nodeRed: string;
  kcat: string;
  kafkaPython: string;
  loadAverageAtStart: number[];
}

export interface BenchResults {
  date: string;
  quick: boolean;
  sizes: Sizes;
  machine: Machine;
  tables: Table[];
  targets: Target[];
  profiles: ProfileSummary[];
  durationSeconds: number;
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function osName(): string {
  try {
    const release = fs.readFileSync('/etc/os-release', 'utf8');
    const pretty = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(release)?.[1];
    return `${pretty ?? os.type()} (kernel ${os.release()})`;
  } catch {
    return `${os.type()} ${os.release()}`;
  }
}

export async function machineInfo(tools: Tools): Promise<Machine> {
  let java = tools.java?.version;
  if (!java) {
    try {
      const { java: command } = await findJava(KAFKA_VERSION);
      java = /version "([^"]+)"/.exec((await run(command, ['-version'], { timeoutMs: 30_000 })).stderr)?.[1];
    } catch {
      java = undefined;
    }
  }
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: osName(),
    node: process.version,
    java: java ?? 'unknown',
    kafkaBroker: `Apache Kafka ${KAFKA_VERSION} (KRaft, one node, SASL_PLAINTEXT SCRAM-SHA-512)`,
    kafkajs: packageVersion('kafkajs'),
    nodeRed: packageVersion('node-red'),
    kcat: tools.kcat?.version ?? `unavailable (${tools.missing.kcat ?? ''})`,
    kafkaPython: tools.python?.version ?? `unavailable (${tools.missing.python ?? ''})`,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

function table(results: BenchResults, id: string): Table | undefined {
  return results.tables.find((t) => t.id === id);
}

/** The issue's targets, from the tables that were measured. */
export function evaluateTargets(results: BenchResults): Target[] {
  const targets: Target[] = [];
  const throughput = (id: string, label: string, name: string): void => {
    const t = table(results, id);
    if (!t) return;
    const r = medianRatio(t, label);
    targets.push({ name, measured: `${fmt(r, 2)}× raw kafkajs`, goal: '≥ 0.9×', met: r >= 0.9 });
  };
  throughput('producer', 'Node-RED diaspora-out, ack mode', 'Node-RED producer (ack mode) vs raw kafkajs');
  throughput('producer', 'Node-RED diaspora-out, fire mode', 'Node-RED producer (fire mode) vs raw kafkajs');
  throughput('consumer', 'Node-RED diaspora-in', 'Node-RED consumer vs raw kafkajs');
  const consumer = table(results, 'consumer');
  if (consumer) {
    const perSecond = (label: string): number[] => consumer.rows.find((r) => r.label === label)?.metrics.perSecond ?? [];
    const r = ratio(perSecond('Node-RED diaspora-in'), perSecond('Node-RED diaspora-in, window 1')).ofMedians;
    // Results from before the window have no "window 1" row.
    if (!Number.isNaN(r)) targets.push({ name: 'consumer with the default window vs one event at a time', measured: `${fmt(r, 2)}×`, goal: '> 1×', met: r > 1 });
  }
  const isolation = table(results, 'isolation');
  if (isolation) {
    const r = medianRatio(isolation, WITH_IDLE);
    targets.push({ name: 'core flow with an idle diaspora-in deployed vs without', measured: `${fmt(r, 3)}×`, goal: '≥ 0.98×', met: r >= 0.98 });
  }
  const live = table(results, 'live');
  if (live) {
    for (const [label, name] of [[PRODUCER_ON, 'producer'], [CONSUMER_ON, 'consumer']] as const) {
      const r = medianRatio(live, label);
      targets.push({ name: `${name} with live figures on vs off`, measured: `${fmt(r, 3)}×`, goal: '≥ 0.98×', met: r >= 0.98 });
    }
  }
  const latency = table(results, 'latency');
  if (latency) {
    const r = medianRatio(latency, 'Node-RED @ 1000/s');
    targets.push({ name: 'p99 latency at 1,000 msg/s vs raw kafkajs', measured: `${fmt(r, 2)}×`, goal: '≤ 1.2×', met: r <= 1.2 });
  }
  const redeploy = table(results, 'redeploy');
  if (redeploy) {
    const growth = (label: string): number => redeploy.rows.find((r) => r.label === label)?.metrics.growth?.[0] ?? NaN;
    const before = (label: string): number => redeploy.rows.find((r) => r.label === label)?.metrics.before?.[0] ?? NaN;
    const rss = growth('RSS MB (after GC)');
    // Noise: RSS moves by a few MB as V8 and glibc keep or release pages; 10 % or 15 MB is the bound used here.
    const rssBound = Math.max(15, before('RSS MB (after GC)') * 0.1);
    targets.push({ name: 'RSS growth over the redeploys', measured: `${fmt(rss, 1)} MB`, goal: `< ${fmt(rssBound, 0)} MB (noise)`, met: rss < rssBound });
    const sockets = growth('sockets to the broker');
    targets.push({ name: 'broker socket growth over the redeploys', measured: fmt(sockets, 0), goal: '≤ 0', met: sockets <= 0 });
    const handles = growth('active handles');
    targets.push({ name: 'active handle growth over the redeploys', measured: fmt(handles, 0), goal: '≤ 2 (noise: HTTP keep-alive of the admin API)', met: handles <= 2 });
  }
  const peersProducer = table(results, 'peers-producer');
  if (peersProducer) {
    const r = medianRatio(peersProducer, PEER_LABELS.oursAck);
    targets.push({ name: 'producer (ack mode) vs the fastest other Node-RED Kafka package', measured: `${fmt(r, 2)}×`, goal: '≥ 3×', met: r >= 3 });
  }
  const peersConsumer = table(results, 'peers-consumer');
  if (peersConsumer) {
    const counting = medianRatio(peersConsumer, `${PEER_LABELS.ours} ${COUNTING}`);
    targets.push({ name: 'consumer → counting node vs the fastest other package', measured: `${fmt(counting, 2)}×`, goal: '≥ 1.5×', met: counting >= 1.5 });
    const viaFunction = medianRatio(peersConsumer, `${PEER_LABELS.ours} ${VIA_FUNCTION}`);
    targets.push({ name: 'consumer → function node vs the fastest other package', measured: `${fmt(viaFunction, 2)}×`, goal: '≥ 1.0×', met: viaFunction >= 1 });
  }
  const readiness = table(results, 'readiness');
  if (readiness) {
    const ms = summarize(readiness.rows[0]?.metrics.ms ?? []).median;
    targets.push({ name: 'deploy → ready with a stored key', measured: `${fmt(ms, 0)} ms`, goal: '< 2,000 ms', met: ms < 2000 });
  }
  const https = table(results, 'https');
  if (https) {
    for (const [label, name] of [[HTTPS_LABELS.out, 'diaspora-out over HTTPS vs the SDK\'s produce_batch loop'], [HTTPS_LABELS.in, 'diaspora-in over HTTPS vs the SDK\'s RESTConsumer.fetch loop']]) {
      const r = medianRatio(https, label);
      targets.push({ name, measured: `${fmt(r, 2)}×`, goal: '≥ 2×', met: r >= 2 });
    }
    const ms = summarize(https.rows.find((r) => r.label === HTTPS_READY_LABEL)?.metrics.ms ?? []).median;
    targets.push({ name: 'deploy → ready over HTTPS with a stored sign-in', measured: `${fmt(ms, 0)} ms`, goal: '< 500 ms', met: ms < 500 });
  }
  return targets;
}

/** Tables in the issue's order (sections run in another order, to share Node-RED processes). */
const TABLE_ORDER = ['producer', 'consumer', 'isolation', 'live', 'latency', 'memory', 'redeploy', 'readiness', 'scaling-payload', 'scaling-fanout', 'spool-cost', 'spool-drain', 'https', 'peers-producer', 'peers-consumer', 'node-red-floor'];

function tableRank(t: Table): number {
  const i = TABLE_ORDER.indexOf(t.id);
  return i < 0 ? TABLE_ORDER.length : i;
}

function profileMarkdown(p: ProfileSummary): string {
  const lines = [
    `#### ${p.label}`,
    '',
    `Busy CPU in the measured interval: ${fmt(p.busyMs / 1000, 2)} s. By component: ${Object.entries(p.components)
      .filter(([, v]) => v >= 0.5)
      .map(([k, v]) => `${k} ${fmt(v, 1)} %`)
      .join(', ')}.`,
    '',
    '| function (self time) | component | self % | total % |',
    '|---|---|---:|---:|',
    ...p.topSelf.map((h) => `| \`${h.function}\` | ${h.component} | ${fmt(h.selfPercent, 1)} | ${fmt(h.totalPercent, 1)} |`),
  ];
  if (p.topOurs.length) {
    lines.push('', '| our functions (inclusive) | self % | total % |', '|---|---:|---:|');
    lines.push(...p.topOurs.slice(0, 8).map((h) => `| \`${h.function}\` | ${fmt(h.selfPercent, 1)} | ${fmt(h.totalPercent, 1)} |`));
  }
  return `${lines.join('\n')}\n`;
}

export function renderMarkdown(results: BenchResults, analysis: string): string {
  const m = results.machine;
  const parts = [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` (bench/run.ts) on ${results.date.slice(0, 10)}${results.quick ? ' — QUICK run (small counts, not the reference figures)' : ''}; the run took ${Math.round(results.durationSeconds / 60)} min ${results.durationSeconds % 60} s. Raw figures: \`bench/results/${results.date.slice(0, 10)}.json\`.`,
    '',
    'Every comparison ran in the same run, interleaved (A B A B …) on a shared, noisy machine, against the benchmark\'s own local fabric (a real Kafka broker, SCRAM-SHA-512 over SASL_PLAINTEXT, topics with one partition). Figures are the median over rounds with the min–max in brackets; ratios are ratios of medians, with the range of the per-round ratios.',
    '',
    '## Machine',
    '',
    '| | |',
    '|---|---|',
    `| CPU | ${m.cpu}, ${m.cores} cores |`,
    `| memory | ${m.memoryGiB} GiB |`,
    `| OS | ${m.os} |`,
    `| Node.js | ${m.node} |`,
    `| Java | ${m.java} |`,
    `| broker | ${m.kafkaBroker} |`,
    `| Node-RED / kafkajs | ${m.nodeRed} / ${m.kafkajs} |`,
    `| kcat | ${m.kcat} |`,
    `| kafka-python | ${m.kafkaPython} |`,
    `| load average at start | ${m.loadAverageAtStart.join(', ')} |`,
    '',
    '## Targets',
    '',
    '| target | measured | goal | met |',
    '|---|---:|---:|:---:|',
    ...results.targets.map((t) => `| ${t.name} | ${t.measured} | ${t.goal} | ${t.met ? 'yes' : '**no**'} |`),
    '',
    '## Results',
    '',
    ...[...results.tables].sort((a, b) => tableRank(a) - tableRank(b)).map(tableMarkdown),
  ];
  if (results.profiles.length) {
    parts.push('## Where the time goes (node --cpu-prof)', '', 'Self time is spent in the function itself; total includes what it calls. Percentages are of the busy (non-idle) CPU time of the process during the measured interval.', '');
    parts.push(...results.profiles.map(profileMarkdown));
  }
  if (analysis.trim()) parts.push(analysis.trim(), '');
  return `${parts.join('\n')}\n`;
}

/**
 * A full run writes bench/results/<date>.json and docs/benchmarks.md; a quick or partial run
 * writes both into the temporary folder instead (so it never replaces the reference figures),
 * unless BENCH_WRITE=1.
 */
export function writeResults(results: BenchResults, complete: boolean): { json: string; markdown: string } {
  results.targets = evaluateTargets(results);
  const official = (complete && !results.quick) || process.env.BENCH_WRITE === '1';
  const day = results.date.slice(0, 10);
  const resultsDir = official ? path.join(repoRoot, 'bench', 'results') : os.tmpdir();
  const json = path.join(resultsDir, official ? `${day}.json` : `diaspora-bench-${day}.json`);
  const markdown = official ? path.join(repoRoot, 'docs', 'benchmarks.md') : path.join(os.tmpdir(), `diaspora-bench-${day}.md`);
  fs.mkdirSync(path.dirname(json), { recursive: true });
  fs.mkdirSync(path.dirname(markdown), { recursive: true });
  fs.writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  const analysisFile = path.join(repoRoot, 'bench', 'analysis.md');
  const analysis = fs.existsSync(analysisFile) ? fs.readFileSync(analysisFile, 'utf8') : '';
  fs.writeFileSync(markdown, renderMarkdown(results, analysis));
  return { json, markdown };
}

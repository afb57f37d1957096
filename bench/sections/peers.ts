/**
 * 7. The peers: this package's nodes against the other Node-RED Kafka packages (setup/peers.ts),
 * in one Node-RED process, against the same broker over SASL_SSL with SCRAM-SHA-512, interleaved
 * per round. Producers are timed from the source's start until the broker holds every event (the
 * topic's end offset, read by an admin client), the one yardstick that fits nodes with and without
 * an acknowledgement output. Consumers read the same filled topic from the earliest offset in a new
 * group each run, wired to the bench's counting node or to a function node and then the counter.
 * A peer that cannot connect or deliver becomes a row with the reason.
 */
import * as fs from 'node:fs';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { kafkajsProduce } from '../clients/kafkajs';
import type { BenchContext } from '../context';
import { say } from '../lib/log';
import { summarize } from '../lib/stats';
import type { FlowNode, NodeRedHost } from '../node-red/child';
import { catcher, counter, diasporaIn, doneWatch, out, passOn, source, tab, TAB } from '../node-red/flows';
import type { SourceParams } from '../node-red/protocol';
import type { Row, Table } from '../report';
import { PEER_PACKAGES } from '../setup/peers';
import { groupId } from './consumer';
import { consumedPerSecond } from './node-red-session';
import { PAYLOAD_BYTES, rawBatching } from './producer';

const CONFIG_IDS = { ours: 'peer-cfg-diaspora', kafkaSuite: 'peer-cfg-suite', kafkajs: 'peer-cfg-kafkajs', oriolrius: 'peer-cfg-oriolrius' } as const;
/** A producer or consumer that has not delivered anything new for this long has failed. */
const STALL_MS = 60_000;

export const PEER_LABELS = {
  oursAck: 'diaspora-out, ack mode',
  oursFire: 'diaspora-out, fire mode',
  ours: 'diaspora-in',
  kafkaSuite: PEER_PACKAGES.kafkaSuite,
  kafkajs: PEER_PACKAGES.kafkajs,
  oriolrius: PEER_PACKAGES.oriolrius,
} as const;
export const COUNTING = '→ counting node';
export const VIA_FUNCTION = '→ function node → counting node';

function at(node: FlowNode): FlowNode {
  return { z: TAB, x: 100, y: 100, ...node };
}

interface TlsTarget {
  brokers: string;
  caFile: string;
  ca: string;
}

/**
 * The four config nodes, configured as each package's own editor and runtime code read them
 * (property names from their .html/.js). `withCredentials` on the first deploy only.
 */
function configNodes(ctx: BenchContext, tls: TlsTarget, withCredentials: boolean): FlowNode[] {
  const { username, password } = ctx.identity;
  const client = ctx.identity.client;
  const creds = (c: Record<string, string>): { credentials?: Record<string, string> } => (withCredentials ? { credentials: c } : {});
  return [
    {
      id: CONFIG_IDS.ours,
      type: 'diaspora-config',
      name: 'bench-tls',
      api: 'v3',
      serviceUrl: ctx.fabric.serviceUrl,
      authUrl: ctx.fabric.authUrl,
      clientId: client.clientId,
      authMode: 'client',
      brokers: tls.brokers,
      kafkaAuth: 'scram-sha-512',
      tls: true,
      readyTimeout: 60,
      ...creds({ clientSecret: client.clientSecret, ca: tls.ca }),
    },
    {
      // kafka-suite only does SCRAM over TLS; its kafkajs adapter drops sslCa when ssl is true, so
      // the CA also reaches it through NODE_EXTRA_CA_CERTS (set for the whole bench Node-RED).
      id: CONFIG_IDS.kafkaSuite,
      type: 'kafka-suite-broker',
      name: 'bench',
      brokers: tls.brokers,
      clientId: 'bench-kafka-suite',
      backend: 'kafkajs',
      authType: 'sasl-scram-512',
      sslRejectUnauthorized: true,
      logLevel: 'warn',
      ...creds({ username, password, sslCa: tls.ca }),
    },
    {
      // No CA field: NODE_EXTRA_CA_CERTS. Timeouts are parsed without defaults, so they are set.
      id: CONFIG_IDS.kafkajs,
      type: 'kafkajs-client',
      name: 'bench',
      brokers: tls.brokers,
      clientid: 'bench-kafkajs',
      logLevel: 'warn',
      connectiontimeout: '10000',
      requesttimeout: '30000',
      advancedretry: false,
      auth: 'sasl',
      saslssl: true,
      saslmechanism: 'scram-sha-512',
      ...creds({ saslusername: username, saslpassword: password }),
    },
    {
      // The CA as a file path; username and password are plain properties (they land in flows.json).
      id: CONFIG_IDS.oriolrius,
      type: 'oriolrius-kafka-broker',
      name: 'bench',
      hosts: tls.brokers,
      usetls: true,
      cacert: tls.caFile,
      selfsign: false,
      usesasl: true,
      saslmechanism: 'scram-sha-512',
      username,
      password,
    },
  ];
}

interface ProducerVariant {
  label: string;
  sourceId: string;
  topic: string;
  serialized: boolean;
  /** The node never says it finished a message (no output, no done()): its source cannot be paced by completions. */
  unpaced?: boolean;
}

/** One source per producer; outputs (and done() where a node has none) feed the counter that paces the source. */
function producerNodes(v: { oursAck: string; oursFire: string; kafkaSuite: string; kafkajs: string; oriolrius: string }): FlowNode[] {
  return [
    source('src-ours-ack', [['p-ours-ack']]),
    out('p-ours-ack', v.oursAck, 'ack', [['bench-count']], CONFIG_IDS.ours),
    source('src-ours-fire', [['p-ours-fire']]),
    out('p-ours-fire', v.oursFire, 'fire', [[]], CONFIG_IDS.ours),
    source('src-suite', [['p-suite']]),
    at({ id: 'p-suite', type: 'kafka-suite-producer', broker: CONFIG_IDS.kafkaSuite, topic: v.kafkaSuite, acks: '-1', timeout: '30000', compression: 'none', wires: [['bench-count']] }),
    source('src-kafkajs', [['p-kafkajs']]),
    // No output and no done(): its one-argument input handler is never completed in Node-RED's eyes; the broker's end offset tells when it is through.
    at({ id: 'p-kafkajs', type: 'kafkajs-producer', client: CONFIG_IDS.kafkajs, topic: v.kafkajs, acknowledge: 'all', responsetimeout: 30000, wires: [] }),
    source('src-oriolrius', [['p-oriolrius']]),
    // ackTimeoutMs is its request timeout (100 ms when unset); output 2 carries its failures.
    at({ id: 'p-oriolrius', type: 'oriolrius-kafka-producer', broker: CONFIG_IDS.oriolrius, topic: v.oriolrius, requireAcks: -1, ackTimeoutMs: 30000, outputs: 2, wires: [['bench-count'], ['bench-errors']] }),
    doneWatch('bench-done', ['p-ours-fire']),
    counter('bench-count'),
    counter('bench-errors', 'error'),
    catcher('bench-catch', ['p-ours-ack', 'p-ours-fire', 'p-suite', 'p-kafkajs', 'p-oriolrius'], 'bench-errors'),
  ];
}

type ConsumerKind = 'ours' | 'kafkaSuite' | 'kafkajs' | 'oriolrius';

function consumerNode(kind: ConsumerKind, topic: string, group: string, first: string): FlowNode {
  const wires = [[first]];
  switch (kind) {
    case 'ours':
      return diasporaIn('c-node', topic, 'earliest', group, wires, CONFIG_IDS.ours);
    case 'kafkaSuite':
      return at({ id: 'c-node', type: 'kafka-suite-consumer', broker: CONFIG_IDS.kafkaSuite, topics: topic, groupId: group, startOffset: 'earliest', messageFormat: 'json', autoCommit: true, wires });
    case 'kafkajs':
      // frombeginning only applies with advancedoptions; it hands over msg.payload.value as a string (no JSON parse).
      return at({ id: 'c-node', type: 'kafkajs-consumer', client: CONFIG_IDS.kafkajs, topic, groupid: group, advancedoptions: true, frombeginning: true, clearoffsets: false, wires });
    case 'oriolrius':
      return at({ id: 'c-node', type: 'oriolrius-kafka-consumer', broker: CONFIG_IDS.oriolrius, topic, groupid: group, fromOffset: 'earliest', outOfRangeOffset: 'earliest', encoding: 'utf8', wires });
  }
}

function consumerNodes(kind: ConsumerKind, topic: string, viaFunction: boolean): FlowNode[] {
  const first = viaFunction ? 'bench-fn' : 'bench-count';
  return [
    consumerNode(kind, topic, groupId(`peer-${kind}`), first),
    ...(viaFunction ? [passOn('bench-fn', [['bench-count']])] : []),
    counter('bench-count'),
    counter('bench-errors', 'error'),
    catcher('bench-catch', ['c-node'], 'bench-errors'),
  ];
}

async function endOffset(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high), 0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The last lines Node-RED logged, for a failed peer's row. */
function lastLog(host: NodeRedHost): string {
  const lines = host.log().trim().split('\n').filter(Boolean);
  return lines.length ? ` (log: ${lines[lines.length - 1].slice(0, 200)})` : '';
}

interface Outcome {
  values: number[];
  cpuUs: number[];
  failure?: string;
}

/** Runs `measure` for every variant per round (A B C … A B C …); a variant that fails once is out, with the reason. */
async function interleaveOrFail(labels: string[], rounds: number, what: string, measure: (label: string) => Promise<{ perSecond: number; cpuUs?: number }>): Promise<Map<string, Outcome>> {
  const outcomes = new Map<string, Outcome>(labels.map((l) => [l, { values: [], cpuUs: [] }]));
  for (let round = 1; round <= rounds; round += 1) {
    for (const label of labels) {
      const o = outcomes.get(label)!;
      if (o.failure) continue;
      try {
        const m = await measure(label);
        o.values.push(m.perSecond);
        if (m.cpuUs !== undefined) o.cpuUs.push(m.cpuUs);
        say(`${what} round ${round}/${rounds}: ${label}: ${Math.round(m.perSecond)} msg/s`);
      } catch (err) {
        o.failure = err instanceof Error ? err.message.split('\n')[0] : String(err);
        say(`${what} round ${round}/${rounds}: ${label} FAILED: ${o.failure}`);
      }
    }
  }
  return outcomes;
}

function best(outcomes: Map<string, Outcome>, labels: string[]): string | undefined {
  let top: string | undefined;
  let topMedian = -Infinity;
  for (const label of labels) {
    const o = outcomes.get(label);
    if (!o || o.failure || o.values.length === 0) continue;
    const m = summarize(o.values).median;
    if (m > topMedian) {
      top = label;
      topMedian = m;
    }
  }
  return top;
}

function rows(outcomes: Map<string, Outcome>, ours: string[], peers: string[], notes: Record<string, string> = {}): Row[] {
  const top = best(outcomes, peers);
  return [...ours, ...peers].map((label) => {
    const o = outcomes.get(label)!;
    const note = o.failure ? `failed: ${o.failure}` : notes[label];
    return {
      label,
      metrics: o.values.length ? { perSecond: o.values, ...(o.cpuUs.length ? { cpuUs: o.cpuUs } : {}) } : {},
      ...(ours.includes(label) && top && o.values.length ? { vs: top } : {}),
      ...(note ? { note } : {}),
    };
  });
}

export async function peersSection(ctx: BenchContext, host: NodeRedHost): Promise<Table[]> {
  const tlsListener = ctx.fabric.tls;
  if (!tlsListener) throw new Error('the peers section needs the fabric\'s SASL_SSL listener; start the bench fabric with TLS (a kept BENCH_FABRIC_DIR fabric started without it cannot serve this section)');
  const tls: TlsTarget = { brokers: tlsListener.brokers.join(','), caFile: tlsListener.caFile, ca: fs.readFileSync(tlsListener.caFile, 'utf8') };
  const count = ctx.sizes.peerMessages;
  const rounds = ctx.sizes.peerRounds;
  const window = ctx.sizes.window;
  const kafka = new Kafka({ brokers: ctx.target.brokers, sasl: { mechanism: 'scram-sha-512', username: ctx.target.username, password: ctx.target.password }, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = {
      oursAck: await ctx.topic('peer-p-ours-ack'),
      oursFire: await ctx.topic('peer-p-ours-fire'),
      kafkaSuite: await ctx.topic('peer-p-suite'),
      kafkajs: await ctx.topic('peer-p-kafkajs'),
      oriolrius: await ctx.topic('peer-p-oriolrius'),
      consume: await ctx.topic('peer-c-1k'),
    };
    const deploy = async (nodes: FlowNode[], first = false): Promise<void> => {
      await host.deploy([tab(), ...configNodes(ctx, tls, first), ...nodes], first ? 'full' : 'nodes');
    };
    await host.readyArm(CONFIG_IDS.ours);
    await deploy([], true);
    await host.waitReady(CONFIG_IDS.ours, 60_000);

    // Producers: all deployed at once, connected and warmed up, then run one after another.
    const producers: ProducerVariant[] = [
      { label: PEER_LABELS.oursAck, sourceId: 'src-ours-ack', topic: topics.oursAck, serialized: false },
      { label: PEER_LABELS.oursFire, sourceId: 'src-ours-fire', topic: topics.oursFire, serialized: false },
      { label: PEER_LABELS.kafkaSuite, sourceId: 'src-suite', topic: topics.kafkaSuite, serialized: false },
      { label: PEER_LABELS.oriolrius, sourceId: 'src-oriolrius', topic: topics.oriolrius, serialized: false },
      // Last: it has no back-pressure, and all its events at once are the heaviest load on the process.
      // It passes msg.payload to kafkajs as the value: a string (or Buffer) only.
      { label: PEER_LABELS.kafkajs, sourceId: 'src-kafkajs', topic: topics.kafkajs, serialized: true, unpaced: true },
    ];
    await deploy(producerNodes(topics));
    const produce = async (v: ProducerVariant, n: number): Promise<{ perSecond: number }> => {
      const before = await endOffset(admin, v.topic);
      await host.stats(true);
      // Nothing counts an unpaced node's messages: the run is not waited for, only the broker.
      await host.arm(v.unpaced ? 0 : n);
      const params: SourceParams = { count: n, window: v.unpaced ? n : window, rate: 0, payloadBytes: PAYLOAD_BYTES, latency: false, serialized: v.serialized };
      const t0 = performance.now();
      await host.startSource(v.sourceId, params);
      let seen = before;
      let progressAt = performance.now();
      for (;;) {
        const now = await endOffset(admin, v.topic);
        if (now >= before + n) break;
        if (now !== seen) {
          seen = now;
          progressAt = performance.now();
        } else if (performance.now() - progressAt > STALL_MS) {
          const r = await host.result(1).catch(() => undefined);
          const why = r && r.errors > 0 ? `; ${r.errors} errors, the first: ${r.firstError}` : lastLog(host);
          throw new Error(`${now - before} of ${n} events reached the broker, none more in ${STALL_MS / 1000} s${why}`);
        }
        await sleep(10);
      }
      const elapsed = performance.now() - t0;
      const r = await host.result(STALL_MS);
      if (r.errors > 0) throw new Error(`${r.errors} errors, the first: ${r.firstError}`);
      return { perSecond: (n / elapsed) * 1000 };
    };
    const byLabel = new Map(producers.map((p) => [p.label, p]));
    const warmupFailures = new Map<string, string>();
    for (const p of producers) {
      try {
        await produce(p, 200);
      } catch (err) {
        warmupFailures.set(p.label, err instanceof Error ? err.message.split('\n')[0] : String(err));
        say(`peers: ${p.label} failed its warm-up: ${warmupFailures.get(p.label)}`);
      }
    }
    const producerOutcomes = await interleaveOrFail(
      producers.map((p) => p.label),
      rounds,
      'peers producer',
      (label) => {
        const failed = warmupFailures.get(label);
        return failed ? Promise.reject(new Error(failed)) : produce(byLabel.get(label)!, count);
      },
    );

    // Consumers: one deployed per run, new group, from the earliest offset of a filled topic.
    await deploy([]);
    say(`peers: filling ${topics.consume} with ${count} events (raw kafkajs)`);
    await kafkajsProduce(ctx.target, topics.consume, count, PAYLOAD_BYTES, rawBatching(PAYLOAD_BYTES));
    const kinds: Array<[ConsumerKind, string]> = [
      ['ours', PEER_LABELS.ours],
      ['kafkaSuite', PEER_LABELS.kafkaSuite],
      ['kafkajs', PEER_LABELS.kafkajs],
      ['oriolrius', PEER_LABELS.oriolrius],
    ];
    const consumerLabel = (name: string, viaFunction: boolean): string => `${name} ${viaFunction ? VIA_FUNCTION : COUNTING}`;
    const consumers = new Map<string, { kind: ConsumerKind; viaFunction: boolean }>();
    for (const viaFunction of [false, true]) for (const [kind, name] of kinds) consumers.set(consumerLabel(name, viaFunction), { kind, viaFunction });
    const consume = async (label: string): Promise<{ perSecond: number; cpuUs?: number }> => {
      const { kind, viaFunction } = consumers.get(label)!;
      await host.stats(true);
      await host.arm(count);
      try {
        await deploy(consumerNodes(kind, topics.consume, viaFunction));
        const r = await host.result(STALL_MS * 2);
        if (r.errors > 0) throw new Error(`${r.errors} errors, the first: ${r.firstError}`);
        if (r.completed < count) throw new Error(`${r.completed} of ${count} events in ${(STALL_MS * 2) / 1000} s${lastLog(host)}`);
        return { perSecond: consumedPerSecond(r), ...(r.cpuUs !== undefined ? { cpuUs: r.cpuUs / (count - 1) } : {}) };
      } finally {
        await deploy([]);
      }
    };
    const consumerOutcomes = await interleaveOrFail([...consumers.keys()], rounds, 'peers consumer', consume);

    const common = `one Node-RED process, SASL_SSL with SCRAM-SHA-512, ${count.toLocaleString('en-US')} × ${PAYLOAD_BYTES} B JSON, 1 partition, ${rounds} rounds interleaved`;
    const peerNames = [PEER_LABELS.kafkaSuite, PEER_LABELS.kafkajs, PEER_LABELS.oriolrius];
    const producerTable: Table = {
      id: 'peers-producer',
      title: `9a. Producers against the other Node-RED Kafka packages: ${common}`,
      columns: { perSecond: 'msg/s median (min–max)' },
      ratioMetric: 'perSecond',
      rows: rows(producerOutcomes, [PEER_LABELS.oursAck, PEER_LABELS.oursFire], peerNames, {
        [PEER_LABELS.kafkaSuite]: 'one awaited send() per message; acks -1; output after the ack',
        [PEER_LABELS.kafkajs]: 'kafkajs 1.x, one send() per message, not awaited (no output, no done(err)); fed JSON strings',
        [PEER_LABELS.oriolrius]: 'one awaited send() per message, maxInFlightRequests 1; output after the ack',
      }),
      notes: [
        `Every producer is fed by its own bench-source with at most ${window.toLocaleString('en-US')} messages unfinished (finished = its output message, or its done() for diaspora-out in fire mode; node-red-contrib-kafkajs never completes a message, so its source sends all at once) and timed from the source's start until the topic's end offset (read every 10 ms by an admin client) holds every event: the same yardstick for nodes with and without an acknowledgement. All were connected and warmed up with 200 events first.`,
        'Each package is configured as its own editor and runtime code read the properties (see bench/sections/peers.ts); the CA reaches node-red-contrib-kafkajs and kafka-suite (whose adapter drops its sslCa when TLS is on) through NODE_EXTRA_CA_CERTS, @oriolrius as a file path, diaspora-config as its ca credential.',
        'Ratio: of the medians, against the fastest peer.',
      ],
    };
    const consumerNote = {
      [consumerLabel(PEER_LABELS.kafkajs, false)]: 'hands on the value as a string: no JSON.parse',
      [consumerLabel(PEER_LABELS.kafkajs, true)]: 'hands on the value as a string: no JSON.parse',
    };
    const ourConsumers = [consumerLabel(PEER_LABELS.ours, false), consumerLabel(PEER_LABELS.ours, true)];
    const consumerRows: Row[] = [];
    for (const viaFunction of [false, true]) {
      const labels = kinds.map(([, name]) => consumerLabel(name, viaFunction));
      consumerRows.push(...rows(consumerOutcomes, labels.filter((l) => ourConsumers.includes(l)), labels.filter((l) => !ourConsumers.includes(l)), consumerNote));
    }
    const consumerTable: Table = {
      id: 'peers-consumer',
      title: `9b. Consumers against the other Node-RED Kafka packages, from the earliest offset, new group each run: ${common}`,
      columns: { perSecond: 'msg/s median (min–max)', cpuUs: 'CPU µs/msg' },
      ratioMetric: 'perSecond',
      rows: consumerRows,
      notes: [
        'Timed from the first event counted to the last (group join and connection set-up left out). The counting node is a bench node type that counts and calls done(): it measures the consumer itself. The function node (`return msg;`) is what users wire behind a consumer.',
        'diaspora-in: format auto (JSON parsed), commit auto, its default window; kafka-suite: messageFormat json, autoCommit; @oriolrius: JSON.parse of every value (and a JSON.stringify for a debug line, whatever the log level); node-red-contrib-kafkajs: value as a string.',
        'CPU µs/msg: user + system CPU of the Node-RED process over the same interval, per event. Ratio: of the medians, against the fastest peer with the same downstream.',
      ],
    };
    return [producerTable, consumerTable];
  } finally {
    await admin.disconnect();
  }
}

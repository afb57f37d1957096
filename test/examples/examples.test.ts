/**
 * Every flow in `examples/` is loaded by the real Node-RED runtime with this package's nodes and
 * the core nodes it uses, and deploys without errors; each also runs against the local fabric (its
 * config node switched to client credentials, or, for the headless device, given them through the
 * environment as a device would be).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import diasporaConfig = require('../../nodes/diaspora-config/diaspora-config');
import diasporaTopic = require('../../nodes/diaspora-topic/diaspora-topic');
import diasporaOut = require('../../nodes/diaspora-out/diaspora-out');
import diasporaIn = require('../../nodes/diaspora-in/diaspora-in');
import { Kafka, logLevel } from 'kafkajs';
import { repoRoot, type FabricDescription } from '../../fabric/contract';
import { loadFabric } from '../fixtures/fabric';
import { fabricControl } from '../fixtures/fabric-control';
import { eventually, nodeRedHelper, sleep, type FlowNode, type NodeModule, type RuntimeNode } from '../fixtures/node-red';

const helper = nodeRedHelper();
const EXAMPLES_DIR = path.join(repoRoot, 'examples');
const OUR_NODES: Record<string, NodeModule> = {
  'diaspora-config': diasporaConfig as NodeModule,
  'diaspora-topic': diasporaTopic as NodeModule,
  'diaspora-out': diasporaOut as NodeModule,
  'diaspora-in': diasporaIn as NodeModule,
};
/** Core types the test helper loads by itself (it would refuse a second registration). */
const HELPER_LOADS = new Set(['catch', 'status', 'complete']);
/** Flow-file entries that are not nodes of a registered type. */
const STRUCTURAL = new Set(['tab', 'subflow', 'group']);
/** Node-RED's log levels (RED.log): fatal 10, error 20. */
const ERROR_LEVEL = 20;
const WORKS_WITHIN_MS = 45_000;

interface Example {
  label: string;
  file: string;
  flow: FlowNode[];
}

interface Msg {
  [property: string]: unknown;
  payload?: unknown;
  diaspora?: { topic: string; partition: number; offset: string };
  offset?: string;
}

function readExamples(): Example[] {
  return fs
    .readdirSync(EXAMPLES_DIR)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => {
      const file = path.join(EXAMPLES_DIR, name);
      const flow = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
      assert.ok(Array.isArray(flow), `${name} is not a flow (an array of nodes)`);
      return { label: name.slice(0, -'.json'.length), file, flow: flow as FlowNode[] };
    });
}

/** Every core node type → the module that registers it, found in the installed @node-red/nodes. */
function coreNodeModules(): Map<string, string> {
  const coreDir = path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core');
  const modules = new Map<string, string>();
  for (const category of fs.readdirSync(coreDir)) {
    const dir = path.join(coreDir, category);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.js'))) {
      const source = fs.readFileSync(path.join(dir, name), 'utf8');
      for (const match of source.matchAll(/registerType\(\s*["']([\w -]+)["']/g)) modules.set(match[1], path.join(dir, name));
    }
  }
  return modules;
}

/** Our nodes plus the core modules the flow uses. */
function modulesFor(flow: FlowNode[], core: Map<string, string>): NodeModule[] {
  const modules = new Set<NodeModule>(Object.values(OUR_NODES));
  for (const type of new Set(flow.map((n) => n.type))) {
    if (STRUCTURAL.has(type) || HELPER_LOADS.has(type) || OUR_NODES[type]) continue;
    const file = core.get(type);
    assert.ok(file, `node type "${type}" is neither one of ours nor a Node-RED core node`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- core node files are found at run time, not importable statically
    modules.add(require(file) as NodeModule);
  }
  return [...modules];
}

/** The runtime's log lines at error level or worse. */
function loggedErrors(): string[] {
  return helper
    .log()
    .args.map((args) => args[0] as { level?: number; msg?: unknown })
    .filter((entry) => typeof entry?.level === 'number' && entry.level <= ERROR_LEVEL)
    .map((entry) => String(entry.msg instanceof Error ? entry.msg.message : entry.msg));
}

function node(id: string): RuntimeNode & { receive(msg: object): void } {
  const found = helper.getNode(id);
  assert.ok(found, `node ${id} is not deployed`);
  return found as RuntimeNode & { receive(msg: object): void };
}

function byName(flow: FlowNode[], type: string, name: string): FlowNode {
  const found = flow.find((n) => n.type === type && n.name === name);
  assert.ok(found, `no ${type} node named "${name}"`);
  return found;
}

function collect(id: string): Msg[] {
  const got: Msg[] = [];
  node(id).on('input', (msg: unknown) => got.push(msg as Msg));
  return got;
}

/** The example with its diaspora-config nodes pointed at the running fabric, with a confidential client. */
function onFabric(flow: FlowNode[], fabric: FabricDescription): { flow: FlowNode[]; credentials: Record<string, object> } {
  const credentials: Record<string, object> = {};
  const rewritten = flow.map((n) => {
    if (n.type !== 'diaspora-config') return n;
    const client = fabric.clients[n.api === 'v3' ? 1 : 0];
    credentials[n.id] = { clientSecret: client.clientSecret };
    return {
      ...n,
      authMode: 'client',
      clientId: client.clientId,
      serviceUrl: fabric.serviceUrl,
      authUrl: fabric.authUrl,
      brokers: fabric.brokers.join(','),
    };
  });
  return { flow: rewritten, credentials };
}

/** The identity the headless example reads from the environment (the fabric's first client). */
const DEVICE_ENV = ['DIASPORA_SDK_CLIENT_ID', 'DIASPORA_SDK_CLIENT_SECRET'] as const;

/** Waits until every diaspora-topic node of the flow (registering at deploy) answered on "service answer". */
function registrations(flow: FlowNode[]): () => Promise<void> {
  const answers = collect(byName(flow, 'debug', 'service answer').id);
  const expected = flow.filter((n) => n.type === 'diaspora-topic').length;
  return async () => {
    await eventually(`${expected} registration answers`, () => (answers.length >= expected ? true : undefined), WORKS_WITHIN_MS);
    for (const answer of answers) assert.ok(['success', 'no-op'].includes((answer.payload as { status?: string }).status ?? ''), JSON.stringify(answer.payload));
  };
}

/** The credentials an example carries itself (references to environment variables, never secrets). */
function credentialsIn(flow: FlowNode[]): Record<string, object> {
  return Object.fromEntries(flow.filter((n) => n.credentials).map((n) => [n.id, n.credentials as object]));
}

describe('examples/', function () {
  this.timeout(90_000);
  const examples = readExamples();
  const core = coreNodeModules();
  const savedEnv = DEVICE_ENV.map((name) => process.env[name]);

  before(function () {
    const client = loadFabric().clients[0];
    process.env.DIASPORA_SDK_CLIENT_ID = client.clientId;
    process.env.DIASPORA_SDK_CLIENT_SECRET = client.clientSecret;
  });

  after(function () {
    DEVICE_ENV.forEach((name, i) => {
      if (savedEnv[i] === undefined) delete process.env[name];
      else process.env[name] = savedEnv[i];
    });
  });

  afterEach(async function () {
    await helper.unload();
  });

  it('has the examples the package promises, each explained by a Comment node, using every node type of ours', function () {
    const labels = examples.map((e) => e.label);
    const promised = [
      'register a topic, publish and consume',
      'consume from the earliest event',
      'lab instrument pipeline',
      'headless device with client credentials from the environment',
      'manual commit after a slow write',
      'catch to an errors topic',
      'instrument behind a firewall (HTTPS only)',
      'store and forward through an outage',
    ];
    for (const wanted of promised) {
      assert.ok(labels.includes(wanted), `no example "${wanted}" (have: ${labels.join('; ')})`);
    }
    for (const example of examples) {
      const comment = example.flow.find((n) => n.type === 'comment');
      assert.ok(comment && typeof comment.info === 'string' && comment.info.length > 40, `"${example.label}" has no explaining Comment node`);
    }
    const used = new Set(examples.flatMap((e) => e.flow.map((n) => n.type)));
    for (const type of Object.keys(OUR_NODES)) assert.ok(used.has(type), `no example uses ${type}`);
  });

  for (const example of examples) {
    it(`"${example.label}" deploys without errors`, async function () {
      const ids = new Set<string>();
      for (const n of example.flow) {
        assert.ok(typeof n.id === 'string' && !ids.has(n.id), `duplicate or missing node id ${String(n.id)}`);
        ids.add(n.id);
        for (const wire of (n.wires as string[][] | undefined) ?? []) {
          for (const target of wire) assert.ok(example.flow.some((m) => m.id === target), `${n.id} is wired to a missing node ${target}`);
        }
        if (typeof n.fabric === 'string') {
          const config = example.flow.find((m) => m.id === n.fabric);
          assert.equal(config?.type, 'diaspora-config', `${n.type} ${n.id} refers to a missing diaspora-config node`);
        }
      }

      await helper.load(modulesFor(example.flow, core), example.flow, credentialsIn(example.flow));
      for (const n of example.flow) {
        if (!STRUCTURAL.has(n.type)) assert.ok(helper.getNode(n.id), `${n.type} ${n.id} did not start`);
      }
      // Let "inject once" nodes fire and the config nodes settle.
      await sleep(1500);
      assert.deepEqual(loggedErrors(), [], 'errors logged at deploy');
    });
  }

  describe('on the local fabric', function () {
    let fabric: FabricDescription;

    before(function () {
      fabric = loadFabric();
    });

    it('"register a topic, publish and consume": each step works as the Comment says', async function () {
      const example = examples.find((e) => e.label === 'register a topic, publish and consume');
      assert.ok(example);
      const { flow, credentials } = onFabric(example.flow, fabric);
      await helper.load(modulesFor(flow, core), flow, credentials);
      const answers = collect(byName(flow, 'debug', 'service answer').id);
      const acknowledged = collect(byName(flow, 'debug', 'acknowledged').id);
      const consumed = collect(byName(flow, 'debug', 'consumed').id);
      const press = (name: string): void => node(byName(flow, 'inject', name).id).receive({});
      const answer = async (count: number): Promise<Msg> =>
        eventually(`service answer ${count}`, () => answers[count - 1], WORKS_WITHIN_MS);

      press('1. register');
      assert.ok(['success', 'no-op'].includes(String((await answer(1)).payload && (answers[0].payload as { status: string }).status)), JSON.stringify(answers[0]?.payload));
      press('2. list');
      assert.ok(((await answer(2)).payload as { topics: string[] }).topics.includes('nodered-demo'), JSON.stringify(answers[1].payload));
      press('3. publish');
      const ack = await eventually('the acknowledgement', () => acknowledged[0], WORKS_WITHIN_MS);
      assert.equal(ack.diaspora?.topic, 'nodered-demo');
      // The consumer started before the topic was registered: it restarts (with backoff) until it can read it.
      const event = await eventually(
        `the consumed event at offset ${ack.diaspora?.offset}`,
        () => consumed.find((m) => m.offset === ack.diaspora?.offset),
        WORKS_WITHIN_MS,
      );
      assert.deepEqual(event.payload, { message: 'Synchronous message from Diaspora SDK' });

      press('5. unregister');
      assert.equal(((await answer(3)).payload as { status: string }).status, 'success');
    });

    it('"lab instrument pipeline": readings published every second reach the rolling summary', async function () {
      const example = examples.find((e) => e.label === 'lab instrument pipeline');
      assert.ok(example);
      const { flow, credentials } = onFabric(example.flow, fabric);
      await helper.load(modulesFor(flow, core), flow, credentials);
      const summaries = collect(byName(flow, 'debug', 'summary').id);
      const errors = collect(byName(flow, 'debug', 'error').id);
      await eventually(`two rolling summaries (errors: ${errors.length})`, () => (summaries.length >= 2 ? true : undefined), WORKS_WITHIN_MS);
      const last = summaries.at(-1)?.payload as { count: number; mean: number; min: number; max: number; unit: string };
      assert.ok(last.count >= 2, JSON.stringify(last));
      assert.ok(last.min <= last.mean && last.mean <= last.max && last.min > 15 && last.max < 30, JSON.stringify(last));
      assert.equal(last.unit, 'C');
    });

    it('"headless device with client credentials from the environment": ready as the client the environment names, heartbeats arrive', async function () {
      const example = examples.find((e) => e.label === 'headless device with client credentials from the environment');
      assert.ok(example);
      const config = example.flow.find((n) => n.type === 'diaspora-config');
      assert.equal(config?.clientId, '${DIASPORA_SDK_CLIENT_ID}');
      assert.deepEqual(config?.credentials, { clientSecret: '${DIASPORA_SDK_CLIENT_SECRET}' }, 'the example names the variables, not a secret');
      const flow = example.flow.map((n) =>
        n.type === 'diaspora-config' ? { ...n, serviceUrl: fabric.serviceUrl, authUrl: fabric.authUrl, brokers: fabric.brokers.join(',') } : n,
      );
      await helper.load(modulesFor(flow, core), flow, credentialsIn(flow));
      const heartbeats = collect(byName(flow, 'debug', 'heartbeat received').id);
      const errors = collect(byName(flow, 'debug', 'error').id);
      const beat = await eventually(`a heartbeat (errors: ${JSON.stringify(errors.map((e) => e.error))})`, () => heartbeats[0], WORKS_WITHIN_MS);
      assert.ok(typeof (beat.payload as { time?: unknown }).time === 'string', JSON.stringify(beat.payload));
      const session = (helper.getNode(config.id) as unknown as { session: { state: { state: string; sub?: string } } }).session;
      assert.equal(session.state.sub, fabric.clients[0].sub, 'signed in as the client of DIASPORA_SDK_CLIENT_ID');
    });

    it('"manual commit after a slow write": the group\'s offset moves past an event only after its write finished', async function () {
      const example = examples.find((e) => e.label === 'manual commit after a slow write');
      assert.ok(example);
      const { flow, credentials } = onFabric(example.flow, fabric);
      const consumer = byName(flow, 'diaspora-in', '');
      const topic = String(consumer.topics);
      const groupId = String(consumer.groupId);
      assert.equal(consumer.commit, 'manual');
      const kafka = new Kafka({
        brokers: fabric.brokers,
        clientId: 'examples-test',
        sasl: { mechanism: 'scram-sha-512', username: fabric.admin.username, password: fabric.admin.password },
        logLevel: logLevel.NOTHING,
      });
      const admin = kafka.admin();
      await admin.connect();
      try {
        await helper.load(modulesFor(flow, core), flow, credentials);
        const registered = registrations(flow);
        const written = collect(byName(flow, 'debug', 'written').id);
        const published = collect(byName(flow, 'debug', 'published').id);
        const errors = collect(byName(flow, 'debug', 'error').id);
        await registered();
        node(byName(flow, 'inject', 'publish five readings').id).receive({});
        await eventually(`five acknowledgements (errors: ${errors.length})`, () => (published.length >= 5 ? true : undefined), WORKS_WITHIN_MS);
        const high = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));

        // While the writes run, no sample of the committed offsets may be ahead of what was written.
        let checkedWhilePending = 0;
        const committed = async (): Promise<Map<number, number>> => {
          const [answer] = await admin.fetchOffsets({ groupId, topics: [topic] });
          return new Map(answer.partitions.map((p) => [p.partition, Number(p.offset)]));
        };
        await eventually(
          'every event written and committed',
          async () => {
            const now = await committed();
            const writtenTo = new Map<number, number>();
            for (const m of written) {
              const at = m.diaspora;
              if (at && at.topic === topic) writtenTo.set(at.partition, Math.max(writtenTo.get(at.partition) ?? -1, Number(at.offset)));
            }
            for (const [partition, offset] of now) {
              if (offset <= 0) continue;
              const last = writtenTo.get(partition);
              if (last === undefined) continue; // committed by an earlier run of this test
              assert.ok(offset <= last + 1, `partition ${partition}: committed ${offset} while the last finished write was at ${last}`);
            }
            if ([...high].some(([p, h]) => (now.get(p) ?? -1) < h)) {
              checkedWhilePending++;
              return undefined;
            }
            return true;
          },
          WORKS_WITHIN_MS,
          50,
        );
        assert.ok(checkedWhilePending > 0, 'the committed offsets were never seen behind the topic: the commit did not wait for the write');
        assert.ok(written.length >= 5, `${written.length} events written`);
      } finally {
        await admin.disconnect();
      }
    });

    it('"catch to an errors topic": the bad reading comes back from the errors topic with its error; the good one goes on', async function () {
      const example = examples.find((e) => e.label === 'catch to an errors topic');
      assert.ok(example);
      const { flow, credentials } = onFabric(example.flow, fabric);
      await helper.load(modulesFor(flow, core), flow, credentials);
      const registered = registrations(flow);
      const valid = collect(byName(flow, 'debug', 'valid reading').id);
      const deadLetters = collect(byName(flow, 'debug', 'dead letter').id);
      const otherErrors = collect(byName(flow, 'debug', 'other error').id);
      await registered();
      const pressedAt = Date.now();
      node(byName(flow, 'inject', 'publish two readings').id).receive({});
      type Letter = { original: { temperature: unknown }; from?: { topic: string; offset: string }; error: { message: string; node: string }; time: string };
      const letter = await eventually(
        `the dead letter (other errors: ${JSON.stringify(otherErrors.map((e) => e.error))})`,
        () => deadLetters.map((m) => m.payload as Letter).find((l) => Date.parse(l.time) >= pressedAt),
        WORKS_WITHIN_MS,
      );
      assert.equal(letter.original.temperature, 'n/a', JSON.stringify(letter));
      assert.equal(letter.from?.topic, 'lab-readings', 'the dead letter says where the event came from');
      assert.match(letter.error.message, /reading without a numeric temperature/);
      assert.equal(letter.error.node, 'check the reading');
      await eventually('the good reading', () => valid.find((m) => (m.payload as { temperature: unknown }).temperature === 21.4), WORKS_WITHIN_MS);
      assert.deepEqual(otherErrors, [], 'no other error');
    });

    it('"instrument behind a firewall (HTTPS only)": readings go out and come back over HTTPS, with no key created', async function () {
      const example = examples.find((e) => e.label === 'instrument behind a firewall (HTTPS only)');
      assert.ok(example);
      const { flow, credentials } = onFabric(example.flow, fabric);
      await helper.load(modulesFor(flow, core), flow, credentials);
      const received = collect(byName(flow, 'debug', 'received').id);
      const errors = collect(byName(flow, 'debug', 'error').id);
      await eventually(`two readings received (errors: ${JSON.stringify(errors.map((e) => e.error))})`, () => (received.length >= 2 ? true : undefined), WORKS_WITHIN_MS);
      const reading = received[0].payload as { instrument: string; sequence: number; peak_nm: number };
      assert.equal(reading.instrument, 'spectrometer-7');
      assert.ok(reading.peak_nm > 531 && reading.peak_nm < 533, JSON.stringify(reading));
      const config = flow.find((n) => n.type === 'diaspora-config');
      assert.ok(config);
      assert.equal(config.transport, 'https');
      const stored = helper.credentials.get(config.id) as { secretKey?: string } | undefined;
      assert.equal(stored?.secretKey, undefined, 'no Diaspora key was created');
      // On a new fabric the consumer starts before the topic is registered: it says so and restarts. Nothing else may fail.
      const other = errors.filter((e) => !/topic "instrument-readings" is not registered to this identity.*restarting/.test(String((e.error as { message?: unknown } | undefined)?.message)));
      assert.deepEqual(other, []);
    });

    it('"store and forward through an outage": readings taken while the fabric is not ready arrive, in order, without a gap', async function () {
      const example = examples.find((e) => e.label === 'store and forward through an outage');
      assert.ok(example);
      const publisher = byName(example.flow, 'diaspora-out', 'spooled publish');
      assert.equal(publisher.whenNotReady, 'spool');
      const { flow, credentials } = onFabric(example.flow, fabric);
      // A new key that takes a while to work: the readings of those seconds go to the spool.
      const control = fabricControl(fabric);
      const delayBefore = await control.setKeyPropagationDelay(6_000);
      try {
        const loadedAt = Date.now();
        await helper.load(modulesFor(flow, core), flow, credentials);
        const readings = collect(byName(flow, 'debug', 'readings').id);
        const errors = collect(byName(flow, 'debug', 'error').id);
        // The topic keeps the readings of earlier deploys (read from the earliest): only this deploy's count.
        type Reading = { sequence: number; time: string };
        const sequences = (): number[] =>
          readings.map((m) => m.payload as Reading).filter((r) => Date.parse(r.time) >= loadedAt).map((r) => r.sequence);
        await eventually(
          `readings 1 to 10 (got ${JSON.stringify(sequences())}; errors: ${JSON.stringify(errors.map((e) => e.error))})`,
          () => (sequences().length >= 10 ? true : undefined),
          WORKS_WITHIN_MS,
        );
        assert.deepEqual(sequences().slice(0, 10), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'every reading, in order, from the first');
      } finally {
        await control.setKeyPropagationDelay(delayBefore);
      }
    });
  });
});

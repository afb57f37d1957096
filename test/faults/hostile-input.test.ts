/**
 * Hostile and mistaken input, table-driven: payloads, topics, keys, headers, partitions and
 * timestamps of every wrong kind, malformed and misplaced control messages, a non-JSON event under
 * format = json, invalid settings in the config node, and a service answering HTML, a 500 or too
 * slowly. Each case must end in a clear message through done(err) that a Catch node receives (or,
 * for the few inputs that are valid, e.g. a null payload = tombstone, be accepted), Node-RED must
 * keep running, and the next good message on the same flow must still work.
 */
import assert from 'node:assert/strict';
import diasporaConfig = require('../../nodes/diaspora-config/diaspora-config');
import diasporaIn = require('../../nodes/diaspora-in/diaspora-in');
import diasporaOut = require('../../nodes/diaspora-out/diaspora-out');
import diasporaTopic = require('../../nodes/diaspora-topic/diaspora-topic');
import { eventually, nodeRedHelper, type FlowNode, type NodeModule } from '../fixtures/node-red';
import { catchNode, completeNode, inject, Sink, sinkNode, tab, type Msg } from '../nodes/flow-support';
import { faultFabric, type FaultFabric } from './support/fault-fabric';
import { configOf, faultConfig, faultTopic, inNode, outNode, readyAndConnected, registerTopic, topicNode } from './support/flows';
import { recordResult } from './support/results';

const helper = nodeRedHelper();
const NODES: NodeModule[] = [diasporaConfig as NodeModule, diasporaOut as NodeModule, diasporaIn as NodeModule, diasporaTopic as NodeModule];

type Family = 'out' | 'topic' | 'in' | 'config' | 'service';

interface Case {
  name: string;
  family: Family;
  node: string;
  msg: Msg;
  /** The text Catch must receive, or 'accepted' for input that is valid and must be sent. */
  expect: RegExp | 'accepted';
  /** Finds the caught message when it is not the input msg (a consumer's report). */
  caughtBy?: (msg: Msg) => boolean;
  before?: () => Promise<void>;
  after?: () => Promise<void>;
  timeoutMs?: number;
}

function deeplyNested(depth: number): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let at = root;
  for (let i = 0; i < depth; i++) {
    const next: Record<string, unknown> = {};
    at.child = next;
    at = next;
  }
  return root;
}

describe('faults: hostile and mistaken input (table-driven)', function () {
  this.timeout(240_000);
  let fabric: FaultFabric;

  before(async function () {
    this.timeout(180_000);
    fabric = await faultFabric();
  });

  afterEach(async function () {
    await fabric?.control().fail({ mode: 'none' });
    await helper.unload();
  });

  it('every case ends in a clear done(err) at a Catch node (or is accepted when valid), and the flow keeps working', async function () {
    const topic = faultTopic('hostile');
    const jsonTopic = faultTopic('hostile-json');
    const healthy = faultConfig('cfg', fabric.description, 'v1', fabric.description.clients[0]);
    const client = fabric.description.clients[1];
    const broken = (id: string, extra: Record<string, unknown>, withSecret = true): ReturnType<typeof faultConfig> => {
      const c = faultConfig(id, fabric.description, 'v1', client, extra);
      return withSecret ? c : { node: c.node, credentials: {} };
    };
    const badConfigs = [
      broken('cfg-bad-url', { serviceUrl: 'not a url' }),
      broken('cfg-ftp-auth', { authUrl: 'ftp://auth.example.org' }),
      broken('cfg-bad-brokers', { brokers: 'kafka-without-port' }),
      broken('cfg-bad-timeout', { readyTimeout: -5 }),
      broken('cfg-no-secret', {}, false),
    ];
    const flow: FlowNode[] = [
      tab(),
      healthy.node,
      ...badConfigs.map((c) => c.node),
      outNode('pub', 'cfg', {}, [['acked']]),
      ...badConfigs.map((c) => outNode(`pub-${c.node.id}`, c.node.id, { whenNotReady: 'fail' }, [['acked']])),
      topicNode('topics', 'cfg', { action: 'msg' }, [['answered']]),
      inNode('sub', 'cfg', topic, { groupId: `h10-hostile-${topic}` }, [['received']]),
      inNode('sub-json', 'cfg', jsonTopic, { format: 'json', groupId: `h10-hostile-json-${topic}` }, [['received']]),
      inNode('sub-manual', 'cfg', topic, { commit: 'manual', groupId: `h10-hostile-manual-${topic}` }),
      sinkNode('acked'),
      sinkNode('answered'),
      sinkNode('received'),
      sinkNode('caught'),
      sinkNode('completed'),
      catchNode('catch', 'caught'),
      completeNode('complete', 'completed', ['sub', 'sub-json', 'sub-manual']),
    ];
    const credentials = Object.assign({}, healthy.credentials, ...badConfigs.map((c) => c.credentials)) as Record<string, object>;
    await helper.load(NODES, flow, credentials);
    const cfg = configOf(helper, 'cfg');
    const acked = new Sink(helper, 'acked');
    const answered = new Sink(helper, 'answered');
    const received = new Sink(helper, 'received');
    const caught = new Sink(helper, 'caught');
    const completed = new Sink(helper, 'completed');
    await registerTopic(cfg, topic);
    await registerTopic(cfg, jsonTopic);
    await readyAndConnected(cfg);

    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    const huge = 'x'.repeat(1_500_000);
    const service = fabric.control();
    const setFail = (mode: 'html' | '500' | 'slow', delayMs?: number) => async (): Promise<void> => service.fail({ mode, ...(delayMs ? { delayMs } : {}) });
    const clearFail = async (): Promise<void> => service.fail({ mode: 'none' });

    const cases: Case[] = [
      // diaspora-out: payloads
      { name: 'payload undefined', family: 'out', node: 'pub', msg: { topic }, expect: /msg\.payload is undefined: set a payload/ },
      { name: 'payload null (a tombstone: valid)', family: 'out', node: 'pub', msg: { topic, payload: null }, expect: 'accepted' },
      { name: 'payload circular', family: 'out', node: 'pub', msg: { topic, payload: circular }, expect: /msg\.payload\.self refers back to itself \(circular structure\)/ },
      { name: 'payload BigInt', family: 'out', node: 'pub', msg: { topic, payload: { n: 10n } }, expect: /msg\.payload\.n is a BigInt/ },
      { name: 'payload function', family: 'out', node: 'pub', msg: { topic, payload: () => 1 }, expect: /msg\.payload is a function/ },
      { name: 'payload symbol', family: 'out', node: 'pub', msg: { topic, payload: { s: Symbol('x') } }, expect: /msg\.payload\.s is a Symbol/ },
      { name: 'payload Map', family: 'out', node: 'pub', msg: { topic, payload: new Map([['a', 1]]) }, expect: /msg\.payload is a Map, which JSON would silently empty/ },
      { name: 'payload Buffer (binary: valid)', family: 'out', node: 'pub', msg: { topic, payload: Buffer.from([0, 255, 1]) }, expect: 'accepted' },
      { name: 'payload huge (1.5 MB > max.message.bytes)', family: 'out', node: 'pub', msg: { topic, payload: huge }, expect: /larger than the broker accepts .*max\.message\.bytes/ },
      { name: 'payload nested 1,000 levels deep', family: 'out', node: 'pub', msg: { topic, payload: deeplyNested(1000) }, expect: /msg\.payload is nested more than \d+ levels deep/ },
      // diaspora-out: topics
      { name: 'topic empty', family: 'out', node: 'pub', msg: { topic: '', payload: 1 }, expect: /no topic: set the topic on the node or in msg\.topic/ },
      { name: 'topic too long (250 characters)', family: 'out', node: 'pub', msg: { topic: 'a'.repeat(250), payload: 1 }, expect: /is not a valid Kafka topic name: use 1 to 249/ },
      { name: 'topic with spaces', family: 'out', node: 'pub', msg: { topic: 'has space', payload: 1 }, expect: /Topic "has space" contains spaces, control or non-ASCII characters: use letters, digits/ },
      { name: 'topic with a slash', family: 'out', node: 'pub', msg: { topic: 'a/b', payload: 1 }, expect: /"a\/b" is not a valid Kafka topic name/ },
      { name: 'topic with unicode', family: 'out', node: 'pub', msg: { topic: 'tëmpérature', payload: 1 }, expect: /Topic "tëmpérature" contains spaces, control or non-ASCII characters/ },
      { name: 'topic with dots, not registered', family: 'out', node: 'pub', msg: { topic: `${topic}.not.mine`, payload: 1 }, expect: /is not registered to this identity: register it with a diaspora-topic node/, timeoutMs: 60_000 },
      { name: 'topic not registered', family: 'out', node: 'pub', msg: { topic: faultTopic('unregistered'), payload: 1 }, expect: /is not registered to this identity: register it with a diaspora-topic node/, timeoutMs: 60_000 },
      { name: 'topic not a string (number)', family: 'out', node: 'pub', msg: { topic: 42 as unknown as string, payload: 1 }, expect: /no topic: set the topic on the node or in msg\.topic/ },
      // diaspora-out: keys, headers, partition, timestamp
      { name: 'key an object', family: 'out', node: 'pub', msg: { topic, payload: 1, key: { id: 1 } }, expect: /msg\.key must be a string, Buffer or number, not an object/ },
      { name: 'key NaN', family: 'out', node: 'pub', msg: { topic, payload: 1, key: Number.NaN }, expect: /msg\.key is NaN: a numeric key must be finite/ },
      { name: 'key a boolean', family: 'out', node: 'pub', msg: { topic, payload: 1, key: true }, expect: /msg\.key must be a string, Buffer or number, not a boolean/ },
      { name: 'headers a string', family: 'out', node: 'pub', msg: { topic, payload: 1, headers: 'lab=B2' }, expect: /msg\.headers must be an object of string or Buffer values, not a string/ },
      { name: 'headers an array', family: 'out', node: 'pub', msg: { topic, payload: 1, headers: ['a'] }, expect: /msg\.headers must be an object of string or Buffer values, not an array/ },
      { name: 'header value a number', family: 'out', node: 'pub', msg: { topic, payload: 1, headers: { n: 5 } }, expect: /msg\.headers\.n must be a string or Buffer, not a number \(use String\(5\)\)/ },
      { name: 'header value an object', family: 'out', node: 'pub', msg: { topic, payload: 1, headers: { o: { a: 1 } } }, expect: /msg\.headers\.o must be a string or Buffer, not an object/ },
      { name: 'partition out of range', family: 'out', node: 'pub', msg: { topic, payload: 1, partition: 99 }, expect: /partition 99 does not exist in topic ".*" \(it has 1: 0 to 0\)/ },
      { name: 'partition negative', family: 'out', node: 'pub', msg: { topic, payload: 1, partition: -1 }, expect: /msg\.partition must be a whole number 0 or more, not -1/ },
      { name: 'partition not a number', family: 'out', node: 'pub', msg: { topic, payload: 1, partition: 'first' }, expect: /msg\.partition must be a whole number 0 or more, not "first"/ },
      { name: 'timestamp not a date', family: 'out', node: 'pub', msg: { topic, payload: 1, timestamp: 'yesterday-ish' }, expect: /msg\.timestamp must be milliseconds since 1970, a Date or an ISO date text/ },
      { name: 'control message at diaspora-out', family: 'out', node: 'pub', msg: { topic, action: 'pause' }, expect: /msg\.action "pause" is a control message for diaspora-in/ },
      // diaspora-topic
      { name: 'msg.action unknown', family: 'topic', node: 'topics', msg: { action: 'destroy', topic }, expect: /msg\.action is destroy: set it to "register", "unregister" or "list"/ },
      { name: 'msg.action missing', family: 'topic', node: 'topics', msg: { topic }, expect: /msg\.action is \(missing\): set it to "register", "unregister" or "list"/ },
      { name: 'msg.action a number', family: 'topic', node: 'topics', msg: { action: 7, topic }, expect: /msg\.action is number: set it to/ },
      { name: 'register without a topic', family: 'topic', node: 'topics', msg: { action: 'register' }, expect: /no topic: set the topic on the node or in msg\.topic/ },
      { name: 'register an invalid name', family: 'topic', node: 'topics', msg: { action: 'register', topic: 'has space' }, expect: /contains spaces/ },
      { name: 'control message at diaspora-topic', family: 'topic', node: 'topics', msg: { action: 'pause' }, expect: /msg\.action is pause: set it to "register", "unregister" or "list"/ },
      // diaspora-in
      { name: 'msg.action unknown', family: 'in', node: 'sub', msg: { action: 'explode' }, expect: /unknown msg\.action "explode": use pause, resume, subscribe, unsubscribe or commit/ },
      { name: 'msg.action missing (a data message at diaspora-in)', family: 'in', node: 'sub', msg: { payload: 'data' }, expect: /msg\.action is missing: use pause, resume, subscribe, unsubscribe or commit/ },
      { name: 'msg.action an object', family: 'in', node: 'sub', msg: { action: { do: 'pause' } }, expect: /unknown msg\.action "object"/ },
      { name: 'subscribe without a topic', family: 'in', node: 'sub', msg: { action: 'subscribe' }, expect: /msg\.action subscribe needs msg\.topic/ },
      { name: 'subscribe to an invalid name', family: 'in', node: 'sub', msg: { action: 'subscribe', topic: 'bad name/x' }, expect: /Topic "bad name\/x" contains spaces, control or non-ASCII characters/ },
      { name: 'unsubscribe from a topic not subscribed', family: 'in', node: 'sub', msg: { action: 'unsubscribe', topic: 'h10-elsewhere' }, expect: /not subscribed to "h10-elsewhere"/ },
      { name: 'commit in auto-commit mode', family: 'in', node: 'sub', msg: { action: 'commit', diaspora: { topic, partition: 0, offset: '0' } }, expect: /msg\.action commit needs the node's Commit set to Manual/ },
      { name: 'commit without msg.diaspora', family: 'in', node: 'sub-manual', msg: { action: 'commit' }, expect: /msg\.action commit needs msg\.diaspora of the message to commit/ },
      { name: 'commit with a bad offset', family: 'in', node: 'sub-manual', msg: { action: 'commit', diaspora: { topic, partition: 0, offset: 'last' } }, expect: /msg\.action commit needs msg\.diaspora of the message to commit/ },
      {
        name: 'non-JSON event with format = json',
        family: 'in',
        node: 'pub',
        msg: { topic: jsonTopic, payload: 'not json {h10-marker' },
        expect: /the event on .* at offset \d+ is not JSON \(format is set to JSON\)/,
        caughtBy: (m) => m.payload === 'not json {h10-marker',
      },
      // the config node
      { name: 'config: service URL not a URL', family: 'config', node: 'pub-cfg-bad-url', msg: { topic, payload: 1 }, expect: /not ready: misconfigured: serviceUrl is not a valid URL: "not a url"/ },
      { name: 'config: auth URL not http(s)', family: 'config', node: 'pub-cfg-ftp-auth', msg: { topic, payload: 1 }, expect: /not ready: misconfigured: authUrl must be an http\(s\) URL/ },
      { name: 'config: broker without a port', family: 'config', node: 'pub-cfg-bad-brokers', msg: { topic, payload: 1 }, expect: /not ready: misconfigured: brokers must be host:port separated by commas; "kafka-without-port" is not/ },
      { name: 'config: negative ready timeout', family: 'config', node: 'pub-cfg-bad-timeout', msg: { topic, payload: 1 }, expect: /not ready: misconfigured: readyTimeout must be a positive number of seconds/ },
      { name: 'config: empty client secret', family: 'config', node: 'pub-cfg-no-secret', msg: { topic, payload: 1 }, expect: /not ready: misconfigured: client credentials mode needs a client secret/ },
      // the service misbehaving
      { name: 'service answers HTML', family: 'service', node: 'topics', msg: { action: 'list' }, expect: /HTML page instead of JSON/, before: setFail('html'), after: clearFail },
      { name: 'service answers HTTP 500', family: 'service', node: 'topics', msg: { action: 'list' }, expect: /HTTP 500/, before: setFail('500'), after: clearFail },
      { name: 'service answers too slowly', family: 'service', node: 'topics', msg: { action: 'list' }, expect: /did not answer within/, before: setFail('slow', 30_000), after: clearFail, timeoutMs: 40_000 },
    ];

    let good = 0;
    /** The next good message on the same flow, through the node family that just had a bad one. */
    const goodAfter = async (family: Family): Promise<void> => {
      const tag = `good-${good++}`;
      if (family === 'topic' || family === 'service') {
        inject(helper, 'topics', { tag, action: 'list' });
        const ok = await eventually(`${tag}: a list after the bad input`, () => answered.tagged(tag) ?? caught.tagged(tag), 30_000, 20);
        assert.equal(ok.error, undefined, `${tag}: ${ok.error?.message}`);
      } else if (family === 'in') {
        inject(helper, 'sub', { tag, action: 'resume' });
        const ok = await eventually(`${tag}: a resume after the bad input`, () => completed.tagged(tag) ?? caught.tagged(tag), 30_000, 20);
        assert.equal(ok.error, undefined, `${tag}: ${ok.error?.message}`);
      } else {
        inject(helper, 'pub', { tag, topic, payload: { good: tag } });
        const ok = await eventually(`${tag}: a publish after the bad input`, () => acked.tagged(tag) ?? caught.tagged(tag), 30_000, 20);
        assert.equal(ok.error, undefined, `${tag}: ${ok.error?.message}`);
      }
    };

    const results: Array<{ name: string; outcome: string }> = [];
    const problems: string[] = [];
    for (const [i, c] of cases.entries()) {
      const tag = `case-${i}`;
      await c.before?.();
      try {
        inject(helper, c.node, { ...c.msg, tag });
        const outcome = await eventually(
          `case "${c.name}" to end`,
          () => {
            const error = c.caughtBy ? caught.messages.find(c.caughtBy) : caught.tagged(tag);
            if (error) return { error: error.error?.message ?? '', source: error.error?.source?.id };
            const ok = acked.tagged(tag) ?? answered.tagged(tag) ?? completed.tagged(tag);
            return ok ? { ok } : undefined;
          },
          c.timeoutMs ?? 20_000,
          20,
        );
        if (c.expect === 'accepted') {
          assert.ok('ok' in outcome, `case "${c.name}" should be accepted, got: ${'error' in outcome ? outcome.error : ''}`);
          results.push({ name: c.name, outcome: 'accepted (valid input)' });
        } else {
          assert.ok('error' in outcome && outcome.error !== undefined, `case "${c.name}" was accepted instead of failing`);
          assert.match(outcome.error, c.expect, `case "${c.name}": got "${outcome.error}"`);
          if (!c.caughtBy) assert.equal(outcome.source, c.node, `case "${c.name}": the error comes from ${c.node}`);
          results.push({ name: c.name, outcome: outcome.error });
        }
      } catch (err) {
        // Every case runs; all mismatches are reported together below.
        problems.push(err instanceof Error ? err.message : String(err));
      } finally {
        await c.after?.();
      }
      await goodAfter(c.family);
    }
    assert.deepEqual(problems, [], `${problems.length} of ${cases.length} cases went wrong`);

    // Node-RED kept running: every node still answers, and an event still makes the round trip.
    inject(helper, 'pub', { tag: 'final', topic, payload: { final: true } });
    await acked.next('final', 20_000);
    await eventually('the final event to reach diaspora-in', () => received.messages.find((m) => (m.payload as { final?: boolean } | null)?.final === true), 30_000);

    const families = cases.reduce<Record<string, number>>((n, c) => ({ ...n, [c.family]: (n[c.family] ?? 0) + 1 }), {});
    recordResult({
      scenario: `hostile and mistaken input: ${cases.length} cases`,
      sent: cases.length,
      received: `${results.filter((r) => r.outcome.startsWith('accepted')).length} accepted (valid)`,
      lost: 0,
      duplicated: 'n/a',
      recoverMs: 'next good message worked after every case',
      notes: `${results.filter((r) => !r.outcome.startsWith('accepted')).length} clear done(err) at Catch; by node: ${Object.entries(families).map(([f, n]) => `${f} ${n}`).join(', ')}`,
    });
    for (const r of results) console.log(`        ${r.name}: ${r.outcome.slice(0, 160)}`);
    assert.ok(cases.length >= 30);
  });
});

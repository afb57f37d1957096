/**
 * Fault 2: the broker is frozen (SIGSTOP) and then resumed (SIGCONT) while a flow publishes with
 * diaspora-out and consumes with diaspora-in. Both nodes must recover without a redeploy, nothing
 * may be lost, and their status must show the outage and the recovery (recorded and printed).
 * The pause lasts `DIASPORA_FAULTS_PAUSE_S` seconds (default 30, as the issue asks).
 */
import assert from 'node:assert/strict';
import diasporaConfig = require('../../nodes/diaspora-config/diaspora-config');
import diasporaIn = require('../../nodes/diaspora-in/diaspora-in');
import diasporaOut = require('../../nodes/diaspora-out/diaspora-out');
import { eventually, nodeRedHelper, sleep, type FlowNode, type NodeModule } from '../fixtures/node-red';
import { catchNode, inject, Sink, sinkNode, tab } from '../nodes/flow-support';
import { faultFabric, type FaultFabric } from './support/fault-fabric';
import { configOf, faultConfig, faultTopic, inNode, outNode, readTopic, readyAndConnected, recordStatuses, registerTopic, statusSequence, type StatusRecord } from './support/flows';
import { countSequences, recordResult, seqOf } from './support/results';
import { isConsuming } from '../fixtures/node-status';

const helper = nodeRedHelper();
const NODES: NodeModule[] = [diasporaConfig as NodeModule, diasporaOut as NodeModule, diasporaIn as NodeModule];

const PAUSE_MS = Number(process.env.DIASPORA_FAULTS_PAUSE_S ?? 30) * 1000;
const RATE_PER_S = 50;
const BEFORE_MS = 3_000;
const AFTER_MS = 5_000;

describe('faults: broker paused (SIGSTOP) and resumed (SIGCONT) under traffic', function () {
  this.timeout(PAUSE_MS + 180_000);
  let fabric: FaultFabric;

  before(async function () {
    this.timeout(180_000);
    fabric = await faultFabric();
  });

  afterEach(async function () {
    // A failed test must not leave the broker frozen for the next one.
    try {
      fabric?.resumeBroker();
    } catch {
      // not paused
    }
    await helper.unload();
  });

  it(`diaspora-out and diaspora-in recover without a redeploy after a ${PAUSE_MS / 1000} s pause; the status shows outage and recovery`, async function () {
    const topic = faultTopic('pause');
    const config = faultConfig('cfg', fabric.description, 'v1', fabric.description.clients[1]);
    const flow: FlowNode[] = [
      tab(),
      config.node,
      outNode('pub', 'cfg', { queueSize: 10_000 }, [['acked']]),
      inNode('sub', 'cfg', topic, { groupId: `h10-pause-${topic}` }, [['received']]),
      sinkNode('acked'),
      sinkNode('received'),
      sinkNode('caught'),
      catchNode('catch', 'caught'),
    ];
    await helper.load(NODES, flow, config.credentials);
    const cfg = configOf(helper, 'cfg');
    const acked = new Sink(helper, 'acked');
    const received = new Sink(helper, 'received');
    const caught = new Sink(helper, 'caught');
    const outStatus = recordStatuses(helper, 'pub');
    const inStatus = recordStatuses(helper, 'sub');
    const kafkaTopic = await registerTopic(cfg, topic);
    await readyAndConnected(cfg);
    await eventually('diaspora-in to consume', () => (isConsuming(inStatus.at(-1)) ? true : undefined), 30_000);

    let sent = 0;
    const send = (): void => {
      inject(helper, 'pub', { tag: String(sent), topic, payload: { seq: sent } });
      sent += 1;
    };
    const pace = async (ms: number): Promise<void> => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        send();
        await sleep(1000 / RATE_PER_S);
      }
    };
    const started = Date.now();
    await pace(BEFORE_MS);
    fabric.pauseBroker();
    const pausedAt = Date.now();
    await pace(PAUSE_MS);
    fabric.resumeBroker();
    const resumedAt = Date.now();
    await pace(AFTER_MS);

    await eventually(`all ${sent} messages to end in done() or done(err)`, () => (acked.messages.length + caught.messages.filter((m) => m.tag !== undefined).length >= sent ? true : undefined), 120_000, 100);
    await eventually(`diaspora-in to receive all ${sent} sequence numbers`, () => (countSequences(sent, received.messages.map((m) => (m.payload as { seq: number }).seq)).lost.length === 0 ? true : undefined), 120_000, 200);
    const consumedCount = countSequences(sent, received.messages.map((m) => (m.payload as { seq: number }).seq));
    const onTopic = countSequences(sent, (await readTopic(fabric.adminKafka('h10-pause-reader'), kafkaTopic)).map(seqOf));

    const firstGreenAfter = (records: StatusRecord[]): number | undefined => records.find((r) => r.at >= resumedAt && r.fill === 'green')?.at;
    const outSeq = statusSequence(outStatus, started);
    const inSeq = statusSequence(inStatus, started);
    const firstRedAfterPause = (records: StatusRecord[]): number | undefined => records.find((r) => r.at >= pausedAt && r.fill === 'red')?.at;
    const detected = Math.min(firstRedAfterPause(outStatus) ?? Infinity, firstRedAfterPause(inStatus) ?? Infinity) - pausedAt;
    const outRecovered = firstGreenAfter(outStatus);
    const inRecovered = firstGreenAfter(inStatus);
    recordResult({
      scenario: `broker SIGSTOP ${PAUSE_MS / 1000} s + SIGCONT (${RATE_PER_S} msg/s through out → in)`,
      sent,
      received: consumedCount.received,
      lost: consumedCount.lost.length,
      duplicated: `${consumedCount.duplicated} consumed twice, ${onTopic.duplicated} on the topic`,
      recoverMs: Math.max(outRecovered ?? Infinity, inRecovered ?? Infinity) - resumedAt,
      notes: `time to recover = SIGCONT → both nodes green; outage shown ${(detected / 1000).toFixed(1)} s after SIGSTOP; done(err): ${caught.messages.filter((m) => m.tag !== undefined).length}; out status: ${outSeq.join(' → ')}; in status: ${inSeq.join(' → ')}`,
    });
    for (const m of caught.messages.slice(0, 5)) console.log(`      caught: ${m.error?.message}`);

    assert.equal(onTopic.lost.length, 0, `missing from the topic: ${onTopic.lost.slice(0, 10).join(',')}`);
    const outage = (records: StatusRecord[]): boolean => records.some((r) => r.at >= pausedAt && r.fill !== 'green');
    assert.ok(outage(outStatus), `diaspora-out showed no outage: ${outSeq.join(' → ')}`);
    assert.ok(outage(inStatus), `diaspora-in showed no outage: ${inSeq.join(' → ')}`);
    assert.ok(outRecovered !== undefined, `diaspora-out did not turn green again: ${outSeq.join(' → ')}`);
    assert.ok(inRecovered !== undefined, `diaspora-in did not turn green again: ${inSeq.join(' → ')}`);
  });
});

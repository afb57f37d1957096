/**
 * Fault 1: the broker is killed (SIGKILL) and restarted while diaspora-out publishes in ack mode.
 * Every input message must end in done() or done(err); after recovery the topic must hold every
 * sequence number of the queue-mode node; duplicates are counted (a done(err) counts as a loss
 * only if its message is also absent from the topic).
 * - CI form of the issue: 1,000 msg/s for 10 s, the kill after 3 s, the restart 2.5 s later.
 * - An outage longer than the Kafka client's own retries (~9 s): queue mode must still hold
 *   every message; fail mode ends each message it cannot send in done(err) naming the broker.
 */
import assert from 'node:assert/strict';
import diasporaConfig = require('../../nodes/diaspora-config/diaspora-config');
import diasporaOut = require('../../nodes/diaspora-out/diaspora-out');
import { eventually, nodeRedHelper, sleep, type FlowNode, type NodeModule } from '../fixtures/node-red';
import { catchNode, inject, Sink, sinkNode, tab, type Msg } from '../nodes/flow-support';
import { faultFabric, type FaultFabric } from './support/fault-fabric';
import { configOf, faultConfig, faultTopic, outNode, readTopic, readyAndConnected, recordStatuses, registerTopic, statusSequence } from './support/flows';
import { countSequences, recordResult, seqOf } from './support/results';

const helper = nodeRedHelper();
const NODES: NodeModule[] = [diasporaConfig as NodeModule, diasporaOut as NodeModule];

interface KillPlan {
  ratePerS: number;
  sendMs: number;
  killAtMs: number;
  /** Time between the kill and the restart command (the broker then needs a few seconds to answer). */
  downMs: number;
  /** Also send every other message through a fail-mode node. */
  withFailNode: boolean;
}

interface KillRun {
  sent: { queue: number; fail: number };
  acked: Msg[];
  caught: Msg[];
  onTopic: number[];
  killedAt: number;
  backAt: number;
  firstAckAfterRestart: number | undefined;
  status: string[];
}

describe('faults: broker SIGKILL and restart while diaspora-out publishes (ack mode)', function () {
  this.timeout(180_000);
  let fabric: FaultFabric;

  before(async function () {
    this.timeout(180_000);
    fabric = await faultFabric();
  });

  afterEach(async function () {
    await helper.unload();
  });

  async function killDuringSends(label: string, plan: KillPlan): Promise<KillRun> {
    const config = faultConfig('cfg', fabric.description, 'v3', fabric.description.clients[0]);
    const flow: FlowNode[] = [
      tab(),
      config.node,
      outNode('pub', 'cfg', { queueSize: 50_000 }, [['acked']]),
      outNode('pub-fail', 'cfg', { whenNotReady: 'fail' }, [['acked']]),
      sinkNode('acked'),
      sinkNode('caught'),
      catchNode('catch', 'caught', ['pub', 'pub-fail']),
    ];
    await helper.load(NODES, flow, config.credentials);
    const cfg = configOf(helper, 'cfg');
    const acked = new Sink(helper, 'acked');
    const caught = new Sink(helper, 'caught');
    const statuses = recordStatuses(helper, 'pub');
    const ackTimes: number[] = [];
    helper.getNode('acked')?.on('input', () => ackTimes.push(Date.now()));
    const topic = faultTopic(label);
    const kafkaTopic = await registerTopic(cfg, topic);
    await readyAndConnected(cfg);

    // Paced sender: as many messages as the rate allows by now, every 5 ms; sequence numbers
    // are per node (queue-mode node: seq; fail-mode node: seq + 1,000,000).
    const sent = { queue: 0, fail: 0 };
    const total = (plan.sendMs * plan.ratePerS) / 1000;
    const sendOne = (): void => {
      const n = sent.queue + sent.fail;
      if (plan.withFailNode && n % 2 === 1) {
        inject(helper, 'pub-fail', { tag: `f${sent.fail}`, topic, payload: { seq: 1_000_000 + sent.fail } });
        sent.fail += 1;
      } else {
        inject(helper, 'pub', { tag: `q${sent.queue}`, topic, payload: { seq: sent.queue } });
        sent.queue += 1;
      }
    };
    const started = Date.now();
    let killedAt = 0;
    let backAt = 0;
    const outage = (async () => {
      await sleep(plan.killAtMs);
      await fabric.killBroker();
      killedAt = Date.now();
      await sleep(plan.downMs);
      await fabric.restartBroker();
      backAt = Date.now();
    })();
    while (Date.now() - started < plan.sendMs) {
      const due = Math.min(Math.floor(((Date.now() - started) * plan.ratePerS) / 1000), total);
      while (sent.queue + sent.fail < due) sendOne();
      await sleep(5);
    }
    while (sent.queue + sent.fail < total) sendOne();
    await outage;

    const count = sent.queue + sent.fail;
    await eventually(
      `every one of ${count} messages to end in done() or done(err)`,
      () => (acked.messages.length + caught.messages.length >= count ? true : undefined),
      90_000,
      100,
    );
    const onTopic = (await readTopic(fabric.adminKafka(`h10-${label}-reader`), kafkaTopic)).map(seqOf);
    return {
      sent,
      acked: acked.messages,
      caught: caught.messages,
      onTopic,
      killedAt,
      backAt,
      firstAckAfterRestart: ackTimes.find((t) => t >= backAt),
      status: statusSequence(statuses, started),
    };
  }

  function seqsOf(messages: Msg[], fail: boolean): number[] {
    return messages.map((m) => (m.payload as { seq: number }).seq).filter((seq) => (seq >= 1_000_000) === fail);
  }

  it('1,000 msg/s, kill after 3 s, restart 2.5 s later: every message ends once, the topic holds every sequence number', async function () {
    const run = await killDuringSends('kill', { ratePerS: 1000, sendMs: 10_000, killAtMs: 3_000, downMs: 2_500, withFailNode: false });
    const count = countSequences(run.sent.queue, run.onTopic);
    const failedAbsent = seqsOf(run.caught, false).filter((seq) => count.lost.includes(seq));
    recordResult({
      scenario: 'broker SIGKILL + restart (1,000 msg/s for 10 s, ack, queue)',
      sent: run.sent.queue,
      received: count.received,
      lost: count.lost.length,
      duplicated: count.duplicated,
      recoverMs: run.firstAckAfterRestart === undefined ? 'never' : run.firstAckAfterRestart - run.killedAt,
      notes: `time to recover = kill → first ack after the restart; broker down ${((run.backAt - run.killedAt) / 1000).toFixed(1)} s (kill → answering again); done(): ${run.acked.length}, done(err): ${run.caught.length} (absent from the topic: ${failedAbsent.length}); status: ${run.status.join(' → ')}`,
    });
    for (const m of run.caught.slice(0, 3)) console.log(`      done(err): ${m.error?.message}`);
    assert.equal(run.acked.length + run.caught.length, run.sent.queue, 'each input message ended exactly once');
    assert.deepEqual(count.lost.slice(0, 20), [], `${count.lost.length} sequence numbers are missing from the topic`);
    assert.equal(failedAbsent.length, 0, 'a message that ended in done(err) is absent from the topic');
  });

  it('an outage longer than the client retries: queue mode holds every message; fail mode ends the rest in done(err)', async function () {
    const run = await killDuringSends('longkill', { ratePerS: 200, sendMs: 12_000, killAtMs: 2_000, downMs: 9_000, withFailNode: true });
    const queue = countSequences(run.sent.queue, run.onTopic);
    const failOnTopic = new Set(run.onTopic.filter((seq) => seq >= 1_000_000));
    const failAcked = seqsOf(run.acked, true);
    const failCaught = run.caught.filter((m) => m.error?.source?.id === 'pub-fail');
    const queueCaught = run.caught.filter((m) => m.error?.source?.id === 'pub');
    recordResult({
      scenario: 'broker SIGKILL, down longer than the client retries (200 msg/s, queue + fail nodes)',
      sent: `${run.sent.queue} (queue) + ${run.sent.fail} (fail)`,
      received: queue.received + failOnTopic.size,
      lost: queue.lost.length,
      duplicated: queue.duplicated,
      recoverMs: run.firstAckAfterRestart === undefined ? 'never' : run.firstAckAfterRestart - run.killedAt,
      notes: `broker down ${((run.backAt - run.killedAt) / 1000).toFixed(1)} s; queue mode: 0 done(err) expected, got ${queueCaught.length}; fail mode: ${failAcked.length} done(), ${failCaught.length} done(err) ("${(failCaught[0]?.error?.message ?? '').slice(0, 120)}"); status: ${run.status.join(' → ')}`,
    });
    assert.equal(run.acked.length + run.caught.length, run.sent.queue + run.sent.fail, 'each input message ended exactly once');
    assert.deepEqual(queueCaught.map((m) => m.error?.message), [], 'queue mode failed none');
    assert.deepEqual(queue.lost.slice(0, 20), [], `${queue.lost.length} queue-mode sequence numbers are missing from the topic`);
    assert.ok(failCaught.length > 0, 'fail mode failed the messages sent while the broker was down');
    for (const m of failCaught) assert.match(m.error?.message ?? '', /broker-unreachable|cannot reach 127\.0\.0\.1:\d+|did not answer/);
    for (const seq of failAcked) assert.ok(failOnTopic.has(seq), `fail-mode message ${seq} was acknowledged but is not on the topic`);
    assert.ok(run.status.some((s) => s.startsWith('red:broker-unreachable')), `the outage showed: ${run.status.join(' → ')}`);
    // Ready again: green, showing "ready" or, once events flow, the live figures that replace it (rate, and events awaiting the broker's ack).
    assert.match(run.status.at(-1) ?? '', /^green:(ready|N\/s( · N ⏳)?)$/, `the last status: ${run.status.join(' → ')}`);
  });
});

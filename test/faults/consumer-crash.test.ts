/**
 * Fault 10: diaspora-in (a group id, automatic commit) in real Node-RED processes that are
 * SIGKILLed mid-stream: a crash leaves no time to commit the finished prefix or to leave the group,
 * so the dead member holds the partition until the group's session timeout drops it. Events are
 * written by a core `file` node, one JSON line each; the topic has one partition (as Diaspora
 * creates them) and a fresh topic, so offset n holds event n and a committed offset is a sequence
 * number.
 *
 * (a) The runtime is killed and restarted on the same user directory: the restarted consumer waits
 *     out the dead member's session and resumes at the committed offset. A slow function node beside
 *     the file node keeps the window full, so the file has events the flow had not finished: the
 *     duplicates are those, bounded by the window plus the events finished since the last paced
 *     commit.
 * (b) Failover: two runtimes (two user directories, the same flow and group) on one single-partition
 *     topic, so one is active and the other an idle standby (a partition goes to one member of a
 *     group; a topic of Diaspora has one). The active one is killed; the standby gets the partition
 *     once the coordinator drops the dead member, and resumes at the committed offset: the union of
 *     the two files is every event.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_WINDOW } from '../../lib/commits/window';
import { commitPacing, GROUP_HEARTBEAT_INTERVAL_MS, GROUP_SESSION_TIMEOUT_MS } from '../../lib/kafka/consumer';
import { eventually, sleep } from '../fixtures/node-red';
import { consumerFlow, GroupWatch, SequenceProducer, writtenSeqs } from './support/consumer-runs';
import { faultFabric, type FaultFabric } from './support/fault-fabric';
import { faultTopic } from './support/flows';
import { registerFor } from './support/identity';
import { api, startNodeRed, type NodeRedProcess } from '../fixtures/node-red-runner';
import { countSequences, recordResult } from './support/results';

const CREDENTIAL_SECRET = 'h10-crash-credential-secret';
/** After the coordinator dropped the dead member: the survivor's rejoin, sync and first fetch on a loaded 2-core machine. */
const REJOIN_ALLOWANCE_MS = 10_000;
/** Polling the group's members (every 250 ms, each an admin request) on a loaded machine. */
const WATCH_ALLOWANCE_MS = 3_000;
const ERRORS = /\[error\]|unhandled|uncaught/gi;
/** A Node-RED start on a loaded 2-core machine (beside a broker and another Node-RED) can take well over the runner's default 30 s. */
const START_TIMEOUT_MS = 90_000;

/** Redelivery after a crash: the window (not finished) plus what finished since the last commit request (at most its pacing). */
function redeliveryBound(window: number): number {
  return window + commitPacing(window).everyEvents;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

describe('faults: diaspora-in with Node-RED SIGKILLed (restart, and failover to a second runtime)', function () {
  // About 65 s each (half of it the session timeout); the rest is room for a loaded machine.
  this.timeout(240_000);
  let fabric: FaultFabric;
  let userDirs: string[] = [];
  let runtimes: NodeRedProcess[] = [];
  let watch: GroupWatch | undefined;
  let producer: SequenceProducer | undefined;

  before(async function () {
    this.timeout(180_000);
    fabric = await faultFabric();
  });

  afterEach(async function () {
    await producer?.disconnect();
    await watch?.disconnect();
    await Promise.all(runtimes.map((r) => r.stop('SIGKILL')));
    for (const dir of userDirs) fs.rmSync(dir, { recursive: true, force: true });
    producer = undefined;
    watch = undefined;
    runtimes = [];
    userDirs = [];
  });

  const userDir = (): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h10-crash-'));
    userDirs.push(dir);
    return dir;
  };

  async function start(dir: string): Promise<NodeRedProcess> {
    const runtime = await startNodeRed({ userDir: dir, credentialSecret: CREDENTIAL_SECRET, logLevel: 'warn' }, START_TIMEOUT_MS);
    runtimes.push(runtime);
    return runtime;
  }

  async function deploy(runtime: NodeRedProcess, flow: object[]): Promise<void> {
    const deployed = await api(runtime, 'POST', '/flows', { body: flow, headers: { 'Node-RED-Deployment-Type': 'full' } });
    assert.equal(deployed.status, 204, deployed.text);
  }

  /** A fresh single-partition topic, its group watched, and a producer of sequence numbers. */
  async function setUp(label: string, ratePerS: number): Promise<{ topic: string; groupId: string; group: GroupWatch; events: SequenceProducer }> {
    const topic = faultTopic(label);
    const kafkaTopic = await registerFor(fabric, 0, topic);
    const groupId = `h10-${label}-${topic}`;
    const group = new GroupWatch(fabric.adminKafka('h10-crash-watch'), groupId, kafkaTopic);
    watch = group;
    await group.connect();
    const events = new SequenceProducer(fabric.adminKafka('h10-crash-producer'), kafkaTopic, ratePerS);
    producer = events;
    await events.connect();
    return { topic, groupId, group, events };
  }

  it('(a) Node-RED SIGKILLed mid-stream and restarted: waits out the session, resumes at the committed offset, duplicates within the window and a commit', async function () {
    const RATE_PER_S = 60;
    const WINDOW = 50;
    // 20 events/s finish, a third of the rate they come at, so the window is full at the kill; and
    // slowly enough that the events finished while a commit awaits a busy broker's answer (a second
    // at a load average of 20) stay within the commit pacing.
    const SLOW_MS_PER_EVENT = 50;
    const SEND_AFTER_KILL_MS = 3_000;
    const { topic, groupId, group, events } = await setUp('crash', RATE_PER_S);
    const dir = userDir();
    const outFile = path.join(dir, 'events.jsonl');
    let runtime = await start(dir);
    await deploy(runtime, consumerFlow(fabric, { topic, groupId, outFile, window: WINDOW, slowMsPerEvent: SLOW_MS_PER_EVENT }));

    // Events from the moment the consumer has joined: what comes before it is backlog the restarted runtime drains at 20/s.
    await group.stableWith(1);
    const sending = events.run(120_000);
    // Mid-stream: the window full for a while (twice the window written) and commits going.
    await eventually('the window full and commits going', async () => (writtenSeqs(outFile).length >= 2 * WINDOW && (await group.committed()) >= WINDOW / 2 ? true : undefined), 90_000, 100);
    await runtime.stop('SIGKILL');
    const killedAt = Date.now();
    void sleep(SEND_AFTER_KILL_MS).then(() => events.stop());
    const firstRun = writtenSeqs(outFile);
    // Nobody can commit until the restarted consumer gets the partition, after the dead member's session.
    const [committedAtKill, restarted] = await Promise.all([group.settledCommitted(), start(dir)]);
    const upAt = Date.now();
    assert.equal(writtenSeqs(outFile).length, firstRun.length, 'the restarted consumer waits for the dead member to be dropped');
    runtime = restarted;
    const resumedAt = await eventually('the restarted runtime to write events', () => (writtenSeqs(outFile).length > firstRun.length ? Date.now() : undefined), 90_000, 50);
    const sent = await sending;

    const lines = await eventually(`all ${sent} events in the file`, () => {
      const got = writtenSeqs(outFile);
      return countSequences(sent, got).lost.length === 0 ? got : undefined;
    }, 90_000, 200);
    const count = countSequences(sent, lines);
    const resumedFrom = lines[firstRun.length];
    const beyondCommit = firstRun.filter((seq) => seq >= committedAtKill);
    const bound = redeliveryBound(WINDOW);
    recordResult({
      scenario: `diaspora-in with a groupId, window ${WINDOW} kept full by a slow node, Node-RED SIGKILLed mid-stream at ${RATE_PER_S} events/s and restarted`,
      sent,
      received: count.received,
      lost: count.lost.length,
      duplicated: `${count.duplicated} (bound ${bound})`,
      recoverMs: resumedAt - killedAt,
      notes: `time to recover = SIGKILL → first event written by the restarted runtime (up again after ${seconds(upAt - killedAt)}; then the dead member's ${seconds(GROUP_SESSION_TIMEOUT_MS)} session is waited out); the first run wrote ${firstRun.length} events, the group had committed ${committedAtKill}, the restarted runtime resumed at seq ${resumedFrom}; the duplicates are the ${beyondCommit.length} events the first run wrote beyond the committed offset (bound: the window ${WINDOW} + the commit pacing ${commitPacing(WINDOW).everyEvents})`,
    });
    assert.deepEqual(count.lost, [], 'no event lost');
    assert.equal(resumedFrom, committedAtKill, 'the restarted consumer resumes at the committed offset');
    assert.equal(count.duplicated, beyondCommit.length, 'every duplicate is an event the first run wrote beyond the committed offset');
    assert.ok(count.duplicated <= bound, `${count.duplicated} duplicates: at most the window and a commit's pacing (${bound})`);
    assert.equal(runtime.output().match(ERRORS), null, `the restarted runtime printed errors:\n${runtime.output()}`);
  });

  it('(b) failover: two Node-RED processes in one group, the active one SIGKILLed mid-stream: the standby takes over after the session timeout, nothing lost', async function () {
    const RATE_PER_S = 200;
    const SEND_MS = 12_000;
    const KILL_AT_MS = 4_000;
    const { topic, groupId, group, events } = await setUp('failover', RATE_PER_S);
    // The same flow on both (only the file it writes differs: both "machines" share this host).
    const dirs = [userDir(), userDir()];
    const files = dirs.map((dir) => path.join(dir, 'events.jsonl'));
    // One after the other: two starts at once on the loaded 2-core machine took over 30 s.
    const pair: NodeRedProcess[] = [];
    for (const [i, dir] of dirs.entries()) {
      const runtime = await start(dir);
      await deploy(runtime, consumerFlow(fabric, { topic, groupId, outFile: files[i] }));
      pair.push(runtime);
    }
    // Both members before the first event, so no event is in flight at a join.
    await group.stableWith(2);

    const sending = events.run(SEND_MS);
    const active = await eventually('one runtime to write events', () => {
      const written = files.map((f) => writtenSeqs(f).length);
      return written.some((n) => n > 0) ? written.findIndex((n) => n > 0) : undefined;
    }, 30_000, 50);
    const standby = 1 - active;
    await sleep(KILL_AT_MS);
    await pair[active].stop('SIGKILL');
    const killedAt = Date.now();
    const activeRun = writtenSeqs(files[active]);
    assert.deepEqual(writtenSeqs(files[standby]), [], 'the standby delivered nothing while the active runtime had the partition');

    const memberGone = (async () => {
      await eventually('the coordinator to drop the dead member', async () => ((await group.describe()).members === 1 ? true : undefined), GROUP_SESSION_TIMEOUT_MS + 30_000, 250);
      return Date.now() - killedAt;
    })();
    const committedAtKill = await group.settledCommitted();
    const takeoverMs = await eventually('the standby to write events', () => (writtenSeqs(files[standby]).length > 0 ? Date.now() - killedAt : undefined), GROUP_SESSION_TIMEOUT_MS + 60_000, 50);
    const droppedMs = await memberGone;
    const sent = await sending;

    const union = await eventually(`all ${sent} events in the two files`, () => {
      const got = files.flatMap((f) => writtenSeqs(f));
      return countSequences(sent, got).lost.length === 0 ? got : undefined;
    }, 60_000, 200);
    const count = countSequences(sent, union);
    const standbyRun = writtenSeqs(files[standby]);
    const beyondCommit = activeRun.filter((seq) => seq >= committedAtKill);
    const bound = redeliveryBound(DEFAULT_WINDOW);
    recordResult({
      scenario: `failover: two Node-RED processes, the same flow and group on a 1-partition topic (active + idle standby), the active one SIGKILLed mid-stream at ${RATE_PER_S} events/s`,
      sent,
      received: count.received,
      lost: count.lost.length,
      duplicated: `${count.duplicated} (bound ${bound})`,
      recoverMs: takeoverMs,
      notes: `time to recover = SIGKILL → first event written by the standby (the takeover); the coordinator dropped the dead member after ${seconds(droppedMs)} (session timeout ${seconds(GROUP_SESSION_TIMEOUT_MS)}, counted from its last heartbeat or commit; heartbeats every ${seconds(GROUP_HEARTBEAT_INTERVAL_MS)}), the standby's rejoin, sync and first fetch took the remaining ${seconds(takeoverMs - droppedMs)}; the active runtime wrote ${activeRun.length} events, the standby 0 before the kill and ${standbyRun.length} after it, from seq ${standbyRun[0]} (committed: ${committedAtKill}); the duplicates are the ${beyondCommit.length} events the killed runtime wrote beyond the committed offset (bound: the default window ${DEFAULT_WINDOW} + the commit pacing ${commitPacing(DEFAULT_WINDOW).everyEvents})`,
    });
    assert.deepEqual(count.lost, [], 'the two runtimes together delivered every event');
    assert.equal(standbyRun[0], committedAtKill, 'the standby resumes at the committed offset');
    assert.equal(count.duplicated, beyondCommit.length, 'every duplicate is an event the killed runtime wrote beyond the committed offset');
    assert.ok(count.duplicated <= bound, `${count.duplicated} duplicates: at most the window and a commit's pacing (${bound})`);
    assert.ok(droppedMs <= GROUP_SESSION_TIMEOUT_MS + WATCH_ALLOWANCE_MS, `the dead member was dropped after ${droppedMs} ms: within the session timeout (${GROUP_SESSION_TIMEOUT_MS} ms, seen within ${WATCH_ALLOWANCE_MS} ms)`);
    const takeoverBound = GROUP_SESSION_TIMEOUT_MS + GROUP_HEARTBEAT_INTERVAL_MS + REJOIN_ALLOWANCE_MS;
    assert.ok(takeoverMs <= takeoverBound, `the standby took over after ${takeoverMs} ms: at most the session timeout, a heartbeat and the rejoin (${takeoverBound} ms)`);
    assert.equal(pair[standby].output().match(ERRORS), null, `the standby printed errors:\n${pair[standby].output()}`);
  });
});

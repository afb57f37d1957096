/**
 * Fault 6: Node-RED (a real process with a user directory) is stopped (SIGTERM, as a service
 * manager does) and started again while events keep arriving; diaspora-in has a groupId. After the
 * restart the consumer must resume at the committed offset: no gap; duplicates only from the last
 * uncommitted batch, counted. Events are written by a core `file` node, one JSON line each. A
 * second run keeps diaspora-in's window full (a slow function node wired beside the file node, so
 * the file has the events the flow has not finished): the duplicates are bounded by the window.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { eventually, sleep } from '../fixtures/node-red';
import { faultFabric, type FaultFabric } from './support/fault-fabric';
import { consumerFlow, SequenceProducer, writtenSeqs } from './support/consumer-runs';
import { faultTopic } from './support/flows';
import { registerFor } from './support/identity';
import { api, startNodeRed, type NodeRedProcess } from '../fixtures/node-red-runner';
import { countSequences, recordResult } from './support/results';

const RATE_PER_S = 200;
const SEND_MS = 12_000;
const STOP_AT_MS = 4_000;
const DOWN_MS = 2_000;
/** The window of the second run, and its function node that finishes 1 event per 8 ms, one at a time (slower than they come). */
const SLOW_WINDOW = 50;
const SLOW_MS_PER_EVENT = 8;

interface RestartCase {
  label: string;
  scenario: string;
  /** diaspora-in's window; undefined = its default. */
  window?: number;
  /** A slow node beside the writer, finishing one event per this many ms. */
  slowMsPerEvent?: number;
}

const CASES: RestartCase[] = [
  { label: 'the default window, events written at once', scenario: 'Node-RED stopped (SIGTERM) and started mid-stream, diaspora-in with a groupId' },
  {
    label: `a full window of ${SLOW_WINDOW} (a slow node beside the writer)`,
    scenario: `Node-RED stopped (SIGTERM) and started mid-stream, diaspora-in with a groupId, window ${SLOW_WINDOW} kept full by a slow node`,
    window: SLOW_WINDOW,
    slowMsPerEvent: SLOW_MS_PER_EVENT,
  },
];

describe('faults: Node-RED stopped and started mid-stream (diaspora-in with a groupId)', function () {
  this.timeout(150_000);
  let fabric: FaultFabric;
  let userDir: string;
  let nodeRed: NodeRedProcess | undefined;

  before(async function () {
    this.timeout(180_000);
    fabric = await faultFabric();
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'h10-restart-'));
  });

  after(async function () {
    await nodeRed?.stop();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  for (const c of CASES) it(`resumes at the committed offset: no gap, duplicates counted (${c.label})`, async function () {
    const topic = faultTopic('restart');
    const kafkaTopic = await registerFor(fabric, 0, topic);
    const outFile = path.join(userDir, `events-${topic}.jsonl`);
    const groupId = `h10-restart-${topic}`;
    const flow = consumerFlow(fabric, { topic, groupId, outFile, window: c.window, slowMsPerEvent: c.slowMsPerEvent });

    await nodeRed?.stop();
    nodeRed = await startNodeRed({ userDir, credentialSecret: 'h10-restart-credential-secret', logLevel: 'warn' });
    const deployed = await api(nodeRed, 'POST', '/flows', { body: flow, headers: { 'Node-RED-Deployment-Type': 'full' } });
    assert.equal(deployed.status, 204, deployed.text);

    const producer = new SequenceProducer(fabric.adminKafka('h10-restart-producer'), kafkaTopic, RATE_PER_S);
    await producer.connect();
    try {
      // The consumer starts from the earliest event, so sending may begin before it has joined.
      let stoppedAt = 0;
      let linesBeforeStop = 0;
      let resumedAt = 0;
      const restart = (async () => {
        await sleep(STOP_AT_MS);
        await eventually('events to arrive before the stop', () => (writtenSeqs(outFile).length > 0 ? true : undefined), 30_000);
        await nodeRed?.stop('SIGTERM');
        stoppedAt = Date.now();
        linesBeforeStop = writtenSeqs(outFile).length;
        await sleep(DOWN_MS);
        nodeRed = await startNodeRed({ userDir, credentialSecret: 'h10-restart-credential-secret', logLevel: 'warn' });
        await eventually('the restarted runtime to write events', () => (writtenSeqs(outFile).length > linesBeforeStop ? true : undefined), 60_000, 50);
        resumedAt = Date.now();
      })();
      const sent = await producer.run(SEND_MS);
      await restart;

      const lines = await eventually(`all ${sent} events in ${outFile}`, () => {
        const got = writtenSeqs(outFile);
        return countSequences(sent, got).lost.length === 0 ? got : undefined;
      }, 60_000, 200);
      const count = countSequences(sent, lines);
      const firstRun = new Set(lines.slice(0, linesBeforeStop));
      const secondRun = lines.slice(linesBeforeStop);
      const redelivered = secondRun.filter((seq) => firstRun.has(seq));
      const resumedFrom = secondRun.length > 0 ? Math.min(...secondRun) : -1;

      recordResult({
        scenario: c.scenario,
        sent,
        received: count.received,
        lost: count.lost.length,
        duplicated: count.duplicated,
        recoverMs: resumedAt - stoppedAt,
        notes: `time to recover = SIGTERM → first event written by the restarted runtime (${DOWN_MS / 1000} s of it stopped); first run wrote ${linesBeforeStop} events, the second resumed at seq ${resumedFrom}; redelivered: ${redelivered.length}`,
      });
      assert.deepEqual(count.lost, [], 'no gap');
      if (c.window !== undefined) assert.ok(count.duplicated <= c.window, `${count.duplicated} duplicates: at most the window (${c.window}) may come again`);
      assert.equal(count.duplicated, redelivered.length, 'every duplicate is an event of the first run delivered again');
      if (redelivered.length > 0) {
        // Redelivery starts at the committed offset: the duplicates are the last events of the first run.
        const lastOfFirstRun = lines.slice(0, linesBeforeStop).slice(-redelivered.length);
        assert.deepEqual([...redelivered].sort((a, b) => a - b), [...lastOfFirstRun].sort((a, b) => a - b), 'duplicates come only from the end of the first run');
      }
      assert.equal(nodeRed.output().match(/\[error\]|unhandled|uncaught/gi), null, `the runtime printed errors:\n${nodeRed.output()}`);
    } finally {
      await producer.disconnect();
    }
  });
});

/**
 * Fault 9: diaspora-out's spool on disk, in a real Node-RED process that is SIGKILLed (a crash).
 * The flow takes events over HTTP (as an instrument's acquisition program would post them), sends
 * them to diaspora-out (spool mode, ack mode, one key so one partition keeps the order), and a
 * Complete node writes every event whose done() ran to a file: the record that survives the kill.
 * After a restart the sender resumes from the first event without a done(), as an instrument that
 * keeps what was not confirmed would; so events done but not yet written to that file at the kill
 * are sent twice (duplicates, counted), and an event is lost only if the topic lacks it.
 *
 * (a) broker frozen for the whole run, Node-RED killed twice while events are spooled, broker back;
 * (b) session ready, Node-RED killed mid-stream: every event whose done() ran is on the broker;
 * (c) the spool's folder on a full disk (a small tmpfs), then read-only: clear errors, the runtime
 *     stays up, and every event spooled before is delivered.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { eventually, sleep, type FlowNode } from '../fixtures/node-red';
import { faultFabric, type FaultFabric } from './support/fault-fabric';
import { faultConfig, faultTopic, readTopic } from './support/flows';
import { registerFor } from './support/identity';
import { api, startNodeRed, type NodeRedProcess } from '../fixtures/node-red-runner';
import { countSequences, recordResult } from './support/results';

const RATE_PER_S = 1_000;
const TICK_MS = 50;
const CREDENTIAL_SECRET = 'h10-spool-credential-secret';

/** `{..., "seq": n}` (on the broker `"seq": n`, as Python writes JSON); the seq comes last, so a line torn by a kill never yields a wrong number. */
const SEQ = /"seq": ?(\d+)\}/g;

function seqsIn(text: string): number[] {
  return [...text.matchAll(SEQ)].map((m) => Number(m[1]));
}

/** mount/umount as root: directly when the suite runs as root, else through `sudo -n` (as .ci/run installs packages). */
function asRoot(command: string, args: string[]): void {
  if (process.getuid?.() === 0) execFileSync(command, args);
  else execFileSync('sudo', ['-n', command, ...args]);
}

function readSeqs(file: string): number[] {
  return fs.existsSync(file) ? seqsIn(fs.readFileSync(file, 'utf8')) : [];
}

/** The smallest sequence number without a done(): where a restarted sender resumes. */
function firstNotDone(file: string): number {
  const done = new Set(readSeqs(file));
  let n = 0;
  while (done.has(n)) n += 1;
  return n;
}

/** Order as the spool promises it: each event's first copy comes after the first copy of every earlier event. */
function outOfOrder(seqs: number[]): number {
  const seen = new Set<number>();
  let last = -1;
  let wrong = 0;
  for (const s of seqs) {
    if (seen.has(s)) continue;
    seen.add(s);
    if (s < last) wrong += 1;
    last = Math.max(last, s);
  }
  return wrong;
}

interface Files {
  done: string;
  errors: string;
  statuses: string;
}

function spoolFlow(fabric: FaultFabric, topic: string, files: Files, extra: Record<string, unknown> = {}): FlowNode[] {
  const config = faultConfig('cfg', fabric.description, 'v3', fabric.description.clients[0]);
  const file = (id: string, filename: string): FlowNode => ({
    id, type: 'file', z: 'tab', filename, filenameType: 'str', appendNewline: true, createDir: true, overwriteFile: 'false', encoding: 'none', wires: [],
  });
  const nodes: FlowNode[] = [
    { id: 'events', type: 'http in', z: 'tab', url: '/events', method: 'post', upload: false, swaggerDoc: '', wires: [['split', 'accepted']] },
    { id: 'accepted', type: 'http response', z: 'tab', statusCode: '204', headers: {}, wires: [] },
    { id: 'split', type: 'function', z: 'tab', func: 'return [msg.payload.map((event) => ({ payload: event }))];', outputs: 1, wires: [['pub']] },
    {
      id: 'pub', type: 'diaspora-out', z: 'tab', fabric: 'cfg', topic, key: 'instrument-1', mode: 'ack', acks: 'all', compression: 'none',
      whenNotReady: 'spool', queueSize: 1000, spoolSizeMB: 100, wires: [[]], ...extra,
    },
    { id: 'complete', type: 'complete', z: 'tab', scope: ['pub'], uncaught: false, wires: [['batch']] },
    // One line per 200 events (or 50 ms): a file write per event would lag behind 1,000 events/s.
    {
      id: 'batch', type: 'join', z: 'tab', mode: 'custom', build: 'array', property: 'payload', propertyType: 'msg', key: 'topic', joiner: '\\n', joinerType: 'str',
      accumulate: false, timeout: '0.05', count: '200', reduceRight: false, wires: [['done']],
    },
    file('done', files.done),
    { id: 'catch', type: 'catch', z: 'tab', scope: ['pub'], uncaught: false, wires: [['describe-error']] },
    { id: 'describe-error', type: 'function', z: 'tab', func: 'return { payload: { error: msg.error.message, seq: msg.payload.seq } };', outputs: 1, wires: [['errors']] },
    file('errors', files.errors),
    { id: 'status', type: 'status', z: 'tab', scope: ['pub'], wires: [['describe-status']] },
    { id: 'describe-status', type: 'function', z: 'tab', func: 'return { payload: { fill: msg.status.fill, text: msg.status.text } };', outputs: 1, wires: [['statuses']] },
    file('statuses', files.statuses),
  ];
  // Without a position Node-RED takes a node for a config node (and a Status node's scope for a dependency).
  return [{ id: 'tab', type: 'tab', label: 'h10 spool' }, { ...config.node, credentials: config.credentials.cfg }, ...nodes.map((n) => ({ x: 0, y: 0, ...n }))];
}

/** Posts events 0..total-1 at RATE_PER_S to whichever runtime is up; `restartAt` moves it back (resume after a kill). */
class Sender {
  next = 0;
  posted = 0;
  nodeRed: NodeRedProcess | undefined;
  private stopped = false;

  constructor(
    private readonly total: number,
    private readonly event: (seq: number) => object,
  ) {}

  async run(): Promise<void> {
    const perTick = Math.max(1, Math.round((RATE_PER_S * TICK_MS) / 1000));
    let due = Date.now();
    while (!this.stopped && this.next < this.total) {
      due += TICK_MS;
      const target = this.nodeRed;
      if (target) {
        const from = this.next;
        const batch: object[] = [];
        for (let seq = from; seq < Math.min(this.total, from + perTick); seq++) batch.push(this.event(seq));
        try {
          const answer = await api(target, 'POST', '/api/events', { body: batch });
          if (answer.status === 204 && this.nodeRed === target && this.next === from) {
            this.next = from + batch.length;
            this.posted += batch.length;
          }
        } catch {
          // the runtime is down (killed): the restart resumes the sender
        }
      }
      await sleep(Math.max(0, due - Date.now()));
    }
  }

  restartAt(seq: number, nodeRed: NodeRedProcess): void {
    this.next = seq;
    this.nodeRed = nodeRed;
  }

  stop(): void {
    this.stopped = true;
  }
}

describe('faults: diaspora-out spool on disk with Node-RED SIGKILLed', function () {
  this.timeout(240_000);
  let fabric: FaultFabric;
  let userDir: string;
  let files: Files;
  let nodeRed: NodeRedProcess | undefined;

  before(async function () {
    this.timeout(180_000);
    fabric = await faultFabric();
  });

  beforeEach(function () {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'h10-spool-'));
    files = { done: path.join(userDir, 'done.jsonl'), errors: path.join(userDir, 'errors.jsonl'), statuses: path.join(userDir, 'statuses.jsonl') };
  });

  afterEach(async function () {
    try {
      fabric?.resumeBroker();
    } catch {
      // not paused
    }
    await nodeRed?.stop('SIGKILL');
    nodeRed = undefined;
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  const start = (): Promise<NodeRedProcess> => startNodeRed({ userDir, credentialSecret: CREDENTIAL_SECRET, logLevel: 'warn' });

  async function deploy(flow: FlowNode[]): Promise<NodeRedProcess> {
    const runtime = await start();
    const deployed = await api(runtime, 'POST', '/flows', { body: flow, headers: { 'Node-RED-Deployment-Type': 'full' } });
    assert.equal(deployed.status, 204, deployed.text);
    return runtime;
  }

  const statuses = (): Array<{ fill?: string; text?: string }> =>
    fs.existsSync(files.statuses)
      ? fs
          .readFileSync(files.statuses, 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('{') && l.endsWith('}'))
          .map((l) => JSON.parse(l) as { fill?: string; text?: string })
      : [];

  const waitReady = (): Promise<true> =>
    eventually('diaspora-out to show ready', () => (statuses().some((s) => s.fill === 'green') ? true : undefined), 90_000, 100);

  /**
   * Freezes the broker and waits until the session has noticed (red status, within the watch's
   * 10 s + 5 s): until then sends go to the frozen broker, which appends them when it thaws although
   * the client timed out and spooled them (duplicates that say nothing about the spool).
   */
  async function freezeBroker(): Promise<void> {
    const seen = statuses().length;
    fabric.pauseBroker();
    await eventually('diaspora-out to show the outage', () => (statuses().slice(seen).some((s) => s.fill === 'red') ? true : undefined), 30_000, 100);
  }

  /** SIGKILL, then a new runtime on the same user directory (flows, credentials, spool); the sender resumes at the first event without a done(). */
  async function crashAndRestart(sender: Sender): Promise<{ resent: number; downMs: number }> {
    const killedAt = Date.now();
    sender.nodeRed = undefined;
    await nodeRed?.stop('SIGKILL');
    const before = sender.next;
    nodeRed = await start();
    const resume = firstNotDone(files.done);
    sender.restartAt(resume, nodeRed);
    return { resent: before - resume, downMs: Date.now() - killedAt };
  }

  it('(a) broker frozen, 20,000 events at 1,000/s spooled, Node-RED SIGKILLed twice, broker back: all received in order', async function () {
    const TOTAL = 20_000;
    const topic = faultTopic('spool-outage');
    const kafkaTopic = await registerFor(fabric, 0, topic);
    nodeRed = await deploy(spoolFlow(fabric, topic, files));
    await waitReady();
    await freezeBroker();
    const sender = new Sender(TOTAL, (seq) => ({ seq }));
    sender.nodeRed = nodeRed;
    const sending = sender.run();
    const kills: Array<{ resent: number; downMs: number }> = [];
    for (const at of [TOTAL * 0.3, TOTAL * 0.65]) {
      await eventually(`${at} events posted`, () => (sender.next >= at ? true : undefined), 120_000, 20);
      kills.push(await crashAndRestart(sender));
    }
    await sending;
    await eventually(`done() for all ${TOTAL} events`, () => (firstNotDone(files.done) >= TOTAL ? true : undefined), 60_000, 200);
    const spoolStatus = statuses().filter((s) => /^broker|spool/.test(s.text ?? '')).pop();
    const resumedAt = Date.now();
    fabric.resumeBroker();
    const seqs = await eventually(`all ${TOTAL} events on the broker`, async () => {
      const got = (await readTopic(fabric.adminKafka('h10-spool-reader'), kafkaTopic, 30_000)).flatMap(seqsIn);
      return countSequences(TOTAL, got).lost.length === 0 ? got : undefined;
    }, 120_000, 1_000);
    const drainedMs = Date.now() - resumedAt;
    const count = countSequences(TOTAL, seqs);
    const resent = kills.reduce((n, k) => n + k.resent, 0);
    recordResult({
      scenario: 'spool: broker frozen (SIGSTOP), 20,000 events at 1,000/s, Node-RED SIGKILLed twice, broker resumed',
      sent: TOTAL,
      received: count.received,
      lost: count.lost.length,
      duplicated: count.duplicated,
      recoverMs: drainedMs,
      notes: `time to recover = SIGCONT → all events on the broker (the drain); out of order: ${outOfOrder(seqs)}; events posted again after the kills (no done() recorded yet): ${kills.map((k) => k.resent).join(' + ')}; runtime down ${kills.map((k) => (k.downMs / 1000).toFixed(1)).join(' s, ')} s; status during the outage: "${spoolStatus?.text ?? '?'}"`,
    });
    assert.deepEqual(count.lost, [], 'no event lost');
    assert.equal(outOfOrder(seqs), 0, 'the first copy of each event comes in order');
    assert.ok(count.duplicated <= resent, `duplicates (${count.duplicated}) only among events posted again (${resent})`);
    assert.match(spoolStatus?.text ?? '', /spool \d+ · /, 'the status shows the spool depth and size');
    assert.equal(nodeRed.output().match(/unhandled|uncaught/gi), null, nodeRed.output());
  });

  it('(b) session ready, Node-RED SIGKILLed mid-stream at 1,000/s in ack mode: every event whose done() ran is on the broker', async function () {
    const TOTAL = 8_000;
    const topic = faultTopic('spool-crash');
    const kafkaTopic = await registerFor(fabric, 0, topic);
    nodeRed = await deploy(spoolFlow(fabric, topic, files));
    await waitReady();
    const sender = new Sender(TOTAL, (seq) => ({ seq }));
    sender.nodeRed = nodeRed;
    const sending = sender.run();
    await eventually('half the events posted', () => (sender.next >= TOTAL / 2 ? true : undefined), 60_000, 20);
    const doneBeforeKill = new Set(readSeqs(files.done)).size;
    const kill = await crashAndRestart(sender);
    const doneAtKill = new Set(readSeqs(files.done));
    await sending;
    await eventually(`done() for all ${TOTAL} events`, () => (firstNotDone(files.done) >= TOTAL ? true : undefined), 90_000, 200);
    const seqs = await eventually(`all ${TOTAL} events on the broker`, async () => {
      const got = (await readTopic(fabric.adminKafka('h10-spool-reader'), kafkaTopic, 30_000)).flatMap(seqsIn);
      return countSequences(TOTAL, got).lost.length === 0 ? got : undefined;
    }, 90_000, 1_000);
    const onBroker = new Set(seqs);
    const doneButMissing = [...doneAtKill].filter((s) => !onBroker.has(s));
    const count = countSequences(TOTAL, seqs);
    recordResult({
      scenario: 'spool: session ready, Node-RED SIGKILLed mid-stream at 1,000/s (ack mode)',
      sent: TOTAL,
      received: count.received,
      lost: count.lost.length,
      duplicated: count.duplicated,
      recoverMs: kill.downMs,
      notes: `time to recover = SIGKILL → restarted runtime taking events; ${doneAtKill.size} events had a recorded done() at the kill (${doneBeforeKill} just before it), all on the broker: ${doneButMissing.length === 0 ? 'yes' : `no, ${doneButMissing.length} missing`}; posted again after the kill: ${kill.resent}; out of order: ${outOfOrder(seqs)}`,
    });
    assert.deepEqual(doneButMissing, [], 'every event whose done() ran before the kill is on the broker');
    assert.deepEqual(count.lost, [], 'no event lost');
    assert.ok(count.duplicated <= kill.resent, `duplicates (${count.duplicated}) only among events posted again (${kill.resent})`);
    assert.equal(outOfOrder(seqs), 0, 'the first copy of each event comes in order');
  });

  it('(c) spool on a full disk, then read-only: clear errors, the runtime stays up, every spooled event is delivered', async function () {
    const mount = path.join(userDir, 'diaspora-spool');
    fs.mkdirSync(mount);
    asRoot('mount', ['-t', 'tmpfs', '-o', `size=256k,mode=0755,uid=${process.getuid?.() ?? 0},gid=${process.getgid?.() ?? 0}`, 'tmpfs', mount]);
    try {
      const TOTAL = 600;
      const pad = 'x'.repeat(1000);
      const topic = faultTopic('spool-disk');
      const kafkaTopic = await registerFor(fabric, 0, topic);
      nodeRed = await deploy(spoolFlow(fabric, topic, files));
      await waitReady();
      await freezeBroker();
      const sender = new Sender(TOTAL, (seq) => ({ pad, seq }));
      sender.nodeRed = nodeRed;
      await sender.run();
      const errors = (): string[] => (fs.existsSync(files.errors) ? fs.readFileSync(files.errors, 'utf8').split('\n').filter((l) => l !== '') : []);
      await eventually('every event done or failed', () => (new Set(readSeqs(files.done)).size + errors().length >= TOTAL ? true : undefined), 30_000, 100);
      const full = errors();
      assert.ok(full.length > 0, 'a full disk fails messages');
      assert.match(full[0], /the spool on disk failed: cannot write to the spool: the disk is full \(ENOSPC/);
      // The spool's status is shown at most every 250 ms.
      const fullStatus = await eventually('the status to say the disk is full', () => statuses().find((s) => /disk error: ENOSPC/.test(s.text ?? '')), 15_000, 100);
      assert.equal(fullStatus.fill, 'red', 'the status turns red and says why');
      assert.equal((await api(nodeRed, 'GET', '/flows')).status, 200, 'the runtime is up');

      // Read-only: a crash, and the runtime restarted on the same spool, its folder now read-only.
      await nodeRed.stop('SIGKILL');
      asRoot('mount', ['-o', 'remount,ro', mount]);
      const statusesBefore = statuses().length;
      nodeRed = await start();
      const readOnly = new Sender(TOTAL + 20, (seq) => ({ pad, seq }));
      readOnly.next = TOTAL;
      readOnly.nodeRed = nodeRed;
      await readOnly.run();
      await eventually('the read-only events failed', () => (errors().length >= full.length + 20 ? true : undefined), 30_000, 100);
      const roErrors = errors().slice(full.length);
      assert.ok(roErrors.every((e) => /read-only \(EROFS/.test(e)), roErrors[0]);
      await eventually('the status to say read-only', () => (statuses().slice(statusesBefore).some((s) => s.fill === 'red' && /disk error: EROFS/.test(s.text ?? '')) ? true : undefined), 15_000, 100);
      assert.equal((await api(nodeRed, 'GET', '/flows')).status, 200, 'the runtime is up');

      const done = new Set(readSeqs(files.done));
      fabric.resumeBroker();
      const seqs = await eventually(`the ${done.size} spooled events on the broker`, async () => {
        const got = new Set((await readTopic(fabric.adminKafka('h10-spool-reader'), kafkaTopic, 30_000)).flatMap(seqsIn));
        return [...done].every((s) => got.has(s)) ? got : undefined;
      }, 60_000, 1_000);
      const failed = new Set(errors().flatMap(seqsIn));
      recordResult({
        scenario: 'spool: its folder on a full disk (256 KiB tmpfs), then read-only, broker frozen then resumed',
        sent: TOTAL + 20,
        received: seqs.size,
        lost: [...done].filter((s) => !seqs.has(s)).length,
        duplicated: '-',
        recoverMs: '-',
        notes: `${done.size} events spooled before the disk was full, all delivered; ${full.length} failed with "disk is full (ENOSPC)", 20 with "read-only (EROFS)", each through done(err); failed events not sent: ${[...failed].every((s) => !seqs.has(s)) ? 'yes' : 'no'}; the runtime stayed up`,
      });
      assert.ok([...failed].every((s) => !seqs.has(s)), 'an event that failed was not sent');
      assert.equal(nodeRed.output().match(/unhandled|uncaught/gi), null, nodeRed.output());
    } finally {
      await nodeRed?.stop('SIGKILL');
      nodeRed = undefined;
      asRoot('umount', [mount]);
    }
  });
});

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Drainer, type Delivery } from '../../../../lib/spool/drain';
import { Spool } from '../../../../lib/spool/spool';

const record = (n: number): Buffer => Buffer.from(String(n));

/** Resolves once `check` holds (polling), or fails after a second. */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('lib/spool: Drainer', function () {
  let dir: string;
  let spool: Spool;
  let drainer: Drainer | undefined;

  beforeEach(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drain-unit-'));
    spool = new Spool({ dir, maxBytes: 1024 * 1024 });
    for (let i = 0; i < 20; i++) await spool.append(record(i));
  });
  afterEach(async function () {
    await drainer?.stop();
    await spool.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('delivers in order, in batches, and removes only what was acknowledged', async function () {
    const delivered: string[] = [];
    const batches: number[] = [];
    drainer = new Drainer({
      spool,
      batchRecords: 8,
      canSend: () => true,
      deliver: async (records) => {
        batches.push(records.length);
        delivered.push(...records.map(String));
        return records.map((): Delivery => ({ ok: true }));
      },
      onRejected: () => assert.fail('nothing is rejected'),
      onRetry: (err) => assert.fail(err),
      onProgress: () => undefined,
    });
    drainer.kick();
    await until(() => spool.depth === 0 && !drainer?.active);
    assert.deepEqual(delivered, Array.from({ length: 20 }, (_, i) => String(i)));
    assert.deepEqual(batches, [8, 8, 4]);
  });

  it('stops at the first transient failure, keeps it and what follows, and retries after a backoff', async function () {
    let calls = 0;
    const delivered: string[] = [];
    const retries: number[] = [];
    drainer = new Drainer({
      spool,
      canSend: () => true,
      deliver: async (records) => {
        calls += 1;
        if (calls === 1) {
          // 0..4 acknowledged, 5 failed (transient), 6.. acknowledged but behind the failure
          return records.map((_, i): Delivery => (i === 5 ? { ok: false, error: new Error('broker away'), retry: true } : { ok: true }));
        }
        delivered.push(...records.map(String));
        return records.map((): Delivery => ({ ok: true }));
      },
      onRejected: () => assert.fail('nothing is rejected'),
      onRetry: (_err, delayMs) => retries.push(delayMs),
      onProgress: () => undefined,
    });
    drainer.kick();
    await until(() => retries.length === 1);
    assert.equal(spool.depth, 15);
    await until(() => spool.depth === 0);
    assert.deepEqual(retries, [1000]);
    assert.deepEqual(delivered, Array.from({ length: 15 }, (_, i) => String(i + 5)));
  });

  it('a record refused for good is reported and removed; the ones behind it go on', async function () {
    const rejected: string[] = [];
    drainer = new Drainer({
      spool,
      canSend: () => true,
      deliver: async (records) => records.map((r): Delivery => (String(r) === '3' ? { ok: false, error: new Error('too large'), retry: false } : { ok: true })),
      onRejected: (r, err) => rejected.push(`${String(r)}: ${err.message}`),
      onRetry: (err) => assert.fail(err),
      onProgress: () => undefined,
    });
    drainer.kick();
    await until(() => spool.depth === 0);
    assert.deepEqual(rejected, ['3: too large']);
  });

  it('does nothing while the transport is not ready; kick starts it once it is', async function () {
    let ready = false;
    let calls = 0;
    drainer = new Drainer({
      spool,
      canSend: () => ready,
      deliver: async (records) => {
        calls += 1;
        return records.map((): Delivery => ({ ok: true }));
      },
      onRejected: () => undefined,
      onRetry: () => undefined,
      onProgress: () => undefined,
    });
    drainer.kick();
    assert.equal(drainer.active, false);
    assert.equal(calls, 0);
    ready = true;
    drainer.kick();
    await until(() => spool.depth === 0);
    assert.equal(calls, 1);
  });
});

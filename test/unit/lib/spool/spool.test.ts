import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { frame, scanFrames } from '../../../../lib/spool/frame';
import { FSYNC_POLICIES, Spool, SpoolClosedError, SpoolDiskError, SpoolFullError } from '../../../../lib/spool/spool';

const sleepMs = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const record = (n: number): Buffer => Buffer.from(JSON.stringify({ seq: n }));
const seqs = (records: Buffer[]): number[] => records.map((r) => (JSON.parse(r.toString()) as { seq: number }).seq);

describe('lib/spool: Spool', function () {
  let dir: string;
  const spools: Spool[] = [];
  const open = async (options: Partial<ConstructorParameters<typeof Spool>[0]> = {}): Promise<Spool> => {
    const spool = new Spool({ dir, maxBytes: 1024 * 1024, ...options });
    spools.push(spool);
    await spool.open();
    return spool;
  };

  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-unit-'));
  });
  afterEach(async function () {
    for (const s of spools.splice(0)) await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const fsync of FSYNC_POLICIES) {
    it(`fsync ${fsync}: appends come out in order, and survive a reopen until removed`, async function () {
      const spool = await open({ fsync, fsyncIntervalMs: 5 });
      await Promise.all(Array.from({ length: 50 }, (_, i) => spool.append(record(i))));
      assert.equal(spool.depth, 50);
      assert.deepEqual(seqs(await spool.read(10)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      await spool.remove(10);
      await spool.close();
      const again = await open();
      assert.equal(again.depth, 40);
      assert.deepEqual(seqs(await again.read(100)), Array.from({ length: 40 }, (_, i) => i + 10));
    });
  }

  it('knows when its oldest record was written: to the second for this run\'s appends, as its segment\'s last change for an earlier run\'s', async function () {
    const spool = await open();
    // A function: TypeScript would keep `spool.oldest` narrowed to undefined after the first assert.
    const oldest = (s: Spool = spool): Spool['oldest'] => s.oldest;
    assert.equal(oldest(), undefined);
    const before = Date.now();
    await spool.append(record(0));
    const first = oldest();
    assert.ok(first && !first.estimated && first.writtenAt >= before && first.writtenAt <= Date.now(), JSON.stringify(first));
    // Ages are kept to the second: writes more than a second apart are told apart.
    await sleepMs(1_050);
    await spool.append(record(1));
    await spool.append(record(2));
    assert.equal(oldest()?.writtenAt, first.writtenAt, 'the oldest stays the first until it is removed');
    await spool.read(2);
    await spool.remove(1);
    const second = oldest()?.writtenAt ?? 0;
    assert.ok(second >= first.writtenAt + 1_000, 'after removing the first, the second is the oldest');
    await spool.remove(1);
    assert.equal(oldest()?.writtenAt, second, 'the third, written within the same second, shares its time');
    await spool.close();
    const [segment] = fs.readdirSync(dir).filter((f) => f.endsWith('.seg'));
    const changed = fs.statSync(path.join(dir, segment)).mtimeMs;
    const again = await open();
    assert.deepEqual(oldest(again), { writtenAt: changed, estimated: true });
    await again.read(1);
    await again.remove(1);
    assert.equal(oldest(again), undefined);
  });

  it('a torn last record (a crash mid-write) is skipped with a warning; everything before it is kept and later appends work', async function () {
    const spool = await open();
    for (let i = 0; i < 5; i++) await spool.append(record(i));
    await spool.close();
    const [segment] = fs.readdirSync(dir).filter((f) => f.endsWith('.seg'));
    const torn = frame(record(5)).subarray(0, 7);
    fs.appendFileSync(path.join(dir, segment), torn);
    const warnings: string[] = [];
    const again = await open({ warn: (m) => warnings.push(m) });
    assert.equal(again.depth, 5);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /skipped 7 bytes after record 5 .*cut short/);
    await again.append(record(6));
    assert.deepEqual(seqs(await again.read(100)), [0, 1, 2, 3, 4, 6]);
  });

  it('a damaged last record (checksum mismatch) is skipped too', async function () {
    const spool = await open();
    for (let i = 0; i < 3; i++) await spool.append(record(i));
    await spool.close();
    const file = path.join(dir, fs.readdirSync(dir).filter((f) => f.endsWith('.seg'))[0]);
    const content = fs.readFileSync(file);
    content[content.length - 2] ^= 0xff;
    fs.writeFileSync(file, content);
    const warnings: string[] = [];
    const again = await open({ warn: (m) => warnings.push(m) });
    assert.equal(again.depth, 2);
    assert.match(warnings[0], /checksum mismatch/);
  });

  it('a full spool refuses the append with SpoolFullError naming its limit, and takes appends again once drained', async function () {
    const size = frame(record(0)).length;
    const spool = await open({ maxBytes: size * 3 });
    for (let i = 0; i < 3; i++) await spool.append(record(i));
    await assert.rejects(spool.append(record(3)), (err: Error) => err instanceof SpoolFullError && /3 events use .* of its/.test(err.message));
    await spool.read(2);
    await spool.remove(2);
    await spool.append(record(4));
    assert.deepEqual(seqs(await spool.read(10)), [2, 4]);
  });

  it('rolls segments and deletes the ones fully removed', async function () {
    const spool = await open({ segmentBytes: 200 });
    for (let i = 0; i < 100; i++) await spool.append(record(i));
    const before = fs.readdirSync(dir).filter((f) => f.endsWith('.seg')).length;
    assert.ok(before > 5, `${before} segments`);
    let got: number[] = [];
    while (spool.depth > 0) {
      const batch = await spool.read(7);
      got = got.concat(seqs(batch));
      await spool.remove(batch.length);
    }
    assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => i));
    assert.equal(fs.readdirSync(dir).filter((f) => f.endsWith('.seg')).length, 1);
    await spool.close();
    assert.equal((await open()).depth, 0);
  });

  it('reads at most maxBytes per batch (but always one record), and remove(n) removes only the first n read', async function () {
    const spool = await open();
    await spool.append(Buffer.alloc(3000, 1));
    await spool.append(Buffer.alloc(10, 2));
    const first = await spool.read(10, 100);
    assert.equal(first.length, 1);
    assert.equal(first[0].length, 3000);
    await spool.remove(1);
    assert.equal(spool.depth, 1);
    assert.deepEqual(await spool.read(10), [Buffer.alloc(10, 2)]);
    await assert.rejects(spool.remove(2), RangeError);
  });

  it('a read-only or missing directory is a SpoolDiskError with the system code, and the open is tried again later', async function () {
    if (process.getuid?.() === 0) {
      // root ignores permissions: a file where the folder should be fails for root too
      fs.writeFileSync(path.join(dir, 'blocked'), '');
    } else {
      fs.mkdirSync(path.join(dir, 'blocked'));
      fs.chmodSync(path.join(dir, 'blocked'), 0o500);
    }
    const spool = new Spool({ dir: path.join(dir, 'blocked', 'spool'), maxBytes: 1024 });
    spools.push(spool);
    await assert.rejects(spool.append(record(1)), (err: Error) => err instanceof SpoolDiskError && /cannot open the spool/.test(err.message) && typeof err.code === 'string');
    fs.rmSync(path.join(dir, 'blocked'), { recursive: true, force: true });
    await spool.append(record(2));
    assert.equal(spool.depth, 1);
  });

  it('close waits for accepted appends; later appends are refused; destroy deletes the folder and says how many it held', async function () {
    const spool = await open();
    const pending = [spool.append(record(1)), spool.append(record(2))];
    await spool.close();
    await Promise.all(pending);
    await assert.rejects(spool.append(record(3)), SpoolClosedError);
    const again = await open();
    assert.equal(await again.destroy(), 2);
    assert.equal(fs.existsSync(dir), false);
  });

  it('the frames on disk are length + CRC framed', async function () {
    const spool = await open();
    await spool.append(record(7));
    const file = path.join(dir, fs.readdirSync(dir).filter((f) => f.endsWith('.seg'))[0]);
    const scan = scanFrames(fs.readFileSync(file));
    assert.equal(scan.torn, undefined);
    assert.deepEqual(seqs(scan.frames.map((f) => f.payload)), [7]);
  });
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compressLz4Frame, decompressLz4Frame, Lz4FrameError } from '../../../lib/kafka/lz4-frame';

/** Inputs that stress block boundaries: empty, tiny, exactly one written block, several blocks. */
function samples(): Array<[string, Buffer]> {
  const json = Buffer.from(
    JSON.stringify(Array.from({ length: 4000 }, (_, i) => ({ id: i, sensor: `s-${i % 13}`, value: Math.round(Math.sin(i) * 1000) / 10 }))),
  );
  const random = crypto.randomBytes(150_000);
  const runs = Buffer.alloc(300_000, 'ab');
  const mixed = Buffer.concat([json.subarray(0, 70_000), random.subarray(0, 30_000), runs.subarray(0, 70_000)]);
  return [
    ['empty', Buffer.alloc(0)],
    ['1 byte', Buffer.from('x')],
    ['12 bytes', Buffer.from('abcabcabcabc')],
    ['13 bytes', Buffer.from('abcabcabcabca')],
    ['64 KiB - 16 (one full written block)', runs.subarray(0, 65520)],
    ['64 KiB', runs.subarray(0, 65536)],
    ['JSON records', json],
    ['random (incompressible)', random],
    ['repetitive 300 KB', runs],
    ['mixed', mixed],
  ];
}

/** The reference LZ4 command-line tool (Debian package `lz4`). */
function lz4Cli(args: string[], input: Buffer): Buffer {
  return execFileSync('lz4', ['-q', ...args], { input, maxBuffer: 64 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] });
}

describe('lib/lz4-frame', () => {
  before(() => {
    try {
      execFileSync('lz4', ['--version'], { stdio: 'ignore' });
    } catch {
      throw new Error('these tests compare with the reference LZ4 tool: install it (apt-get install lz4)');
    }
  });

  it('writes the frame header Kafka expects: independent 64 KiB blocks, correct header checksum', () => {
    const frame = compressLz4Frame(Buffer.from('hello hello hello hello'));
    // magic 184D2204 (LE), FLG 0x60 = version 1 + block independence, BD 0x40 = 64 KiB, HC 0x82
    assert.deepEqual([...frame.subarray(0, 7)], [0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82]);
    assert.deepEqual([...frame.subarray(frame.length - 4)], [0, 0, 0, 0]);
  });

  for (const [label, input] of samples()) {
    it(`round-trips ${label} and the reference lz4 tool decodes it`, () => {
      const frame = compressLz4Frame(input);
      assert.ok(decompressLz4Frame(frame).equals(input), 'own round trip');
      assert.ok(lz4Cli(['-d', '-c'], frame).equals(input), 'lz4 -d of our frame');
      assert.ok(decompressLz4Frame(lz4Cli(['-c', '-B4'], input)).equals(input), 'our decode of lz4 -B4');
    });
  }

  it('compresses what compresses', () => {
    const input = Buffer.alloc(200_000, 'diaspora ');
    assert.ok(compressLz4Frame(input).length < input.length / 20);
  });

  it('decodes the frame options other writers use: content size, checksums, linked blocks, big blocks', () => {
    const input = samples().find(([label]) => label === 'mixed')?.[1] as Buffer;
    const variants = [
      ['-c', '--content-size'],
      ['-c', '-BX'],
      ['-c', '-B4', '-BD'],
      ['-c', '-B7'],
      ['-c', '--no-frame-crc', '-B5'],
      ['-c', '-9'],
    ];
    for (const args of variants) {
      assert.ok(decompressLz4Frame(lz4Cli(args, input)).equals(input), `lz4 ${args.join(' ')}`);
    }
  });

  it('decodes concatenated frames and skips skippable frames', () => {
    const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0]), Buffer.from('xyz')]);
    const joined = Buffer.concat([compressLz4Frame(Buffer.from('first ')), skippable, compressLz4Frame(Buffer.from('second'))]);
    assert.equal(decompressLz4Frame(joined).toString(), 'first second');
  });

  it('rejects what is not a valid frame with an Lz4FrameError', () => {
    const frame = compressLz4Frame(Buffer.alloc(10_000, 'abc'));
    assert.throws(() => decompressLz4Frame(Buffer.from('not lz4 at all')), (e: unknown) => e instanceof Lz4FrameError && /bad magic/.test(e.message));
    assert.throws(() => decompressLz4Frame(frame.subarray(0, frame.length - 6)), /truncated/);
    const badVersion = Buffer.from(frame);
    badVersion[4] = 0x20;
    assert.throws(() => decompressLz4Frame(badVersion), /unsupported LZ4 frame version/);
    const badBlockSize = Buffer.from(frame);
    badBlockSize[5] = 0x10;
    assert.throws(() => decompressLz4Frame(badBlockSize), /invalid LZ4 block size/);
  });

  it('decodes a frame the lz4 tool wrote to a file (the same path kcat and Java use)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h3b-lz4-'));
    try {
      const source = path.join(dir, 'in.json');
      const input = Buffer.from(JSON.stringify({ readings: Array.from({ length: 5000 }, (_, i) => i * 0.5) }));
      fs.writeFileSync(source, input);
      execFileSync('lz4', ['-q', '-f', source, `${source}.lz4`]);
      assert.ok(decompressLz4Frame(fs.readFileSync(`${source}.lz4`)).equals(input));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

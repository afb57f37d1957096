/**
 * An append-only, size-bounded spool on disk: records go in at the tail and come out, in order,
 * from the head once the caller confirms they were delivered. Free of Node-RED and of any transport.
 *
 * Layout of the spool's folder: numbered segment files (`000000000001.seg`, ...) of framed records
 * (see frame.ts) and `head.json`, the position of the first record not yet removed. A segment
 * whose records were all removed is deleted. An append is durable (written and fdatasync'ed) when
 * its promise resolves; the fsync policy decides how appends share a sync:
 * - `event`: one write and one sync per record;
 * - `batch` (default): group commit: every record that arrived while the previous sync ran is
 *   written and synced together, so a burst costs one sync, and a lone record waits for no timer;
 * - `interval`: like batch, but a sync happens at most every `fsyncIntervalMs`.
 * All three resolve an append only after its sync; they differ in cost per record and latency
 * (measured by bench/spool.ts, in docs/spool.md).
 *
 * `head.json` is replaced (write + rename) after every removal but not synced: after a crash of the
 * process it is current; after a crash of the machine it may be one removal behind, so at most the
 * records of one delivery are delivered again, never lost.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatBytes } from '../format-bytes';
import { announcedLength, frame, scanFrames } from './frame';

export type FsyncPolicy = 'event' | 'batch' | 'interval';
export const FSYNC_POLICIES: readonly FsyncPolicy[] = ['event', 'batch', 'interval'];
export const DEFAULT_FSYNC_POLICY: FsyncPolicy = 'batch';
const DEFAULT_FSYNC_INTERVAL_MS = 20;
/** Segments are small enough that a removed stretch of the spool frees its disk space soon. */
const MIN_SEGMENT_BYTES = 64 * 1024;
const MAX_SEGMENT_BYTES = 16 * 1024 * 1024;
const READ_WINDOW_BYTES = 1024 * 1024;
const SEGMENT_NAME = /^(\d{12})\.seg$/;
const HEAD_FILE = 'head.json';
const WRITTEN_RESOLUTION_MS = 1_000;

export interface SpoolOptions {
  dir: string;
  /** Records not yet removed may take at most this many bytes (frames included). */
  maxBytes: number;
  fsync?: FsyncPolicy;
  fsyncIntervalMs?: number;
  /** Default: an eighth of maxBytes, within 64 KiB to 16 MiB. */
  segmentBytes?: number;
  /** Things the user should know that are not errors (a torn record skipped at open). */
  warn?(message: string): void;
}

export class SpoolFullError extends Error {
  override name = 'SpoolFullError';
}

/** The disk refused (full, read-only, no permission...): `code` is the system's (ENOSPC, EROFS, EACCES). */
export class SpoolDiskError extends Error {
  override name = 'SpoolDiskError';
  constructor(
    message: string,
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class SpoolClosedError extends Error {
  override name = 'SpoolClosedError';
}

interface Segment {
  id: number;
  file: string;
  /** Bytes of whole records (what was synced). */
  size: number;
}

/** Records written within a second (or one segment found at open), for the age of the oldest. */
interface Written {
  count: number;
  at: number;
  /** Found at open: `at` is the segment's last change, so the records are at least that old. */
  estimated: boolean;
}

interface Position {
  segment: number;
  offset: number;
}

interface Append {
  frame: Buffer;
  resolve(): void;
  reject(err: Error): void;
}

/** Where a record that was read ends, so `remove` can move the head past it. */
interface ReadMark extends Position {
  bytes: number;
}

export class Spool {
  readonly dir: string;
  readonly maxBytes: number;
  private readonly policy: FsyncPolicy;
  private readonly intervalMs: number;
  private readonly segmentBytes: number;
  private readonly warn: (message: string) => void;
  private opening: Promise<void> | undefined;
  private segments: Segment[] = [];
  private tail: fsp.FileHandle | undefined;
  private head: Position = { segment: 0, offset: 0 };
  private records = 0;
  private liveBytes = 0;
  /** Appends not yet written, from `waitingHead` on: Array.shift is linear on a large array, so a burst of 100,000 would be quadratic. */
  private waiting: Append[] = [];
  private waitingHead = 0;
  /** The write loop running (set and cleared synchronously, so an append never waits for a loop that is ending). */
  private writing: Promise<void> | undefined;
  private writingCount = 0;
  private lastSync = 0;
  private marks: ReadMark[] = [];
  private written: Written[] = [];
  private headWrite: Promise<void> = Promise.resolve();
  private headWriteWarned = false;
  private closed = false;

  constructor(options: SpoolOptions) {
    if (!(options.maxBytes > 0)) throw new RangeError(`a spool needs a size limit above 0 bytes, not ${options.maxBytes}`);
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.policy = options.fsync ?? DEFAULT_FSYNC_POLICY;
    this.intervalMs = options.fsyncIntervalMs ?? DEFAULT_FSYNC_INTERVAL_MS;
    this.segmentBytes = options.segmentBytes ?? Math.min(MAX_SEGMENT_BYTES, Math.max(MIN_SEGMENT_BYTES, Math.floor(options.maxBytes / 8)));
    this.warn = options.warn ?? (() => undefined);
  }

  /** Records on disk not removed yet (durable ones only). */
  get depth(): number {
    return this.records;
  }

  /** Bytes those records take. */
  get bytes(): number {
    return this.liveBytes;
  }

  /** When the oldest record not yet removed was written; `estimated` for one left by an earlier run (its segment's last change). */
  get oldest(): { writtenAt: number; estimated: boolean } | undefined {
    const first = this.written[0];
    return first ? { writtenAt: first.at, estimated: first.estimated } : undefined;
  }

  /** Appends accepted but not yet durable. */
  get appending(): number {
    return this.waitingCount() + this.writingCount;
  }

  /** Reads what an earlier run left (skipping a torn last record). Later calls wait for the same; a failed open is tried again. */
  open(): Promise<void> {
    if (this.closed) return Promise.reject(new SpoolClosedError('the spool is closed'));
    this.opening ??= this.load().catch((err: unknown) => {
      this.opening = undefined;
      throw diskError(err, `cannot open the spool in ${this.dir}`);
    });
    return this.opening;
  }

  /** Resolves once the record is durable; rejects with SpoolFullError, SpoolDiskError or SpoolClosedError. */
  append(payload: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new SpoolClosedError('the spool is closed'));
    const framed = frame(payload);
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ frame: framed, resolve, reject });
      this.writing ??= this.writeLoop();
    });
  }

  /** Up to `maxRecords` of the oldest records (at least one if any, whatever its size), without removing them. */
  async read(maxRecords: number, maxBytes = READ_WINDOW_BYTES): Promise<Buffer[]> {
    await this.open();
    const out: Buffer[] = [];
    const marks: ReadMark[] = [];
    let index = this.segments.findIndex((s) => s.id === this.head.segment);
    let offset = this.head.offset;
    let left = this.records;
    let total = 0;
    try {
      while (index >= 0 && index < this.segments.length && out.length < maxRecords && left > 0 && (total < maxBytes || out.length === 0)) {
        const segment = this.segments[index];
        if (offset >= segment.size) {
          index += 1;
          offset = 0;
          continue;
        }
        let window = await readAt(segment.file, offset, Math.min(segment.size - offset, READ_WINDOW_BYTES));
        let scan = scanFrames(window, 0, Math.min(maxRecords - out.length, left), true);
        if (scan.frames.length === 0) {
          const need = announcedLength(window, 0);
          if (need === undefined || need > segment.size - offset) throw new Error(`damaged record in ${segment.file} at byte ${offset}`);
          window = await readAt(segment.file, offset, need);
          scan = scanFrames(window, 0, 1);
          if (scan.frames.length === 0) throw new Error(`damaged record in ${segment.file} at byte ${offset}`);
        }
        const base = offset;
        let full = false;
        for (const f of scan.frames) {
          if (out.length > 0 && total + (f.end - f.start) > maxBytes) {
            full = true;
            break;
          }
          out.push(f.payload);
          offset = base + f.end;
          marks.push({ segment: segment.id, offset, bytes: f.end - f.start });
          total += f.end - f.start;
          left -= 1;
        }
        if (full || total >= maxBytes) break;
      }
    } catch (err) {
      throw diskError(err, 'cannot read the spool');
    }
    this.marks = marks;
    return out;
  }

  /** Removes the first `count` records of the last `read` (they were delivered). */
  async remove(count: number): Promise<void> {
    if (count <= 0) return;
    if (count > this.marks.length) throw new RangeError(`remove(${count}): only ${this.marks.length} records were read`);
    const removed = this.marks.splice(0, count);
    const last = removed[removed.length - 1];
    this.records -= count;
    this.liveBytes -= removed.reduce((n, m) => n + m.bytes, 0);
    this.head = { segment: last.segment, offset: last.offset };
    this.forgetWritten(count);
    await this.pruneSegments();
    await this.saveHead();
  }

  /** Waits for appends already accepted (so their callers hear the outcome), then closes the files. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.writing) await this.writing;
    await this.headWrite;
    const tail = this.tail;
    this.tail = undefined;
    await tail?.close().catch(() => undefined);
  }

  /** Closes and deletes the spool; returns how many records it still held. */
  async destroy(): Promise<number> {
    await this.open().catch(() => undefined);
    await this.close();
    const dropped = this.records;
    await fsp.rm(this.dir, { recursive: true, force: true });
    return dropped;
  }

  private async load(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true });
    const head = await readHead(path.join(this.dir, HEAD_FILE));
    const ids = (await fsp.readdir(this.dir))
      .map((name) => SEGMENT_NAME.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    const segments: Segment[] = [];
    const written: Written[] = [];
    let records = 0;
    let bytes = 0;
    for (const id of ids) {
      const file = segmentFile(this.dir, id);
      if (id < head.segment) {
        await fsp.rm(file, { force: true });
        continue;
      }
      const content = await fsp.readFile(file);
      const start = id === head.segment ? Math.min(head.offset, content.length) : 0;
      const scan = scanFrames(content, start);
      if (scan.torn) {
        const lost = content.length - scan.end;
        this.warn(
          `spool ${file}: skipped ${lost} bytes after record ${scan.frames.length} (${scan.torn === 'checksum' ? 'checksum mismatch' : 'record cut short'}: the end of a write interrupted by a crash); the ${scan.frames.length} records before it are kept`,
        );
        // On a read-only folder the torn bytes stay; the next append, which needs the folder writable, overwrites them.
        await fsp.truncate(file, scan.end).catch(() => undefined);
      }
      segments.push({ id, file, size: scan.end });
      if (scan.frames.length > 0) written.push({ count: scan.frames.length, at: (await fsp.stat(file)).mtimeMs, estimated: true });
      records += scan.frames.length;
      bytes += scan.end - start;
    }
    if (segments.length === 0 || segments[0].id !== head.segment) {
      head.segment = segments[0]?.id ?? head.segment + 1;
      head.offset = 0;
    } else {
      head.offset = Math.min(head.offset, segments[0].size);
    }
    if (segments.length === 0) segments.push(await createSegment(this.dir, head.segment));
    this.segments = segments;
    this.head = head;
    this.records = records;
    this.written = written;
    this.liveBytes = bytes;
    // Opened at the first append: a spool on a folder now read-only can still be read and sent.
    this.tail = undefined;
  }

  private async writeLoop(): Promise<void> {
    try {
      await this.open();
    } catch (err) {
      for (let next = this.takeWaiting(); next; next = this.takeWaiting()) next.reject(err as Error);
      this.writing = undefined;
      return;
    }
    while (this.waitingCount() > 0) {
      if (this.policy === 'interval') {
        const wait = this.lastSync + this.intervalMs - Date.now();
        if (wait > 0) await sleep(wait);
      }
      const batch: Append[] = [];
      let batchBytes = 0;
      while (this.waitingCount() > 0 && (this.policy !== 'event' || batch.length === 0)) {
        const next = this.takeWaiting() as Append;
        if (this.liveBytes + batchBytes + next.frame.length > this.maxBytes) {
          const events = this.records + batch.length;
          next.reject(new SpoolFullError(`the spool is full: ${events} events use ${formatBytes(this.liveBytes + batchBytes)} of its ${formatBytes(this.maxBytes)}`));
          continue;
        }
        batch.push(next);
        batchBytes += next.frame.length;
      }
      if (batch.length === 0) continue;
      this.writingCount = batch.length;
      try {
        await this.writeFrames(batch.map((a) => a.frame), batchBytes);
        this.writingCount = 0;
        for (const append of batch) append.resolve();
      } catch (err) {
        this.writingCount = 0;
        const error = diskError(err, 'cannot write to the spool');
        for (const append of batch) append.reject(error);
      }
    }
    this.writing = undefined;
  }

  private waitingCount(): number {
    return this.waiting.length - this.waitingHead;
  }

  private takeWaiting(): Append | undefined {
    if (this.waitingHead >= this.waiting.length) return undefined;
    const next = this.waiting[this.waitingHead++];
    if (this.waitingHead === this.waiting.length) {
      this.waiting = [];
      this.waitingHead = 0;
    } else if (this.waitingHead >= 1024 && this.waitingHead * 2 >= this.waiting.length) {
      // Taken one at a time (fsync per event) while new ones keep coming: drop the taken part now and then.
      this.waiting = this.waiting.slice(this.waitingHead);
      this.waitingHead = 0;
    }
    return next;
  }

  private async writeFrames(frames: Buffer[], total: number): Promise<void> {
    await this.rollIfNeeded();
    const segment = this.segments[this.segments.length - 1];
    this.tail ??= await fsp.open(segment.file, 'r+');
    const data = frames.length === 1 ? frames[0] : Buffer.concat(frames, total);
    try {
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await this.tail.write(data, done, data.length - done, segment.size + done);
        done += bytesWritten;
      }
      await this.tail.datasync();
    } catch (err) {
      // A partial write must not stay in front of the next record.
      await this.tail.truncate(segment.size).catch(() => undefined);
      throw err;
    }
    this.lastSync = Date.now();
    const latest = this.written.at(-1);
    // One entry per second of writes at most: the age is shown to the second, and the list stays short through a long outage.
    if (latest && !latest.estimated && this.lastSync - latest.at < WRITTEN_RESOLUTION_MS) latest.count += frames.length;
    else this.written.push({ count: frames.length, at: this.lastSync, estimated: false });
    segment.size += data.length;
    this.records += frames.length;
    this.liveBytes += data.length;
  }

  private forgetWritten(count: number): void {
    let left = count;
    while (left > 0 && this.written.length > 0) {
      const first = this.written[0];
      if (first.count > left) {
        first.count -= left;
        return;
      }
      left -= first.count;
      this.written.shift();
    }
  }

  /** A new segment once the tail is big enough, or when everything in it was removed (its space is then freed). */
  private async rollIfNeeded(): Promise<void> {
    const segment = this.segments[this.segments.length - 1];
    const drained = this.records === 0 && segment.size > 0;
    if (segment.size < this.segmentBytes && !drained) return;
    const next = await createSegment(this.dir, segment.id + 1);
    await this.tail?.close().catch(() => undefined);
    this.tail = undefined;
    this.segments.push(next);
    if (drained) this.head = { segment: next.id, offset: 0 };
    await this.pruneSegments();
    if (drained) await this.saveHead();
  }

  /** Deletes segments before the head, and the head's own once fully removed (never the tail). */
  private async pruneSegments(): Promise<void> {
    while (this.segments.length > 1) {
      const first = this.segments[0];
      const consumed = first.id < this.head.segment || (first.id === this.head.segment && this.head.offset >= first.size);
      if (!consumed) return;
      this.segments.shift();
      if (first.id === this.head.segment) this.head = { segment: this.segments[0].id, offset: 0 };
      await fsp.rm(first.file, { force: true }).catch(() => undefined);
    }
  }

  private saveHead(): Promise<void> {
    const file = path.join(this.dir, HEAD_FILE);
    this.headWrite = this.headWrite.then(async () => {
      const data = JSON.stringify(this.head);
      try {
        await fsp.writeFile(`${file}.tmp`, data);
        await fsp.rename(`${file}.tmp`, file);
      } catch (err) {
        // Delivered records are then delivered again after a restart: duplicates, not losses.
        if (!this.headWriteWarned) this.warn(`cannot save the spool's position (${diskError(err, file).message}): after a restart some delivered events may be sent again`);
        this.headWriteWarned = true;
      }
    });
    return this.headWrite;
  }
}

function segmentFile(dir: string, id: number): string {
  return path.join(dir, `${String(id).padStart(12, '0')}.seg`);
}

async function createSegment(dir: string, id: number): Promise<Segment> {
  const file = segmentFile(dir, id);
  const handle = await fsp.open(file, 'a');
  await handle.close();
  // The new file's name must survive a power cut too.
  const folder = await fsp.open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
  return { id, file, size: 0 };
}

async function readHead(file: string): Promise<Position> {
  try {
    const parsed = JSON.parse(await fsp.readFile(file, 'utf8')) as Partial<Position>;
    if (Number.isInteger(parsed.segment) && Number.isInteger(parsed.offset)) return { segment: Number(parsed.segment), offset: Number(parsed.offset) };
  } catch {
    // none yet (or unreadable): start at the first segment
  }
  return { segment: 0, offset: 0 };
}

async function readAt(file: string, offset: number, length: number): Promise<Buffer> {
  const handle = await fsp.open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await handle.read(buf, got, length - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  } finally {
    await handle.close();
  }
}

const DISK_HINTS: Readonly<Record<string, string>> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
};

function diskError(err: unknown, doing: string): SpoolDiskError {
  if (err instanceof SpoolDiskError || err instanceof SpoolClosedError) return err as SpoolDiskError;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const hint = code ? DISK_HINTS[code] : undefined;
  const detail = err instanceof Error ? err.message : String(err);
  return new SpoolDiskError(`${doing}: ${hint ? `${hint} (${detail})` : detail}`, code, { cause: err });
}

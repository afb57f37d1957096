/**
 * An OutgoingEvent as the bytes of one spool record, and back. Binary, so payloads and keys keep
 * every byte without base64's cost: version, topic, key, value, partition, timestamp, headers.
 */
import type { EncodedHeaders } from '../../lib/payload';
import type { OutgoingEvent } from './record';

const VERSION = 1;
const NONE = -1;

export function encodeSpooledEvent(event: OutgoingEvent): Buffer {
  const parts: Buffer[] = [];
  const u8 = (n: number): void => void parts.push(Buffer.from([n]));
  const i32 = (n: number): void => {
    const b = Buffer.allocUnsafe(4);
    b.writeInt32BE(n);
    parts.push(b);
  };
  const bytes = (b: Buffer | null): void => {
    i32(b === null ? NONE : b.length);
    if (b !== null) parts.push(b);
  };
  u8(VERSION);
  bytes(Buffer.from(event.topic, 'utf8'));
  bytes(event.key);
  bytes(event.value);
  i32(event.partition ?? NONE);
  const ts = Buffer.allocUnsafe(8);
  ts.writeDoubleBE(event.timestamp ?? NONE);
  parts.push(ts);
  const headers = Object.entries(event.headers ?? {});
  i32(headers.length);
  for (const [name, value] of headers) {
    bytes(Buffer.from(name, 'utf8'));
    u8(Array.isArray(value) ? 1 : 0);
    const values = Array.isArray(value) ? value : [value];
    i32(values.length);
    for (const v of values) bytes(v);
  }
  return Buffer.concat(parts);
}

export function decodeSpooledEvent(record: Buffer): OutgoingEvent {
  let at = 0;
  const need = (n: number): void => {
    if (at + n > record.length) throw new Error(`spool record cut short at byte ${at} of ${record.length}`);
  };
  const i32 = (): number => {
    need(4);
    const n = record.readInt32BE(at);
    at += 4;
    return n;
  };
  const bytes = (): Buffer | null => {
    const length = i32();
    if (length === NONE) return null;
    need(length);
    const b = record.subarray(at, at + length);
    at += length;
    return b;
  };
  const text = (): string => (bytes() ?? Buffer.alloc(0)).toString('utf8');
  need(1);
  const version = record[at++];
  if (version !== VERSION) throw new Error(`spool record version ${version} is not one this release reads (${VERSION})`);
  const topic = text();
  const key = bytes();
  const value = bytes();
  const partition = i32();
  need(8);
  const timestamp = record.readDoubleBE(at);
  at += 8;
  const count = i32();
  let headers: EncodedHeaders | undefined;
  for (let h = 0; h < count; h++) {
    const name = text();
    need(1);
    const isArray = record[at++] === 1;
    const n = i32();
    const values: Buffer[] = [];
    for (let v = 0; v < n; v++) values.push(bytes() ?? Buffer.alloc(0));
    headers ??= {};
    headers[name] = isArray ? values : values[0];
  }
  return {
    topic,
    key,
    value,
    ...(headers ? { headers } : {}),
    ...(partition !== NONE ? { partition } : {}),
    ...(timestamp !== NONE ? { timestamp } : {}),
  };
}

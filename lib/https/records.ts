/**
 * Records to and from the REST data plane's JSON forms. A value or key is sent as the exact bytes
 * the Kafka path would write: UTF-8 text as STRING, anything else as BINARY (base64), so a consumer
 * sees the same bytes whichever transport produced the event (the JSON type would let the service
 * re-serialize the value compactly). Timestamps carry a UTC offset, as the service requires.
 */
import { isUtf8 } from 'node:buffer';
import type { ConsumedMessage, OutRecord } from '../session/connection-types';
import { RestError } from './http';

export type RestDataType = 'JSON' | 'STRING' | 'BINARY';

export interface RestData {
  type: RestDataType;
  data: unknown;
}

export interface RestRecord {
  key?: RestData;
  value?: RestData;
  headers?: Array<{ name: string; value: string | null }>;
  partition_id?: number;
  timestamp?: string;
}

/** Bytes → STRING when they are UTF-8 text, else BINARY; null → the part is left out. */
export function bytesPart(bytes: Buffer | null | undefined): RestData | undefined {
  if (bytes === null || bytes === undefined) return undefined;
  return isUtf8(bytes) ? { type: 'STRING', data: bytes.toString('utf8') } : { type: 'BINARY', data: bytes.toString('base64') };
}

/** ISO-8601 with an explicit +00:00 offset (a time without one is refused with 40005). */
export function restTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '+00:00');
}

export function restRecord(record: OutRecord): RestRecord {
  const out: RestRecord = {};
  const key = bytesPart(record.key);
  const value = bytesPart(record.value);
  if (key) out.key = key;
  if (value) out.value = value;
  const headers = restHeaders(record.headers);
  if (headers.length > 0) out.headers = headers;
  if (record.partition !== undefined) out.partition_id = record.partition;
  if (record.timestamp !== undefined) out.timestamp = restTimestamp(record.timestamp);
  return out;
}

function restHeaders(headers: OutRecord['headers']): Array<{ name: string; value: string }> {
  const out: Array<{ name: string; value: string }> = [];
  for (const [name, given] of Object.entries(headers ?? {})) {
    for (const item of Array.isArray(given) ? given : [given]) {
      out.push({ name, value: (Buffer.isBuffer(item) ? item : Buffer.from(item, 'utf8')).toString('base64') });
    }
  }
  return out;
}

/** Base64 text → bytes; null stays null. Anything else is a protocol error. */
function fromBase64(value: unknown, what: string): Buffer | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') throw protocol(`a record's ${what} is not base64 text`);
  return Buffer.from(value, 'base64');
}

/**
 * One record of `GET /records` on a binary instance. The topic is named without the namespace on
 * this route; `kafkaTopic` gives the name the rest of the package uses.
 */
export function consumedRecord(raw: unknown, kafkaTopic: (topic: string) => string): ConsumedMessage {
  if (raw === null || typeof raw !== 'object') throw protocol('a fetched record is not an object');
  const r = raw as Record<string, unknown>;
  if (typeof r.topic !== 'string' || typeof r.partition !== 'number' || (typeof r.offset !== 'number' && typeof r.offset !== 'string')) {
    throw protocol('a fetched record lacks topic, partition or offset');
  }
  const headers: Record<string, Buffer | Buffer[] | undefined> = {};
  if (Array.isArray(r.headers)) {
    for (const h of r.headers as Array<{ name?: unknown; value?: unknown }>) {
      if (typeof h?.name !== 'string') continue;
      const value = fromBase64(h.value, `header "${h.name}"`) ?? Buffer.alloc(0);
      const before = headers[h.name];
      headers[h.name] = before === undefined ? value : Array.isArray(before) ? [...before, value] : [before, value];
    }
  }
  return {
    topic: kafkaTopic(r.topic),
    partition: r.partition,
    offset: String(r.offset),
    timestamp: timestampOf(r.timestamp),
    key: fromBase64(r.key, 'key'),
    value: fromBase64(r.value, 'value'),
    headers,
  };
}

/** The record's create time in ms when the service gives one (a number or ISO text); -1 (Kafka's "none") otherwise. */
function timestampOf(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return ms;
  }
  return -1;
}

function protocol(message: string): RestError {
  return new RestError('other', `the Diaspora service answered an unexpected form: ${message}`, 200, 0, false);
}

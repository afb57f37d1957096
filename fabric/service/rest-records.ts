/**
 * Records in the REST bodies: a produce entry (Confluent REST API v3) to the Kafka message written,
 * and a fetched Kafka message to a REST Proxy v2 record of a binary or json instance.
 */
import type { KafkaMessage, Message } from 'kafkajs';
import { REST_ERRORS, RestError } from './rest-errors';

export type ConsumerFormat = 'binary' | 'json';

const DATA_TYPES = ['BINARY', 'JSON', 'STRING'] as const;
/** ISO-8601 date-time with a UTC offset (Z or ±hh:mm); Python's datetime.isoformat() matches. */
const ZONED_TIMESTAMP = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})$/;
const LOCAL_TIMESTAMP = /^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const invalid = (message: string): RestError => new RestError(400, REST_ERRORS.badRequest, message);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function base64Bytes(text: unknown, what: string): Buffer {
  if (typeof text !== 'string' || !BASE64.test(text)) throw invalid(`${what} must be base64 text`);
  return Buffer.from(text, 'base64');
}

/** {"type", "data"} to bytes; JSON is written compactly, as the service does. */
function dataBytes(part: unknown, what: 'key' | 'value'): Buffer {
  if (!isObject(part)) throw invalid(`${what} must be an object {"type": "BINARY"|"JSON"|"STRING", "data": ...}`);
  const { type, data } = part;
  if (!(DATA_TYPES as readonly unknown[]).includes(type)) throw invalid(`${what}.type must be one of ${DATA_TYPES.join(', ')}`);
  if (data === undefined) throw invalid(`${what}.data is required`);
  switch (type) {
    case 'BINARY':
      return base64Bytes(data, `${what}.data of a BINARY ${what}`);
    case 'STRING':
      if (typeof data !== 'string') throw invalid(`${what}.data of a STRING ${what} must be a string`);
      return Buffer.from(data, 'utf8');
    default:
      return Buffer.from(JSON.stringify(data), 'utf8');
  }
}

function headerList(headers: unknown): Array<{ name: string; value: Buffer | null }> {
  if (!Array.isArray(headers)) throw invalid('headers must be a list of {"name", "value"} (value in base64, or null)');
  return headers.map((entry: unknown, index) => {
    if (!isObject(entry) || typeof entry.name !== 'string' || entry.name.length === 0) {
      throw invalid(`headers[${index}] needs a non-empty "name"`);
    }
    const value = entry.value ?? null;
    return { name: entry.name, value: value === null ? null : base64Bytes(value, `headers[${index}].value`) };
  });
}

/** Milliseconds since the epoch, or 40005 for a timestamp without a UTC offset. */
function timestampMs(value: unknown): number {
  if (typeof value !== 'string') throw invalid('timestamp must be an ISO-8601 string with a UTC offset, such as 2026-10-26T15:04:05+00:00');
  if (!ZONED_TIMESTAMP.test(value)) {
    if (LOCAL_TIMESTAMP.test(value)) {
      throw new RestError(400, REST_ERRORS.timestampWithoutOffset, `timestamp ${value} has no UTC offset; add one, such as +00:00 or Z`);
    }
    throw invalid(`timestamp ${JSON.stringify(value)} is not an ISO-8601 date-time with a UTC offset`);
  }
  const ms = Date.parse(value.replace(' ', 'T').replace(/([+-]\d{2})(\d{2})$/, '$1:$2').replace(/(\.\d{3})\d+/, '$1'));
  if (Number.isNaN(ms)) throw invalid(`timestamp ${value} is not a valid date-time`);
  return ms;
}

const RECORD_FIELDS = new Set(['key', 'value', 'headers', 'timestamp', 'partition_id']);

/** A produce record (a batch entry without its id) as the Kafka message to write; throws RestError 400. */
export function kafkaMessageOf(record: unknown, now = Date.now()): Message {
  if (!isObject(record)) throw invalid('A record must be a JSON object');
  const unknown = Object.keys(record).filter((field) => !RECORD_FIELDS.has(field));
  if (unknown.length > 0) throw invalid(`Unknown record field(s): ${unknown.join(', ')}`);
  if (record.key == null && record.value == null) throw invalid('A record needs a key or a value');
  if (record.partition_id != null && record.partition_id !== 0) {
    throw new RestError(404, REST_ERRORS.partitionNotFound, `Partition ${String(record.partition_id)} not found: Diaspora topics have one partition, 0`);
  }
  const headers: Record<string, Array<Buffer | null>> = {};
  for (const { name, value } of record.headers == null ? [] : headerList(record.headers)) (headers[name] ??= []).push(value);
  return {
    key: record.key == null ? null : dataBytes(record.key, 'key'),
    value: record.value == null ? null : dataBytes(record.value, 'value'),
    // kafkajs writes a null header value as a null (length -1) header, as Kafka allows.
    headers: headers as unknown as Message['headers'],
    timestamp: String(record.timestamp == null ? now : timestampMs(record.timestamp)),
  };
}

/** A json instance returns a key or value that is one JSON value as that value, other text as a string. */
function jsonOrText(bytes: Buffer): unknown {
  const text = bytes.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface RestRecord {
  topic: string;
  key: unknown;
  value: unknown;
  partition: number;
  offset: number;
  headers: Array<{ name: string; value: string | null }>;
}

function restHeaders(headers: KafkaMessage['headers']): RestRecord['headers'] {
  const list: RestRecord['headers'] = [];
  for (const [name, raw] of Object.entries(headers ?? {})) {
    for (const value of Array.isArray(raw) ? raw : [raw]) {
      list.push({ name, value: value == null ? null : Buffer.from(value).toString('base64') });
    }
  }
  return list;
}

export function restRecordOf(topic: string, partition: number, message: KafkaMessage, format: ConsumerFormat): RestRecord {
  const part = (bytes: Buffer | null): unknown => {
    if (bytes === null) return null;
    return format === 'binary' ? bytes.toString('base64') : jsonOrText(bytes);
  };
  return {
    topic,
    key: part(message.key),
    value: part(message.value),
    partition,
    offset: Number(message.offset),
    headers: restHeaders(message.headers),
  };
}

/** Bytes a record counts against max_bytes: its key and value. */
export function recordBytes(message: KafkaMessage): number {
  return (message.key?.length ?? 0) + (message.value?.length ?? 0);
}

/**
 * One input message → one outgoing event, checked before it is queued or sent, so every problem a
 * user can fix (no topic, circular payload, bad key/header/partition/timestamp) fails at once.
 */
import type { NodeMessage } from 'node-red';
import { encodeHeaders, encodeKey, encodePayload, PayloadError, type EncodedHeaders } from '../../lib/payload';
import type { OutSettings } from './settings';

/** An event before its topic is turned into the Kafka name (that needs the session's identity). */
export interface OutgoingEvent {
  /** The topic as the user names it (v3: short name, or the full `<ns>.<topic>`). */
  topic: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: EncodedHeaders;
  partition?: number;
  /** Kafka's record (create) time, in milliseconds since the epoch. */
  timestamp?: number;
}

export function buildEvent(msg: NodeMessage, settings: OutSettings): OutgoingEvent {
  const topic = settings.topic || (typeof msg.topic === 'string' ? msg.topic.trim() : '');
  if (!topic) throw new PayloadError('no topic: set the topic on the node or in msg.topic');
  const key = encodeKey(settings.key !== '' ? settings.key : msg.key);
  const action = (msg as { action?: unknown }).action;
  if (msg.payload === undefined && typeof action === 'string' && action.trim() !== '') {
    throw new PayloadError(
      `msg.action "${action.trim().slice(0, 40)}" is a control message for diaspora-in (or diaspora-topic); diaspora-out publishes msg.payload, which is undefined here`,
    );
  }
  const value = encodePayload(msg.payload);
  const headers = encodeHeaders(msg.headers);
  const partition = readPartition(msg.partition);
  const timestamp = readTimestamp(msg.timestamp);
  // Absent fields stay absent, set one by one (no temporary object per field on every event).
  const event: OutgoingEvent = { topic, key, value };
  if (headers && Object.keys(headers).length > 0) event.headers = headers;
  if (partition !== undefined) event.partition = partition;
  if (timestamp !== undefined) event.timestamp = timestamp;
  return event;
}

function readPartition(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'string' ? Number(value.trim()) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0) return n;
  throw new PayloadError(`msg.partition must be a whole number 0 or more, not ${JSON.stringify(value) ?? String(value)}`);
}

function readTimestamp(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  let ms: number | undefined;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'number') ms = value;
  else if (typeof value === 'string' && /^\d+$/.test(value.trim())) ms = Number(value.trim());
  else if (typeof value === 'string') ms = Date.parse(value);
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
    throw new PayloadError(
      `msg.timestamp must be milliseconds since 1970, a Date or an ISO date text, not ${JSON.stringify(value) ?? String(value)}`,
    );
  }
  return Math.trunc(ms);
}

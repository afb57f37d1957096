/** A consumed Kafka record as the Node-RED message diaspora-in sends. */
import { isUtf8 } from 'node:buffer';
import type { NodeMessage } from 'node-red';
import type { ConsumedMessage } from '../../lib/session/connection-types';
import { decodeHeaders, decodePayload, type PayloadFormat } from '../../lib/payload';

/** Where the message came from, as `msg.diaspora` carries it (enough to commit it in manual mode). */
export interface ConsumedOrigin {
  /** The Kafka topic (v3: `<namespace>.<topic>`). */
  topic: string;
  partition: number;
  offset: string;
  groupId: string;
}

export interface ConsumedNodeMessage extends NodeMessage {
  topic: string;
  key: string | Buffer | null;
  partition: number;
  offset: string;
  timestamp: number;
  headers: Record<string, string | string[] | Buffer | Buffer[]>;
  diaspora: ConsumedOrigin;
}

/**
 * Everything but the payload, which `withPayload` decodes: a value that does not decode in the
 * chosen format is reported together with this metadata.
 */
export function messageFor(record: ConsumedMessage, userTopic: string, groupId: string): ConsumedNodeMessage {
  return {
    payload: undefined,
    topic: userTopic,
    key: decodeKey(record.key),
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    headers: decodeHeaders(record.headers),
    diaspora: { topic: record.topic, partition: record.partition, offset: record.offset, groupId },
  };
}

/** Sets msg.payload from the record's value (tombstone → null); throws PayloadError when it does not decode. */
export function withPayload(msg: ConsumedNodeMessage, record: ConsumedMessage, format: PayloadFormat): ConsumedNodeMessage {
  msg.payload = decodePayload(record.value, format, { topic: msg.topic, partition: record.partition, offset: record.offset });
  return msg;
}

/** Text when the key is valid UTF-8, else the bytes; null when the record has no key. */
export function decodeKey(key: Buffer | null): string | Buffer | null {
  if (key === null) return null;
  return isUtf8(key) ? key.toString('utf8') : key;
}

/** Reads and checks diaspora-out's properties through its schema (schema.ts); a bad value is a clear error at deploy time. */
import { readOption, readText } from '../shared/read-settings';
import { isPositiveNumber, isWholeNumber } from '../shared/schema';
import { ACKS_SETTINGS, COMPRESSIONS, OUT_MODES, OUT_SCHEMA, WHEN_NOT_READY } from './schema';

export type OutMode = (typeof OUT_MODES)[number];
export type AcksSetting = (typeof ACKS_SETTINGS)[number];
export type CompressionSetting = (typeof COMPRESSIONS)[number];
export type WhenNotReady = (typeof WHEN_NOT_READY)[number];
export interface DiasporaOutDefFields {
  fabric: string;
  topic?: string;
  key?: string;
  mode?: string;
  acks?: string;
  compression?: string;
  whenNotReady?: string;
  queueSize?: number | string;
  spoolSizeMB?: number | string;
}

export interface OutSettings {
  /** User-facing topic; empty = msg.topic. */
  topic: string;
  /** Empty = msg.key. */
  key: string;
  mode: OutMode;
  /** Kafka's acks: all = -1, leader = 1, none = 0. */
  acks: -1 | 1 | 0;
  compression: CompressionSetting;
  whenNotReady: WhenNotReady;
  queueSize: number;
  /** Spool mode: the most the node's spool on disk may hold, in MiB. */
  spoolSizeMB: number;
}

const ACKS: Record<AcksSetting, -1 | 1 | 0> = { all: -1, leader: 1, none: 0 };

export function readOutSettings(def: DiasporaOutDefFields): OutSettings {
  const values = def as unknown as Readonly<Record<string, unknown>>;
  return {
    topic: readText(OUT_SCHEMA, values, 'topic'),
    key: String(def.key ?? OUT_SCHEMA.key?.value),
    mode: readOption(OUT_SCHEMA, values, 'mode', OUT_MODES),
    acks: ACKS[readOption(OUT_SCHEMA, values, 'acks', ACKS_SETTINGS)],
    compression: readOption(OUT_SCHEMA, values, 'compression', COMPRESSIONS),
    whenNotReady: readOption(OUT_SCHEMA, values, 'whenNotReady', WHEN_NOT_READY),
    queueSize: queueSize(readText(OUT_SCHEMA, values, 'queueSize') || String(OUT_SCHEMA.queueSize?.value)),
    spoolSizeMB: spoolSizeMB(readText(OUT_SCHEMA, values, 'spoolSizeMB') || String(OUT_SCHEMA.spoolSizeMB?.value)),
  };
}

function queueSize(text: string): number {
  if (!isWholeNumber(text)) {
    throw new Error(`queueSize must be a whole number of messages, 0 or more, not "${text.slice(0, 40)}"`);
  }
  return Number(text);
}

function spoolSizeMB(text: string): number {
  if (!isPositiveNumber(text)) {
    throw new Error(`spoolSizeMB must be a number of megabytes above 0, not "${text.slice(0, 40)}"`);
  }
  return Number(text);
}

/** Reads and checks diaspora-out's properties; a bad value is a clear error at deploy time. */

export type OutMode = 'ack' | 'fire';
export type AcksSetting = 'all' | 'leader' | 'none';
export type CompressionSetting = 'none' | 'gzip' | 'snappy' | 'lz4';
export type WhenNotReady = 'queue' | 'fail' | 'spool';

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

export const DEFAULT_QUEUE_SIZE = 1000;
export const DEFAULT_SPOOL_SIZE_MB = 100;
export const WHEN_NOT_READY: readonly WhenNotReady[] = ['queue', 'fail', 'spool'];
const ACKS: Record<AcksSetting, -1 | 1 | 0> = { all: -1, leader: 1, none: 0 };

export function readOutSettings(def: DiasporaOutDefFields): OutSettings {
  return {
    topic: (def.topic ?? '').trim(),
    key: def.key ?? '',
    mode: oneOf(def.mode, ['ack', 'fire'] as const, 'ack', 'mode'),
    acks: ACKS[oneOf(def.acks, ['all', 'leader', 'none'] as const, 'all', 'acks')],
    compression: oneOf(def.compression, ['none', 'gzip', 'snappy', 'lz4'] as const, 'none', 'compression'),
    whenNotReady: oneOf(def.whenNotReady, WHEN_NOT_READY, 'queue', 'whenNotReady'),
    queueSize: queueSize(def.queueSize),
    spoolSizeMB: spoolSizeMB(def.spoolSizeMB),
  };
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], fallback: T, field: string): T {
  const text = (value ?? '').trim();
  if (text === '') return fallback;
  if ((allowed as readonly string[]).includes(text)) return text as T;
  throw new Error(`${field} must be one of ${allowed.join(', ')}, not "${text.slice(0, 40)}"`);
}

function queueSize(value: number | string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_QUEUE_SIZE;
  const size = Number(value);
  if (!Number.isInteger(size) || size < 0) {
    throw new Error(`queueSize must be a whole number of messages, 0 or more, not "${String(value).slice(0, 40)}"`);
  }
  return size;
}

function spoolSizeMB(value: number | string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_SPOOL_SIZE_MB;
  const size = Number(value);
  if (!Number.isFinite(size) || size <= 0) {
    throw new Error(`spoolSizeMB must be a number of megabytes above 0, not "${String(value).slice(0, 40)}"`);
  }
  return size;
}

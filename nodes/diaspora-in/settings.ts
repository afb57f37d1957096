/** Reads and checks diaspora-in's properties; a bad value is a clear error at deploy time. */
import type { PayloadFormat } from '../../lib/payload';

export type StartFrom = 'earliest' | 'latest';
export type CommitMode = 'auto' | 'manual';

export interface DiasporaInDefFields {
  fabric: string;
  topics?: string;
  start?: string;
  groupId?: string;
  format?: string;
  commit?: string;
}

export interface InSettings {
  /** User-facing topic names, in the order given, without duplicates. */
  topics: string[];
  start: StartFrom;
  /** Empty = the node's stable default (see defaultGroupId). */
  groupId: string;
  format: PayloadFormat;
  commit: CommitMode;
}

export function readInSettings(def: DiasporaInDefFields): InSettings {
  return {
    topics: splitTopics(def.topics ?? ''),
    start: oneOf(def.start, ['earliest', 'latest'] as const, 'latest', 'start'),
    groupId: (def.groupId ?? '').trim(),
    format: oneOf(def.format, ['auto', 'json', 'string', 'buffer'] as const, 'auto', 'format'),
    commit: oneOf(def.commit, ['auto', 'manual'] as const, 'auto', 'commit'),
  };
}

/** "a, b,,c" → ["a", "b", "c"]; duplicates dropped. */
export function splitTopics(text: string): string[] {
  const names = text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  return [...new Set(names)];
}

/**
 * The group a node uses when none is set: stable across restarts and redeploys (node ids are kept
 * in the flow file), distinct per node and per identity, so a restart resumes where it stopped.
 */
export function defaultGroupId(owner: string, nodeId: string): string {
  const who = owner.replace(/[^A-Za-z0-9._-]/g, '_') || 'diaspora';
  return `node-red-${who}-${nodeId.replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], fallback: T, field: string): T {
  const text = (value ?? '').trim();
  if (text === '') return fallback;
  if ((allowed as readonly string[]).includes(text)) return text as T;
  throw new Error(`${field} must be one of ${allowed.join(', ')}, not "${text.slice(0, 40)}"`);
}

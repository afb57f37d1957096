/** Reads and checks diaspora-in's properties; a bad value is a clear error at deploy time. */
import { DEFAULT_WINDOW } from '../../lib/commit-window';
import type { PayloadFormat } from '../../lib/payload';

/** The largest window accepted: beyond this, memory grows with no gain in speed. */
export const MAX_WINDOW = 10_000;

export type StartFrom = 'earliest' | 'latest';
export type CommitMode = 'auto' | 'manual';

export interface DiasporaInDefFields {
  fabric: string;
  topics?: string;
  start?: string;
  groupId?: string;
  format?: string;
  commit?: string;
  /** Events per partition in the flow at once (text from the editor, or a number). */
  window?: string | number;
}

export interface InSettings {
  /** User-facing topic names, in the order given, without duplicates. */
  topics: string[];
  start: StartFrom;
  /** Empty = the node's stable default (see defaultGroupId). */
  groupId: string;
  format: PayloadFormat;
  commit: CommitMode;
  /** Events per partition in the flow at once, not yet finished by the wired nodes. */
  window: number;
}

export function readInSettings(def: DiasporaInDefFields): InSettings {
  return {
    topics: splitTopics(def.topics ?? ''),
    start: oneOf(def.start, ['earliest', 'latest'] as const, 'latest', 'start'),
    groupId: (def.groupId ?? '').trim(),
    format: oneOf(def.format, ['auto', 'json', 'string', 'buffer'] as const, 'auto', 'format'),
    commit: oneOf(def.commit, ['auto', 'manual'] as const, 'auto', 'commit'),
    window: readWindow(def.window),
  };
}

/** Empty = the default; otherwise a whole number from 1 to MAX_WINDOW. */
export function readWindow(value: string | number | undefined): number {
  const text = String(value ?? '').trim();
  if (text === '') return DEFAULT_WINDOW;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_WINDOW) {
    throw new Error(`window must be a whole number of events from 1 to ${MAX_WINDOW}, not "${text.slice(0, 40)}"`);
  }
  return n;
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

/** Reads and checks diaspora-in's properties through its schema (schema.ts); a bad value is a clear error at deploy time. */
import { DEFAULT_WINDOW } from '../../lib/commits/window';
import { splitList } from '../../lib/kafka/names';
import type { PayloadFormat } from '../../lib/payload';
import { readOption, readText } from '../shared/read-settings';
import { problemOf } from '../shared/schema';
import { COMMIT_MODES, FORMATS, IN_SCHEMA, MAX_WINDOW, START_FROM } from './schema';

export type StartFrom = (typeof START_FROM)[number];
export type CommitMode = (typeof COMMIT_MODES)[number];

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
  const values = def as unknown as Readonly<Record<string, unknown>>;
  return {
    topics: splitTopics(readText(IN_SCHEMA, values, 'topics')),
    start: readOption(IN_SCHEMA, values, 'start', START_FROM),
    groupId: readText(IN_SCHEMA, values, 'groupId'),
    format: readOption<PayloadFormat>(IN_SCHEMA, values, 'format', FORMATS),
    commit: readOption(IN_SCHEMA, values, 'commit', COMMIT_MODES),
    window: readWindow(def.window),
  };
}

/** Empty = the default; otherwise a whole number from 1 to MAX_WINDOW (the schema's check). */
export function readWindow(value: string | number | undefined): number {
  const text = String(value ?? IN_SCHEMA.window?.value).trim();
  if (problemOf(IN_SCHEMA, 'window', text, {})) {
    throw new Error(`window must be a whole number of events from 1 to ${MAX_WINDOW}, not "${text.slice(0, 40)}"`);
  }
  return text === '' ? DEFAULT_WINDOW : Number(text);
}

/** "a, b,,c" → ["a", "b", "c"]; duplicates dropped. */
export function splitTopics(text: string): string[] {
  return [...new Set(splitList(text))];
}

/**
 * The group a node uses when none is set: stable across restarts and redeploys (node ids are kept
 * in the flow file), distinct per node and per identity, so a restart resumes where it stopped.
 */
export function defaultGroupId(owner: string, nodeId: string): string {
  const who = owner.replace(/[^A-Za-z0-9._-]/g, '_') || 'diaspora';
  return `node-red-${who}-${nodeId.replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

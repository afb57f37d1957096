/** Reads and checks diaspora-in's properties through its schema (schema.ts); a bad value is a clear error at deploy time. */
import { splitList } from '../../lib/kafka-names';
import type { PayloadFormat } from '../../lib/payload';
import { readOption, readText } from '../shared/read-settings';
import { COMMIT_MODES, FORMATS, IN_SCHEMA, START_FROM } from './schema';

export type StartFrom = (typeof START_FROM)[number];
export type CommitMode = (typeof COMMIT_MODES)[number];

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
  const values = def as unknown as Readonly<Record<string, unknown>>;
  return {
    topics: splitTopics(readText(IN_SCHEMA, values, 'topics')),
    start: readOption(IN_SCHEMA, values, 'start', START_FROM),
    groupId: readText(IN_SCHEMA, values, 'groupId'),
    format: readOption<PayloadFormat>(IN_SCHEMA, values, 'format', FORMATS),
    commit: readOption(IN_SCHEMA, values, 'commit', COMMIT_MODES),
  };
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

/** diaspora-in's properties. A new property is added here, as a field in diaspora-in.html and in settings.ts. */
import { DEFAULT_WINDOW } from '../../lib/commits/window';
import { isTopicName, splitList } from '../../lib/kafka/names';
import { isWholeNumber } from '../shared/schema';
import { CONFIG_TYPE } from '../diaspora-config/schema';
import type { Problem, Schema } from '../shared/schema';

export const START_FROM = ['earliest', 'latest'] as const;
export const FORMATS = ['auto', 'json', 'string', 'buffer'] as const;
export const COMMIT_MODES = ['auto', 'manual'] as const;
/** The largest window accepted: beyond this, memory grows with no gain in speed. */
export const MAX_WINDOW = 10_000;

/** One or more topic names, comma-separated. */
function topicList(value: unknown): Problem | undefined {
  const topics = splitList(String(value ?? ''));
  if (topics.length === 0) return { code: 'no-topics' };
  const bad = topics.find((topic) => !isTopicName(topic));
  return bad === undefined ? undefined : { code: 'invalid-topic', params: { topic: bad } };
}

/** Kafka takes any group id; these keep it printable and within the broker's limit. */
function groupId(value: unknown): Problem | undefined {
  const group = String(value ?? '').trim();
  const printable = [...group].every((c) => c.charCodeAt(0) >= 32);
  return printable && group.length <= 249 ? undefined : { code: 'invalid-group' };
}

/** Empty (the default window) or a whole number of events from 1 to MAX_WINDOW. */
function windowSize(value: unknown): Problem | undefined {
  const text = String(value ?? '').trim();
  if (text === '') return undefined;
  const n = Number(text);
  return isWholeNumber(text) && n >= 1 && n <= MAX_WINDOW ? undefined : { code: 'invalid-window', params: { max: MAX_WINDOW, default: DEFAULT_WINDOW } };
}

export const IN_SCHEMA: Schema = {
  name: { value: '' },
  fabric: { value: '', required: true, configType: CONFIG_TYPE },
  topics: { value: '', required: true, check: topicList },
  start: { value: 'latest', required: true, options: START_FROM },
  /** Empty: the node's stable default (see defaultGroupId). */
  groupId: { value: '', check: groupId },
  format: { value: 'auto', required: true, options: FORMATS },
  commit: { value: 'auto', required: true, options: COMMIT_MODES },
  /** Events per partition in the flow at once; empty: DEFAULT_WINDOW (lib/commits/window.ts). */
  window: { value: '', check: windowSize },
};

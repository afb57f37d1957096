/** diaspora-in's properties. A new property is added here, as a field in diaspora-in.html and in settings.ts. */
import { isTopicName, splitList } from '../../lib/kafka-names';
import { CONFIG_TYPE } from '../diaspora-config/schema';
import type { Problem, Schema } from '../shared/schema';

export const START_FROM = ['earliest', 'latest'] as const;
export const FORMATS = ['auto', 'json', 'string', 'buffer'] as const;
export const COMMIT_MODES = ['auto', 'manual'] as const;

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

export const IN_SCHEMA: Schema = {
  name: { value: '' },
  fabric: { value: '', required: true, configType: CONFIG_TYPE },
  topics: { value: '', required: true, check: topicList },
  start: { value: 'latest', required: true, options: START_FROM },
  /** Empty: the node's stable default (see defaultGroupId). */
  groupId: { value: '', check: groupId },
  format: { value: 'auto', required: true, options: FORMATS },
  commit: { value: 'auto', required: true, options: COMMIT_MODES },
};

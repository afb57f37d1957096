/**
 * Reads diaspora-topic's properties through its schema (schema.ts). The action is checked when a
 * message arrives (errors.bad-action, through done(err)), as msg.action is.
 */
import { readText } from '../shared/read-settings';
import { TOPIC_SCHEMA } from './schema';

export interface TopicSettings {
  /** One of TOPIC_ACTIONS when valid; `msg` takes the action from msg.action. */
  action: string;
  /** Empty: msg.topic. */
  topic: string;
}

export function readTopicSettings(def: Readonly<Record<string, unknown>>): TopicSettings {
  return { action: readText(TOPIC_SCHEMA, def, 'action'), topic: readText(TOPIC_SCHEMA, def, 'topic') };
}

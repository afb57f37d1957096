/** diaspora-in's control messages (`msg.action`), checked before anything is done with them. */
import type { Translate } from '../shared/catalog';

export const ACTIONS = ['pause', 'resume', 'subscribe', 'unsubscribe', 'commit'] as const;
export type InAction = (typeof ACTIONS)[number];

export type ControlRequest =
  | { action: 'pause' | 'resume' }
  | { action: 'subscribe' | 'unsubscribe'; topics: string[] }
  | { action: 'commit'; origin: CommitOrigin };

/** The message to commit, as diaspora-in put it in `msg.diaspora`. */
export interface CommitOrigin {
  topic: string;
  partition: number;
  offset: string;
}

export type { Translate } from '../shared/catalog';

export class ControlError extends Error {
  override name = 'ControlError';
}

/** Reads msg.action and what that action needs; throws a ControlError naming what is wrong. */
export function readControl(msg: { action?: unknown; topic?: unknown; diaspora?: unknown }, t: Translate): ControlRequest {
  const raw = msg.action;
  if (raw === undefined || raw === null || raw === '') throw new ControlError(t('errors.no-action'));
  const action = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
  if (!(ACTIONS as readonly string[]).includes(action)) throw new ControlError(t('errors.bad-action', { action: shown(raw) }));
  switch (action as InAction) {
    case 'pause':
    case 'resume':
      return { action: action as 'pause' | 'resume' };
    case 'subscribe':
    case 'unsubscribe': {
      const topics = topicList(msg.topic);
      if (!topics) throw new ControlError(t('errors.no-action-topic', { action }));
      return { action: action as 'subscribe' | 'unsubscribe', topics };
    }
    case 'commit':
      return { action: 'commit', origin: readOrigin(msg.diaspora, t) };
  }
}

function readOrigin(value: unknown, t: Translate): CommitOrigin {
  const origin = (value ?? {}) as { topic?: unknown; partition?: unknown; offset?: unknown };
  const { topic, partition, offset } = origin;
  const offsetText = typeof offset === 'number' && Number.isInteger(offset) ? String(offset) : offset;
  if (
    typeof value !== 'object' ||
    typeof topic !== 'string' ||
    topic === '' ||
    typeof partition !== 'number' ||
    !Number.isInteger(partition) ||
    partition < 0 ||
    typeof offsetText !== 'string' ||
    !/^\d+$/.test(offsetText)
  ) {
    throw new ControlError(t('errors.commit-no-offset'));
  }
  return { topic, partition, offset: offsetText };
}

/** A topic or an array of topics, trimmed, duplicates dropped; undefined when there is none. */
function topicList(value: unknown): string[] | undefined {
  const items = Array.isArray(value) ? value : [value];
  if (!items.every((item): item is string => typeof item === 'string')) return undefined;
  const topics = [...new Set(items.map((item) => item.trim()).filter((item) => item.length > 0))];
  return topics.length > 0 ? topics : undefined;
}

function shown(value: unknown): string {
  return typeof value === 'string' ? value.slice(0, 40) : typeof value;
}

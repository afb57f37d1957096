/**
 * Name rules of the real Diaspora web service (diaspora-api.md sections 1.2, 1.3 and "Topic naming").
 */

/**
 * v1/v2 rule: `^[^\W_\-][\w\-]*$`, 3–54 characters. The real message says "3-64"; it is kept
 * word for word because clients may show it. Python's `\w` is Unicode, but Kafka only accepts
 * ASCII topic names, so the emulator uses the ASCII class: a Unicode name gets this same answer
 * here instead of the real service's crash at topic creation.
 */
const V1_TOPIC_PATTERN = /^[^\W_-][\w-]*$/;
const V1_MIN_LENGTH = 3;
const V1_MAX_LENGTH = 54;
export const V1_INVALID_TOPIC_REASON =
  'Invalid topic name. Must be 3-64 characters, including letters, digits, underscores, and hyphens, ' +
  'and must not start with a hyphen or underscore.';

/** The v1 rejection reason, or undefined when the name is acceptable. */
export function v1TopicNameError(name: string): string | undefined {
  const ok = name.length >= V1_MIN_LENGTH && name.length <= V1_MAX_LENGTH && V1_TOPIC_PATTERN.test(name);
  return ok ? undefined : V1_INVALID_TOPIC_REASON;
}

const V3_MIN_LENGTH = 3;
const V3_MAX_LENGTH = 32;

/** v3 rule for namespace and topic names, checked in the real service's order; undefined = valid. */
export function v3NameError(name: string): string | undefined {
  if (name.length < V3_MIN_LENGTH || name.length > V3_MAX_LENGTH) {
    return `Name must be between ${V3_MIN_LENGTH} and ${V3_MAX_LENGTH} characters`;
  }
  if (!/^[a-zA-Z0-9_-]+$/.test(name)) return 'Name can only contain letters, numbers, dash, and underscore';
  if (/^[-_]|[-_]$/.test(name)) return 'Name cannot start or end with hyphen or underscore';
  return undefined;
}

/** The v3 default namespace: "ns-" + the last 12 characters of the subject without dashes. */
export function defaultNamespace(subject: string): string {
  return `ns-${subject.replace(/-/g, '').slice(-12)}`;
}

/** The Kafka topic behind a v3 topic. */
export function kafkaTopicName(namespace: string, topic: string): string {
  return `${namespace}.${topic}`;
}

/** The prefix every Kafka topic of a namespace starts with (the v3 prefixed ACL). */
export function namespacePrefix(namespace: string): string {
  return `${namespace}.`;
}

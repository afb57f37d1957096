/**
 * Kafka's naming rules, written once: used by the Kafka clients, the runtime settings readers and
 * the editor's validators (this module is bundled into the editor, so it imports nothing).
 */

/** 1 to 249 letters, digits, '.', '_' or '-' (Kafka's own rule; '.' and '..' are reserved). */
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

/** host:port or [IPv6]:port. */
const BROKER_ADDRESS = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$/;

export function isTopicName(name: unknown): name is string {
  return typeof name === 'string' && TOPIC_NAME.test(name) && name !== '.' && name !== '..';
}

export function isBrokerAddress(address: unknown): address is string {
  return typeof address === 'string' && BROKER_ADDRESS.test(address);
}

/** "a, b,,c" → ["a", "b", "c"]: the comma-separated lists of the node properties. */
export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

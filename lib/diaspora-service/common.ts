/** Names and answer shapes shared by the v1 and v3 adapters. */
import type { DiasporaApi, TopicAnswer } from './service';
import { DiasporaServiceError, type ServiceAnswer } from './http';

/** The default v3 namespace of an identity, as the Python SDK derives it: "ns-" + last 12 hex of sub. */
export function namespaceForSubject(subject: string): string {
  return `ns-${subject.replace(/-/g, '').slice(-12)}`;
}

/** Checks that a topic name can travel in a header or a URL path; the service judges the rest. */
export function checkTopicTransportable(topic: unknown, api: DiasporaApi): string {
  if (typeof topic !== 'string' || topic.trim() === '') {
    throw new DiasporaServiceError('invalid', 'No topic name given: set the topic on the node or in msg.topic.');
  }
  const name = topic.trim();
  if (!/^[\x21-\x7e]+$/.test(name)) {
    throw new DiasporaServiceError(
      'invalid',
      `Topic ${JSON.stringify(name.slice(0, 60))} contains spaces, control or non-ASCII characters: use letters, digits, "-" and "_"${api === 'v3' ? ' (3–32 characters)' : ''}.`,
    );
  }
  if (name === '.' || name === '..') {
    throw new DiasporaServiceError('invalid', `Topic "${name}" is not a valid name: use letters, digits, "-" and "_".`);
  }
  return name;
}

/** `rename` maps the service's topic names to user-facing ones. */
export function topicAnswer(answer: ServiceAnswer, rename: (topic: string) => string = (t) => t): TopicAnswer {
  return {
    status: answer.status,
    message: typeof answer.message === 'string' ? answer.message : '',
    ...(Array.isArray(answer.topics) ? { topics: stringList(answer.topics, 'topic').map(rename) } : {}),
  };
}

export function stringList(value: unknown, call: string): string[] {
  if (!Array.isArray(value) || !value.every((t): t is string => typeof t === 'string')) {
    throw new DiasporaServiceError('protocol', `The Diaspora service answered ${call} without a list of topic names.`);
  }
  return value;
}

/**
 * The Kafka topic for a user-facing name, without a service instance. v1: the name as is; v3:
 * "<ns>.<topic>" in the subject's default namespace (a name already carrying "<ns>." is kept).
 */
export function kafkaTopicName(api: DiasporaApi, subject: string, topic: string): string {
  const name = checkTopicTransportable(topic, api);
  if (api === 'v1') return name;
  if (!subject) {
    throw new DiasporaServiceError('invalid', 'The v3 Kafka topic name depends on the signed-in identity: sign in first.');
  }
  const prefix = `${namespaceForSubject(subject)}.`;
  return name.startsWith(prefix) ? name : `${prefix}${name}`;
}

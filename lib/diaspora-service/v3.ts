/**
 * API v3, today's production service: POST /api/v3/user, POST|DELETE /api/v3/key (idempotent
 * POST with a `fresh` flag), GET /api/v3/namespace, POST|DELETE /api/v3/{ns}/{topic}.
 * Kafka topics are "<ns>.<topic>" in the identity's default namespace.
 */
import type { DiasporaKey, DiasporaService, TopicAnswer } from './service';
import { callService, DiasporaServiceError, type ServiceContext } from './http';
import { checkTopicTransportable, kafkaTopicName, namespaceForSubject, stringList, topicAnswer } from './common';

export function createV3Service(ctx: ServiceContext): DiasporaService {
  const ns = namespaceForSubject(ctx.subject);
  const prefix = `${ns}.`;

  /** The name the service knows: the user may also pass the full Kafka name "<ns>.<topic>". */
  const shortName = (topic: string): string => {
    const name = checkTopicTransportable(topic, 'v3');
    return name.startsWith(prefix) ? name.slice(prefix.length) : name;
  };
  const userName = (t: string): string => (t.startsWith(prefix) ? t.slice(prefix.length) : t);
  const topicPath = (name: string): string => `/api/v3/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;

  const fetchKey = async (): Promise<DiasporaKey> => {
    const answer = await callService(ctx, { method: 'POST', path: '/api/v3/key', what: 'get a key' });
    if (typeof answer.access_key !== 'string' || typeof answer.secret_key !== 'string' || answer.secret_key === '') {
      throw new DiasporaServiceError('protocol', 'The Diaspora service answered POST /api/v3/key without access_key and secret_key.');
    }
    const created = typeof answer.create_date === 'string' ? new Date(answer.create_date) : undefined;
    return {
      accessKey: answer.access_key,
      secretKey: answer.secret_key,
      endpoint: typeof answer.endpoint === 'string' ? answer.endpoint : '',
      createdAt: created && !Number.isNaN(created.getTime()) ? created.toISOString() : new Date().toISOString(),
      fresh: answer.fresh === true,
    };
  };

  return {
    api: 'v3',
    async createKey(): Promise<DiasporaKey> {
      await callService(ctx, { method: 'POST', path: '/api/v3/user', what: 'create the user and namespace' });
      return fetchKey();
    },
    async rotateKey(): Promise<DiasporaKey> {
      await callService(ctx, { method: 'DELETE', path: '/api/v3/key', what: 'delete the old key' });
      return fetchKey();
    },
    async listTopics(): Promise<string[]> {
      const answer = await callService(ctx, { method: 'GET', path: '/api/v3/namespace', what: 'list topics' });
      const namespaces = answer.namespaces;
      if (namespaces === null || typeof namespaces !== 'object' || Array.isArray(namespaces)) {
        throw new DiasporaServiceError('protocol', 'The Diaspora service answered GET /api/v3/namespace without "namespaces".');
      }
      // Only the default namespace is usable on the brokers (the IAM policy is "<ns>.*").
      const topics = (namespaces as Record<string, unknown>)[ns];
      if (topics === undefined) return [];
      return stringList(topics, 'namespace').map(userName);
    },
    async registerTopic(topic: string): Promise<TopicAnswer> {
      const name = shortName(topic);
      return topicAnswer(await callService(ctx, { method: 'POST', path: topicPath(name), what: `register topic "${name}"` }), userName);
    },
    async unregisterTopic(topic: string): Promise<TopicAnswer> {
      const name = shortName(topic);
      return topicAnswer(await callService(ctx, { method: 'DELETE', path: topicPath(name), what: `unregister topic "${name}"` }), userName);
    },
    kafkaTopic: (topic) => kafkaTopicName('v3', ctx.subject, topic),
  };
}

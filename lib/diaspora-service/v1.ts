/**
 * API v1, the seed's service: POST /v1/create_key (rotates), GET /v1/list_topics,
 * POST /v1/register_topic and /v1/unregister_topic with headers Subject and Topic.
 * One global Kafka namespace: the first registrant owns a topic.
 */
import type { DiasporaKey, DiasporaService, TopicAnswer } from './service';
import { callService, DiasporaServiceError, type ServiceContext } from './http';
import { checkTopicTransportable, kafkaTopicName, stringList, topicAnswer } from './common';

export function createV1Service(ctx: ServiceContext): DiasporaService {
  const createKey = async (): Promise<DiasporaKey> => {
    const answer = await callService(ctx, { method: 'POST', path: '/v1/create_key', what: 'create a key' });
    if (typeof answer.secret_key !== 'string' || answer.secret_key === '') {
      throw new DiasporaServiceError('protocol', 'The Diaspora service answered create_key without a secret_key.');
    }
    return {
      // The SCRAM-era answer may lack access_key (the username is the subject).
      accessKey: typeof answer.access_key === 'string' ? answer.access_key : '',
      secretKey: answer.secret_key,
      endpoint: typeof answer.endpoint === 'string' ? answer.endpoint : '',
      createdAt: new Date().toISOString(),
      fresh: true,
    };
  };

  const topicCall = async (path: string, verb: string, topic: string): Promise<TopicAnswer> => {
    const name = checkTopicTransportable(topic, 'v1');
    const answer = await callService(ctx, { method: 'POST', path, headers: { Topic: name }, what: `${verb} topic "${name}"` });
    return topicAnswer(answer);
  };

  return {
    api: 'v1',
    createKey,
    rotateKey: createKey,
    async listTopics(): Promise<string[]> {
      const answer = await callService(ctx, { method: 'GET', path: '/v1/list_topics', what: 'list topics' });
      return stringList(answer.topics, 'list_topics');
    },
    registerTopic: (topic) => topicCall('/v1/register_topic', 'register', topic),
    unregisterTopic: (topic) => topicCall('/v1/unregister_topic', 'unregister', topic),
    kafkaTopic: (topic) => kafkaTopicName('v1', ctx.subject, topic),
  };
}

/** A fault-fabric client's identity acting as its own diaspora-topic node would: a key, then a registered v3 topic. */
import assert from 'node:assert/strict';
import { createDiasporaService } from '../../../lib/diaspora-service/service';
import { diasporaToken, GlobusAuth } from '../../../lib/globus/auth';
import type { FaultFabric } from './fault-fabric';

/** Registers `topic` for client `clientIndex`; returns its Kafka name. */
export async function registerFor(fabric: FaultFabric, clientIndex: number, topic: string): Promise<string> {
  const client = fabric.description.clients[clientIndex];
  const auth = new GlobusAuth({ authUrl: fabric.description.authUrl, clientId: client.clientId, clientSecret: client.clientSecret });
  const bundle = await auth.clientCredentials();
  const service = createDiasporaService({ api: 'v3', serviceUrl: fabric.description.serviceUrl, subject: client.sub, accessToken: async () => diasporaToken(bundle).accessToken });
  await service.createKey();
  const answer = await service.registerTopic(topic);
  assert.ok(['success', 'no-op'].includes(answer.status), answer.message);
  return service.kafkaTopic(topic);
}

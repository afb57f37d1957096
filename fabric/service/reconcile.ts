/**
 * After a restart, makes the broker match the remembered state again (it may have been wiped):
 * v1 topics and their ACLs, v3 namespace prefixes and topics, and every key's SCRAM credential.
 * Everything here is idempotent on a broker that kept its data.
 */
import { TOPIC_OPERATIONS, grantNamespace } from './accounts';
import type { ServiceContext } from './context';
import { kafkaTopicName } from './names';

const PARALLEL = 4;

async function inBatches(tasks: Array<() => Promise<void>>): Promise<void> {
  for (let i = 0; i < tasks.length; i += PARALLEL) {
    await Promise.all(tasks.slice(i, i + PARALLEL).map((task) => task()));
  }
}

export async function reconcileBroker(ctx: ServiceContext): Promise<void> {
  const { state } = ctx.store;
  const tasks: Array<() => Promise<void>> = [];
  for (const [topic, { owners }] of Object.entries(state.v1Topics)) {
    tasks.push(async () => {
      await ctx.kafka.createTopic(topic, 1);
      for (const owner of owners) {
        await ctx.kafka.grant({ user: owner, topic, prefixed: false, operations: TOPIC_OPERATIONS });
        await ctx.kafka.allowGroups(owner);
      }
    });
  }
  for (const [namespace, { owner, topics }] of Object.entries(state.namespaces)) {
    tasks.push(async () => {
      await grantNamespace(ctx, owner, namespace);
      for (const topic of topics) await ctx.kafka.createTopic(kafkaTopicName(namespace, topic), 1);
    });
  }
  for (const [subject, key] of Object.entries(state.keys)) {
    tasks.push(() => ctx.keys.restore(subject, key.secretKey, key.activeAt));
  }
  await inBatches(tasks);
}

/**
 * Keys and v3 users, shared by the v1 and v3 routes: one key per subject (a v1 create_key also
 * replaces the v3 key), and a v3 user owns its namespace through a PREFIXED ACL on "<ns>.".
 * Callers hold the service lock.
 */
import type { AclOperation } from '../kafka-admin-api';
import type { ServiceContext } from './context';
import { isoCreateDate, newAccessKeyId, newSecretAccessKey } from './key-material';
import { defaultNamespace, kafkaTopicName, namespacePrefix, v3NameError } from './names';
import type { KeyRecord } from './state-store';

/** What the real service's ACLs give a topic's users (v2 create_topic_and_acl). */
export const TOPIC_OPERATIONS: AclOperation[] = ['READ', 'WRITE', 'DESCRIBE'];

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Mints a key, revokes the old secret now and activates the new one after the propagation delay. */
export async function issueKey(ctx: ServiceContext, subject: string): Promise<KeyRecord> {
  const now = Date.now();
  const record: KeyRecord = {
    accessKey: newAccessKeyId(),
    secretKey: newSecretAccessKey(),
    createDate: isoCreateDate(new Date(now)),
    activeAt: now + ctx.config.keyPropagationDelayMs,
  };
  try {
    await ctx.keys.rotate(subject, record.secretKey, record.activeAt);
  } catch (err) {
    // The old secret may already be gone: forget it, so the next v3 POST /key mints a new one.
    ctx.store.deleteKey(subject);
    ctx.store.save();
    throw err;
  }
  ctx.store.setKey(subject, record);
  ctx.store.save();
  ctx.stats.countKeyCreation(subject);
  return record;
}

export async function revokeKey(ctx: ServiceContext, subject: string): Promise<void> {
  await ctx.keys.revoke(subject);
  ctx.store.deleteKey(subject);
  ctx.store.save();
}

/** Gives the namespace's owner the whole "<ns>." prefix and any consumer group. */
export async function grantNamespace(ctx: ServiceContext, subject: string, namespace: string): Promise<void> {
  await ctx.kafka.grant({ user: subject, topic: namespacePrefix(namespace), prefixed: true, operations: TOPIC_OPERATIONS });
  await ctx.kafka.allowGroups(subject);
}

async function revokeNamespace(ctx: ServiceContext, subject: string, namespace: string): Promise<void> {
  await ctx.kafka.revoke({ user: subject, topic: namespacePrefix(namespace), prefixed: true, operations: TOPIC_OPERATIONS });
}

export type Outcome = { status: 'success'; [field: string]: unknown } | { status: 'failure'; message: string };

/** Adds a namespace for a subject: globally unique, idempotent for its owner (NamespaceService). */
export async function createNamespace(ctx: ServiceContext, subject: string, namespace: string): Promise<Outcome> {
  const invalid = v3NameError(namespace);
  if (invalid) return { status: 'failure', message: invalid };
  if (ctx.store.namespacesOf(subject).includes(namespace)) {
    return { status: 'success', message: `Namespace already exists for ${subject}`, namespaces: ctx.store.namespacesOf(subject) };
  }
  if (ctx.store.namespaceOwner(namespace) !== undefined) {
    return { status: 'failure', message: `Namespace already taken: ${namespace}` };
  }
  await grantNamespace(ctx, subject, namespace);
  ctx.store.addNamespace(subject, namespace);
  ctx.store.save();
  return { status: 'success', message: `Namespace created for ${subject}`, namespaces: ctx.store.namespacesOf(subject) };
}

/** POST /api/v3/user: the user (IAM user in production) and its default namespace, idempotently. */
export async function createV3User(ctx: ServiceContext, subject: string): Promise<Outcome> {
  const isNewUser = !ctx.store.hasV3User(subject);
  ctx.store.ensureV3User(subject);
  const namespace = defaultNamespace(subject);
  let created: Outcome;
  try {
    created = await createNamespace(ctx, subject, namespace);
  } catch (err) {
    // The broker's ACLs play the part of the IAM policy, so their failure reads as an IAM failure.
    if (isNewUser) ctx.store.deleteV3User(subject);
    ctx.store.save();
    return { status: 'failure', message: `Failed to create IAM user: Failed to create user and policy: ${errorMessage(err)}` };
  }
  if (created.status !== 'success') {
    if (isNewUser) ctx.store.deleteV3User(subject);
    ctx.store.save();
    return { status: 'failure', message: `Failed to create namespace: ${created.message}` };
  }
  ctx.store.save();
  return {
    status: 'success',
    message: `User ${subject} created with namespace ${namespace}`,
    subject,
    namespace,
  };
}

/** DELETE /api/v3/user: refused while the user owns extra namespaces; otherwise removes everything. */
export async function deleteV3User(ctx: ServiceContext, subject: string): Promise<Outcome> {
  const namespace = defaultNamespace(subject);
  const others = ctx.store.namespacesOf(subject).filter((ns) => ns !== namespace);
  if (others.length > 0) {
    return {
      status: 'failure',
      message: `Cannot delete user ${subject}: user has ${others.length} additional namespace(s). Delete namespaces first.`,
    };
  }
  if (ctx.store.namespacesOf(subject).includes(namespace)) {
    for (const topic of ctx.store.topicsOf(namespace)) {
      // As in the real service, a topic that cannot be deleted does not stop the user's deletion.
      await ctx.kafka.deleteTopic(kafkaTopicName(namespace, topic)).catch((err: unknown) => {
        ctx.log(`Could not delete Kafka topic ${kafkaTopicName(namespace, topic)}: ${errorMessage(err)}`);
      });
      ctx.store.removeTopic(namespace, topic);
    }
    ctx.store.removeNamespace(subject, namespace);
    ctx.store.save();
  }
  try {
    await revokeKey(ctx, subject);
    if (ctx.store.hasV3User(subject)) await revokeNamespace(ctx, subject, namespace);
  } catch (err) {
    return { status: 'failure', message: `Failed to delete IAM user: Failed to delete user and policy: ${errorMessage(err)}` };
  }
  ctx.store.deleteV3User(subject);
  ctx.store.save();
  return { status: 'success', message: `User ${subject} deleted` };
}

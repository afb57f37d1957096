/**
 * API v3, today's production API (SVC web_service main.py and services.py): every route needs the
 * headers subject and authorization (422 when missing), business results are HTTP 200 with
 * "success" or "failure", and a user owns the Kafka topics "<ns>.*" of its namespaces.
 */
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { createV3User, deleteV3User, errorMessage, issueKey, revokeKey } from './accounts';
import { authorize } from './auth';
import type { ServiceContext } from './context';
import { asyncRoute, gate, header, methodNotAllowed, missingHeaders } from './http';
import { kafkaTopicName, v3NameError } from './names';
import type { KeyRecord } from './state-store';

const KAFKA_ATTEMPTS = 3;

/** Header check (422) then token check; the subject is left in res.locals.subject. */
function v3Auth(ctx: ServiceContext): RequestHandler {
  const check = async (req: Request, res: Response): Promise<boolean> => {
    const subject = header(req, 'subject');
    const authorization = header(req, 'authorization');
    if (subject === undefined || authorization === undefined) {
      missingHeaders(res, [subject === undefined ? 'subject' : '', authorization === undefined ? 'authorization' : ''].filter(Boolean));
      return false;
    }
    if (!(await authorize(ctx, res, subject, authorization))) return false;
    res.locals.subject = subject;
    return true;
  };
  return gate(check);
}

function subjectOf(res: Response): string {
  return res.locals.subject as string;
}

/** The real KafkaService: three tries, then "Failed to <verb> Kafka topic <t> after 3 attempts: <e>". */
async function kafkaWithAttempts(verb: 'create' | 'delete', topic: string, work: () => Promise<void>): Promise<string | undefined> {
  let last: unknown;
  for (let attempt = 1; attempt <= KAFKA_ATTEMPTS; attempt += 1) {
    try {
      await work();
      return undefined;
    } catch (err) {
      last = err;
    }
  }
  return `Failed to ${verb} Kafka topic ${topic} after ${KAFKA_ATTEMPTS} attempts: ${errorMessage(last)}`;
}

export function v3Router(ctx: ServiceContext): Router {
  const router = express.Router();
  const auth = v3Auth(ctx);

  router
    .route('/api/v3/user')
    .post(
      auth,
      asyncRoute(async (_req, res) => {
        const subject = subjectOf(res);
        res.json(await ctx.lock.run(() => createV3User(ctx, subject)));
      }),
    )
    .delete(
      auth,
      asyncRoute(async (_req, res) => {
        const subject = subjectOf(res);
        res.json(await ctx.lock.run(() => deleteV3User(ctx, subject)));
      }),
    )
    .all(methodNotAllowed);

  router
    .route('/api/v3/key')
    .post(
      (req, _res, next) => {
        const subject = header(req, 'subject');
        if (subject !== undefined) ctx.stats.countCreateKeyCall(subject);
        next();
      },
      auth,
      asyncRoute(async (_req, res) => {
        const subject = subjectOf(res);
        res.json(await ctx.lock.run(() => createKey(ctx, subject)));
      }),
    )
    .delete(
      auth,
      asyncRoute(async (_req, res) => {
        const subject = subjectOf(res);
        await ctx.lock.run(() => revokeKey(ctx, subject));
        res.json({ status: 'success', message: `Access key deleted for ${subject}` });
      }),
    )
    .all(methodNotAllowed);

  router
    .route('/api/v3/namespace')
    .get(
      auth,
      asyncRoute(async (_req, res) => {
        const subject = subjectOf(res);
        const namespaces = ctx.store.namespacesOf(subject);
        res.json({
          status: 'success',
          message: `Found ${namespaces.length} namespaces for ${subject}`,
          namespaces: Object.fromEntries(namespaces.map((ns) => [ns, ctx.store.topicsOf(ns)])),
        });
      }),
    )
    .all(methodNotAllowed);

  router
    .route('/api/v3/:namespace/:topic')
    .post(
      auth,
      asyncRoute(async (req, res) => {
        const { namespace, topic } = req.params;
        res.json(await ctx.lock.run(() => createTopic(ctx, subjectOf(res), namespace, topic)));
      }),
    )
    .delete(
      auth,
      asyncRoute(async (req, res) => {
        const { namespace, topic } = req.params;
        res.json(await ctx.lock.run(() => deleteTopic(ctx, subjectOf(res), namespace, topic)));
      }),
    )
    .all(methodNotAllowed);

  router
    .route('/api/v3/:namespace/:topic/recreate')
    .put(
      auth,
      asyncRoute(async (req, res) => {
        const { namespace, topic } = req.params;
        res.json(await recreateTopic(ctx, subjectOf(res), namespace, topic));
      }),
    )
    .all(methodNotAllowed);

  return router;
}

async function createKey(ctx: ServiceContext, subject: string): Promise<Record<string, unknown>> {
  const existing = ctx.store.key(subject);
  if (existing) {
    return {
      status: 'success',
      message: `Access key already exists for ${subject}`,
      access_key: existing.accessKey,
      secret_key: existing.secretKey,
      create_date: existing.createDate,
      endpoint: ctx.endpoint,
      fresh: false,
    };
  }
  const user = await createV3User(ctx, subject);
  if (user.status !== 'success') return { status: 'failure', message: `Failed to create user: ${user.message}` };
  let key: KeyRecord;
  try {
    key = await issueKey(ctx, subject);
  } catch (err) {
    return {
      status: 'failure',
      message: `Failed to create IAM access key: Failed to create access key: ${errorMessage(err)}`,
    };
  }
  return {
    status: 'success',
    message: `Access key created for ${subject}`,
    access_key: key.accessKey,
    secret_key: key.secretKey,
    create_date: key.createDate,
    endpoint: ctx.endpoint,
    fresh: true,
  };
}

function namespaceNotFound(subject: string, namespace: string): Record<string, unknown> {
  return { status: 'failure', message: `Namespace ${namespace} not found for ${subject}` };
}

async function createTopic(ctx: ServiceContext, subject: string, namespace: string, topic: string): Promise<Record<string, unknown>> {
  const invalid = v3NameError(topic);
  if (invalid) return { status: 'failure', message: invalid };
  if (!ctx.store.namespacesOf(subject).includes(namespace)) return namespaceNotFound(subject, namespace);
  const existed = ctx.store.topicsOf(namespace).includes(topic);
  const kafkaTopic = kafkaTopicName(namespace, topic);
  const failed = await kafkaWithAttempts('create', kafkaTopic, () => ctx.kafka.createTopic(kafkaTopic, 1));
  if (failed) return { status: 'failure', message: `Failed to create Kafka topic: ${failed}` };
  if (!existed) {
    ctx.store.addTopic(namespace, topic);
    ctx.store.save();
  }
  return {
    status: 'success',
    message: existed ? `Topic ${topic} already exists in ${namespace}` : `Topic ${topic} created in ${namespace}`,
    topics: ctx.store.topicsOf(namespace),
  };
}

/**
 * Idempotent. Deliberate difference: the real service deletes the Kafka topic before it checks
 * that the caller owns the namespace; the emulator checks first, so no one can delete another
 * user's topic through it.
 */
async function deleteTopic(ctx: ServiceContext, subject: string, namespace: string, topic: string): Promise<Record<string, unknown>> {
  if (!ctx.store.namespacesOf(subject).includes(namespace)) return namespaceNotFound(subject, namespace);
  const kafkaTopic = kafkaTopicName(namespace, topic);
  const failed = await kafkaWithAttempts('delete', kafkaTopic, () => ctx.kafka.deleteTopic(kafkaTopic));
  if (failed) return { status: 'failure', message: `Failed to delete Kafka topic: ${failed}` };
  if (!ctx.store.topicsOf(namespace).includes(topic)) {
    return { status: 'success', message: `Topic ${topic} not found in ${namespace}`, topics: ctx.store.topicsOf(namespace) };
  }
  ctx.store.removeTopic(namespace, topic);
  ctx.store.save();
  return { status: 'success', message: `Topic ${topic} deleted from ${namespace}`, topics: ctx.store.topicsOf(namespace) };
}

/** Deletes the Kafka topic, waits recreateDelayMs (5 s in production) and creates it again. */
async function recreateTopic(ctx: ServiceContext, subject: string, namespace: string, topic: string): Promise<Record<string, unknown>> {
  if (!ctx.store.namespacesOf(subject).includes(namespace)) return namespaceNotFound(subject, namespace);
  if (!ctx.store.topicsOf(namespace).includes(topic)) {
    return { status: 'failure', message: `Topic ${topic} not found in ${namespace}` };
  }
  const kafkaTopic = kafkaTopicName(namespace, topic);
  const deleteFailed = await kafkaWithAttempts('delete', kafkaTopic, () => ctx.kafka.deleteTopic(kafkaTopic));
  if (deleteFailed) return { status: 'failure', message: deleteFailed };
  await ctx.timers.sleep(ctx.config.recreateDelayMs);
  const createFailed = await kafkaWithAttempts('create', kafkaTopic, () => ctx.kafka.createTopic(kafkaTopic, 1));
  if (createFailed) return { status: 'failure', message: createFailed };
  return { status: 'success', message: 'Topic recreated' };
}

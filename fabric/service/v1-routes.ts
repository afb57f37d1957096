/**
 * API v1, the seed's API (SDK 0.0.4–0.0.19), as the real service still served it in May 2024:
 * headers Subject and Topic (or a JSON body), first-registrant topic ownership enforced with
 * Kafka ACLs, and a create_key that rotates the key.
 */
import express, { type Request, type Response, type Router } from 'express';
import { TOPIC_OPERATIONS, issueKey } from './accounts';
import { authorize } from './auth';
import type { ServiceContext } from './context';
import { asyncRoute, header, methodNotAllowed } from './http';
import { v1TopicNameError } from './names';

/** The request fields v1 takes "either in header or body", in the order FastAPI resolves them. */
type V1Field = 'topic' | 'subject' | 'authorization';

function bodyField(req: Request, name: V1Field): string | undefined {
  const body: unknown = req.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Python's `header or body`: an empty header falls back to the body. A missing value answers
 * HTTP 400 {"detail":"<Name> must be provided either in header or body"}; undefined then.
 */
function fields(req: Request, res: Response, names: V1Field[]): string[] | undefined {
  const values: string[] = [];
  for (const name of names) {
    const value = header(req, name) || bodyField(req, name);
    if (value === undefined) {
      const label = name.charAt(0).toUpperCase() + name.slice(1);
      res.status(400).json({ detail: `${label} must be provided either in header or body` });
      return undefined;
    }
    values.push(value);
  }
  return values;
}

export function v1Router(ctx: ServiceContext): Router {
  const router = express.Router();
  const json = express.json({ limit: '100kb' });

  router
    .route('/v1/create_key')
    .post(
      json,
      asyncRoute(async (req, res) => {
        const values = fields(req, res, ['subject', 'authorization']);
        if (!values) return;
        const [subject, authorization] = values;
        ctx.stats.countCreateKeyCall(subject);
        if (!(await authorize(ctx, res, subject, authorization))) return;
        const key = await ctx.lock.run(() => issueKey(ctx, subject));
        res.json({
          status: 'success',
          username: subject,
          access_key: key.accessKey,
          secret_key: key.secretKey,
          endpoint: ctx.endpoint,
        });
      }),
    )
    .all(methodNotAllowed);

  router
    .route('/v1/list_topics')
    .get(
      json,
      asyncRoute(async (req, res) => {
        const values = fields(req, res, ['subject', 'authorization']);
        if (!values) return;
        const [subject, authorization] = values;
        if (!(await authorize(ctx, res, subject, authorization))) return;
        res.json({ status: 'success', topics: ctx.store.v1TopicsOf(subject) });
      }),
    )
    .all(methodNotAllowed);

  router
    .route('/v1/register_topic')
    .post(
      json,
      asyncRoute(async (req, res) => {
        const values = fields(req, res, ['topic', 'subject', 'authorization']);
        if (!values) return;
        const [topic, subject, authorization] = values;
        if (!(await authorize(ctx, res, subject, authorization))) return;
        const invalid = v1TopicNameError(topic);
        if (invalid) {
          res.json({ status: 'error', reason: invalid });
          return;
        }
        res.json(await ctx.lock.run(() => register(ctx, subject, topic)));
      }),
    )
    .all(methodNotAllowed);

  router
    .route('/v1/unregister_topic')
    .post(
      json,
      asyncRoute(async (req, res) => {
        const values = fields(req, res, ['topic', 'subject', 'authorization']);
        if (!values) return;
        const [topic, subject, authorization] = values;
        if (!(await authorize(ctx, res, subject, authorization))) return;
        const invalid = v1TopicNameError(topic);
        if (invalid) {
          res.json({ status: 'error', reason: invalid });
          return;
        }
        res.json(await ctx.lock.run(() => unregister(ctx, subject, topic)));
      }),
    )
    .all(methodNotAllowed);

  return router;
}

interface V1Answer {
  status: 'success' | 'no-op' | 'error';
  message: string;
}

async function register(ctx: ServiceContext, subject: string, topic: string): Promise<V1Answer> {
  const owners = ctx.store.v1Owners(topic);
  if (owners.length > 0 && !owners.includes(subject)) return { status: 'error', message: 'Topic already has ACLs.' };
  if (owners.includes(subject)) return { status: 'no-op', message: `Principal ${subject} already has access.` };
  await ctx.kafka.createTopic(topic, 1);
  await ctx.kafka.grant({ user: subject, topic, prefixed: false, operations: TOPIC_OPERATIONS });
  await ctx.kafka.allowGroups(subject);
  ctx.store.addV1Owner(topic, subject);
  ctx.store.save();
  return { status: 'success', message: `Access granted to principal ${subject}.` };
}

/** Revokes the subject's access; the topic itself stays, as in the real service. */
async function unregister(ctx: ServiceContext, subject: string, topic: string): Promise<V1Answer> {
  if (!ctx.store.v1Owners(topic).includes(subject)) return { status: 'no-op', message: `Principal ${subject} has no access.` };
  await ctx.kafka.revoke({ user: subject, topic, prefixed: false, operations: TOPIC_OPERATIONS });
  ctx.store.removeV1Owner(topic, subject);
  ctx.store.save();
  return { status: 'success', message: `Access removed from principal ${subject}.` };
}

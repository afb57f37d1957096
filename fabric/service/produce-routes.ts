/**
 * The REST produce routes (docs/rest.md): POST /api/v3/{namespace}/topics/{topic}/records and
 * .../records:batch, in Confluent REST API v3 bodies, answered once the broker acknowledged the
 * records with acks=all. Only the caller's own namespaces and topics registered in them.
 */
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type { Message } from 'kafkajs';
import { errorMessage } from './accounts';
import type { ServiceContext } from './context';
import { methodNotAllowed } from './http';
import { kafkaTopicName } from './names';
import { REST_ERRORS, RestError } from './rest-errors';
import { restAuth, restJson, restRoute, restSubject } from './rest-http';
import { kafkaMessageOf } from './rest-records';

export const MAX_BATCH_ENTRIES = 500;
const ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;

interface Written {
  topic_name: string;
  partition_id: number;
  offset: number;
  timestamp: string;
}

interface Failure {
  id: string;
  error_code: number;
  message: string;
}

/** The Kafka topic behind {namespace}/{topic}, refused unless the caller owns the namespace and the topic is registered. */
export function ownedTopic(ctx: ServiceContext, subject: string, namespace: string, topic: string): string {
  if (!ctx.store.namespacesOf(subject).includes(namespace)) {
    throw new RestError(403, REST_ERRORS.namespaceNotOwned, `Namespace ${namespace} is not owned by ${subject}`);
  }
  if (!ctx.store.topicsOf(namespace).includes(topic)) {
    throw new RestError(404, REST_ERRORS.topicNotFound, `Topic ${topic} not found in namespace ${namespace}; create it first (POST /api/v3/${namespace}/${topic})`);
  }
  return kafkaTopicName(namespace, topic);
}

function kafkaFailure(err: unknown): RestError {
  return err instanceof RestError ? err : new RestError(500, REST_ERRORS.kafkaError, `Kafka error: ${errorMessage(err)}`);
}

function written(topic: string, baseOffset: string, index: number, message: Message): Written {
  return {
    topic_name: topic,
    partition_id: 0,
    offset: Number(baseOffset) + index,
    timestamp: new Date(Number(message.timestamp)).toISOString(),
  };
}

async function produceOne(ctx: ServiceContext, req: Request, res: Response): Promise<void> {
  const { namespace, topic } = req.params;
  const kafkaTopic = ownedTopic(ctx, restSubject(res), namespace, topic);
  ctx.produceAdmission.admit();
  const message = kafkaMessageOf(req.body);
  let baseOffset: string;
  try {
    baseOffset = (await ctx.dataPlane.send(kafkaTopic, [message])).baseOffset ?? '-1';
  } catch (err) {
    throw kafkaFailure(err);
  }
  res.json(written(topic, baseOffset, 0, message));
}

/** The entries with their ids, or 400 / 40003 for a batch that cannot be taken at all. */
function batchEntries(body: unknown): Array<{ id: string; record: Record<string, unknown> }> {
  const entries = (body as { entries?: unknown } | undefined)?.entries;
  const refuse = (message: string): RestError => new RestError(400, REST_ERRORS.badBatch, message);
  if (!Array.isArray(entries) || entries.length === 0) throw refuse('The body must be {"entries": [...]} with 1 to 500 entries');
  if (entries.length > MAX_BATCH_ENTRIES) throw refuse(`A batch holds at most ${MAX_BATCH_ENTRIES} entries; this one has ${entries.length}`);
  const seen = new Set<string>();
  return entries.map((entry: unknown, index) => {
    const record = entry && typeof entry === 'object' && !Array.isArray(entry) ? { ...(entry as Record<string, unknown>) } : undefined;
    const id = record?.id;
    if (!record || typeof id !== 'string' || !ENTRY_ID.test(id)) {
      throw refuse(`entries[${index}] needs an "id" of 1 to 80 letters, digits, "-" or "_"`);
    }
    if (seen.has(id)) throw refuse(`Two entries have the id ${id}; ids must be distinct`);
    seen.add(id);
    delete record.id;
    return { id, record };
  });
}

async function produceBatch(ctx: ServiceContext, req: Request, res: Response): Promise<void> {
  const { namespace, topic } = req.params;
  const kafkaTopic = ownedTopic(ctx, restSubject(res), namespace, topic);
  ctx.produceAdmission.admit();
  const failures: Failure[] = [];
  const valid: Array<{ id: string; message: Message }> = [];
  for (const { id, record } of batchEntries(req.body)) {
    try {
      valid.push({ id, message: kafkaMessageOf(record) });
    } catch (err) {
      const refused = kafkaFailure(err);
      failures.push({ id, error_code: refused.code, message: refused.message });
    }
  }
  const successes: Array<Written & { id: string }> = [];
  const record = (group: typeof valid, baseOffset: string): void => {
    group.forEach(({ id, message }, index) => successes.push({ id, ...written(topic, baseOffset, index, message) }));
  };
  if (valid.length > 0) {
    try {
      record(valid, (await ctx.dataPlane.send(kafkaTopic, valid.map((v) => v.message))).baseOffset ?? '-1');
    } catch (err) {
      // Nothing written: a broker that cannot be reached fails the whole request, which is safe to retry.
      if (err instanceof RestError && err.code === REST_ERRORS.clusterUnreachable) throw err;
      // One bad entry (too large, say) fails the whole Kafka request: write each on its own to tell which.
      for (const entry of valid) {
        try {
          record([entry], (await ctx.dataPlane.send(kafkaTopic, [entry.message])).baseOffset ?? '-1');
        } catch (single) {
          const failed = kafkaFailure(single);
          failures.push({ id: entry.id, error_code: failed.code, message: failed.message });
        }
      }
    }
  }
  res.status(207).json({ successes, failures });
}

export function produceRouter(ctx: ServiceContext): Router {
  const router = express.Router();
  const isProduce = (req: Request): boolean => req.params.action === 'records' || req.params.action === 'records:batch';
  // The last path part is a parameter because "records:batch" holds a colon, Express's parameter mark.
  const onlyProduce: RequestHandler = (req, _res, next) => next(isProduce(req) ? undefined : 'route');
  router
    .route('/api/v3/:namespace/topics/:topic/:action')
    .post(
      onlyProduce,
      restAuth(ctx),
      ...restJson(),
      restRoute((req, res) => (req.params.action === 'records' ? produceOne(ctx, req, res) : produceBatch(ctx, req, res))),
    )
    .all(onlyProduce, methodNotAllowed);
  return router;
}

/**
 * The REST consumer routes (Confluent REST Proxy v2) under /api/v2/consumers/{group}, in the
 * caller's default namespace: topics are named without it and the group g is the Kafka consumer
 * group "<namespace>.g". Routes, bodies and codes are listed in docs/rest.md.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { ServiceContext } from './context';
import type { ConsumerInstance, InstanceSettings, OffsetReset, TopicOffset, TopicPartition } from './consumer-instance';
import { methodNotAllowed } from './http';
import { defaultNamespace } from './names';
import { REST_ERRORS, RestError, badValue } from './rest-errors';
import { V2_CONTENT_TYPE, restAuth, restJson, restRoute, restSubject } from './rest-http';
import type { ConsumerFormat } from './rest-records';

export const MAX_FETCH_TIMEOUT_MS = 30_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
const NAME = /^[A-Za-z0-9._-]{1,200}$/;
const SETTINGS = ['name', 'format', 'auto.offset.reset', 'auto.commit.enable', 'fetch.min.bytes', 'consumer.request.timeout.ms'];

function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined || (typeof body === 'object' && body !== null && !Array.isArray(body))) return (body ?? {}) as Record<string, unknown>;
  throw badValue('The body must be a JSON object');
}

/** A non-negative integer given as a number or a string of digits. */
function integerSetting(value: unknown, field: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) throw badValue(`${field} must be an integer from 0 to ${max}`);
  return n;
}

function settingsOf(body: Record<string, unknown>): { name: string | undefined; settings: InstanceSettings } {
  const unknown = Object.keys(body).filter((k) => !SETTINGS.includes(k));
  if (unknown.length > 0) throw badValue(`Unknown consumer setting(s): ${unknown.join(', ')}; expected ${SETTINGS.join(', ')}`);
  const name = body.name;
  if (name !== undefined && (typeof name !== 'string' || !NAME.test(name))) throw badValue('name must be 1 to 200 letters, digits, ".", "-" or "_"');
  const format = body.format ?? 'binary';
  if (format !== 'binary' && format !== 'json') throw badValue('format must be "binary" or "json"');
  const reset = body['auto.offset.reset'] ?? 'latest';
  if (reset !== 'earliest' && reset !== 'latest' && reset !== 'none') throw badValue('auto.offset.reset must be "earliest", "latest" or "none"');
  const autoCommit = body['auto.commit.enable'] ?? 'false';
  if (autoCommit !== 'true' && autoCommit !== 'false' && typeof autoCommit !== 'boolean') throw badValue('auto.commit.enable must be "true" or "false"');
  return {
    name,
    settings: {
      format: format as ConsumerFormat,
      offsetReset: reset as OffsetReset,
      autoCommit: autoCommit === true || autoCommit === 'true',
      fetchMinBytes: body['fetch.min.bytes'] === undefined ? 1 : integerSetting(body['fetch.min.bytes'], 'fetch.min.bytes'),
      requestTimeoutMs: body['consumer.request.timeout.ms'] === undefined
        ? DEFAULT_REQUEST_TIMEOUT_MS
        : integerSetting(body['consumer.request.timeout.ms'], 'consumer.request.timeout.ms', MAX_FETCH_TIMEOUT_MS),
    },
  };
}

function listField(body: Record<string, unknown>, field: string): unknown[] {
  const list = body[field];
  if (!Array.isArray(list)) throw badValue(`The body must be {"${field}": [...]}`);
  return list;
}

/** Topic names of the caller's default namespace; 404 / 40401 for one not registered there. */
function topicsOf(ctx: ServiceContext, namespace: string, names: unknown[]): string[] {
  return names.map((name) => {
    if (typeof name !== 'string' || name.length === 0) throw badValue('Each topic must be a non-empty string, named without the namespace');
    if (!ctx.store.topicsOf(namespace).includes(name)) {
      throw new RestError(404, REST_ERRORS.topicNotFound, `Topic ${name} not found in namespace ${namespace}`);
    }
    return name;
  });
}

function partitionsOf(ctx: ServiceContext, namespace: string, list: unknown[]): TopicPartition[] {
  return list.map((item) => {
    const { topic, partition } = (item ?? {}) as { topic?: unknown; partition?: unknown };
    if (typeof topic !== 'string' || !Number.isInteger(partition)) throw badValue('Each partition must be {"topic": <name>, "partition": 0}');
    topicsOf(ctx, namespace, [topic]);
    if (partition !== 0) throw new RestError(404, REST_ERRORS.partitionNotFound, `Partition ${String(partition)} of ${topic} not found: Diaspora topics have one partition, 0`);
    return { topic, partition: 0 };
  });
}

function offsetsOf(ctx: ServiceContext, namespace: string, list: unknown[]): TopicOffset[] {
  const partitions = partitionsOf(ctx, namespace, list);
  return partitions.map((tp, index) => {
    const offset = (list[index] as { offset?: unknown }).offset;
    if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) throw badValue(`offsets[${index}].offset must be a non-negative integer`);
    return { ...tp, offset };
  });
}

function queryInteger(req: Request, field: string, max: number): number | undefined {
  const raw = req.query[field];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) > max) throw badValue(`${field} must be an integer from 0 to ${max}`);
  return Number(raw);
}

function sendV2(res: Response, status: number, body?: unknown): void {
  if (body === undefined) res.status(status).end();
  else res.status(status).type(V2_CONTENT_TYPE).send(JSON.stringify(body));
}

function accepts(req: Request, format: ConsumerFormat): boolean {
  const wanted = `application/vnd.kafka.${format}.v2+json`;
  return (req.headers.accept ?? '').split(',').some((part) => part.split(';')[0].trim().toLowerCase() === wanted);
}

export function consumerRouter(ctx: ServiceContext): Router {
  const router = express.Router();
  const auth = restAuth(ctx);
  const json = restJson();
  const namespaceOf = (res: Response): string => defaultNamespace(restSubject(res));
  /** Runs the work on the instance named in the path. */
  const onInstance = <T>(req: Request, res: Response, work: (instance: ConsumerInstance) => Promise<T>): Promise<T> =>
    ctx.consumers.serve(namespaceOf(res), req.params.group, req.params.name, work);

  router
    .route('/api/v2/consumers/:group')
    .post(
      auth,
      ...json,
      restRoute(async (req, res) => {
        const { group } = req.params;
        if (!NAME.test(group)) throw badValue('The group must be 1 to 200 letters, digits, ".", "-" or "_"');
        const { name, settings } = settingsOf(objectBody(req.body));
        const instance = ctx.consumers.create(restSubject(res), namespaceOf(res), group, name, settings);
        const origin = `${req.protocol}://${req.get('host') ?? ''}`;
        sendV2(res, 200, {
          instance_id: instance.name,
          base_uri: `${origin}/api/v2/consumers/${encodeURIComponent(group)}/instances/${encodeURIComponent(instance.name)}`,
        });
      }),
    )
    .all(methodNotAllowed);

  const base = '/api/v2/consumers/:group/instances/:name';
  router
    .route(base)
    .delete(
      auth,
      restRoute(async (req, res) => {
        await ctx.consumers.remove(namespaceOf(res), req.params.group, req.params.name);
        sendV2(res, 204);
      }),
    )
    .all(methodNotAllowed);

  router
    .route(`${base}/subscription`)
    .post(
      auth,
      ...json,
      restRoute(async (req, res) => {
        const body = objectBody(req.body);
        if (body.topic_pattern !== undefined) throw badValue('topic_pattern is not supported; list the topics');
        const topics = topicsOf(ctx, namespaceOf(res), listField(body, 'topics'));
        await onInstance(req, res, (instance) => instance.subscribe(topics));
        sendV2(res, 204);
      }),
    )
    .get(
      auth,
      restRoute(async (req, res) => {
        sendV2(res, 200, { topics: await onInstance(req, res, async (instance) => [...instance.topics]) });
      }),
    )
    .delete(
      auth,
      restRoute(async (req, res) => {
        await onInstance(req, res, (instance) => instance.unsubscribe());
        sendV2(res, 204);
      }),
    )
    .all(methodNotAllowed);

  router
    .route(`${base}/assignments`)
    .post(
      auth,
      ...json,
      restRoute(async (req, res) => {
        const partitions = partitionsOf(ctx, namespaceOf(res), listField(objectBody(req.body), 'partitions'));
        await onInstance(req, res, (instance) => instance.assign(partitions));
        sendV2(res, 204);
      }),
    )
    .get(
      auth,
      restRoute(async (req, res) => {
        sendV2(res, 200, { partitions: await onInstance(req, res, async (instance) => instance.assignment()) });
      }),
    )
    .all(methodNotAllowed);

  router
    .route(`${base}/records`)
    .get(
      auth,
      restRoute(async (req, res) => {
        const timeout = queryInteger(req, 'timeout', MAX_FETCH_TIMEOUT_MS);
        const maxBytes = queryInteger(req, 'max_bytes', Number.MAX_SAFE_INTEGER);
        const records = await onInstance(req, res, async (instance) => {
          const { format, requestTimeoutMs } = instance.settings;
          if (!accepts(req, format)) {
            throw new RestError(406, REST_ERRORS.notAcceptable, `This ${format} consumer instance answers records with Accept: application/vnd.kafka.${format}.v2+json`);
          }
          return { format, list: await instance.fetch(timeout ?? requestTimeoutMs, maxBytes) };
        });
        res.status(200).type(`application/vnd.kafka.${records.format}.v2+json`).send(JSON.stringify(records.list));
      }),
    )
    .all(methodNotAllowed);

  router
    .route(`${base}/offsets`)
    .post(
      auth,
      ...json,
      restRoute(async (req, res) => {
        const body = objectBody(req.body);
        const offsets = body.offsets === undefined ? undefined : offsetsOf(ctx, namespaceOf(res), listField(body, 'offsets'));
        await onInstance(req, res, (instance) => (offsets ? instance.commitOffsets(offsets) : instance.commitPositions()));
        sendV2(res, 200, []);
      }),
    )
    .get(
      auth,
      ...json,
      restRoute(async (req, res) => {
        const partitions = partitionsOf(ctx, namespaceOf(res), listField(objectBody(req.body), 'partitions'));
        sendV2(res, 200, { offsets: await onInstance(req, res, (instance) => instance.committed(partitions)) });
      }),
    )
    .all(methodNotAllowed);

  router
    .route(`${base}/positions`)
    .post(
      auth,
      ...json,
      restRoute(async (req, res) => {
        const offsets = offsetsOf(ctx, namespaceOf(res), listField(objectBody(req.body), 'offsets'));
        await onInstance(req, res, (instance) => instance.seek(offsets));
        sendV2(res, 204);
      }),
    )
    .all(methodNotAllowed);

  for (const edge of ['beginning', 'end'] as const) {
    router
      .route(`${base}/positions/${edge}`)
      .post(
        auth,
        ...json,
        restRoute(async (req, res) => {
          const partitions = partitionsOf(ctx, namespaceOf(res), listField(objectBody(req.body), 'partitions'));
          await onInstance(req, res, (instance) => instance.seekEdge(partitions, edge));
          sendV2(res, 204);
        }),
      )
      .all(methodNotAllowed);
  }

  return router;
}

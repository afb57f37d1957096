/**
 * The fabric's own control routes under /_fabric, guarded by HTTP Basic admin:<password>:
 * counters for tests, run-time settings, failure injection, extra namespaces (to reach the v3
 * delete-user guard, which the public API cannot set up any more), and the REST data plane's
 * consumer instances (listed, or all dropped as a service redeploy drops them).
 */
import * as crypto from 'node:crypto';
import express, { type RequestHandler, type Router } from 'express';
import { createNamespace, errorMessage } from './accounts';
import type { ServiceConfig, ServiceContext } from './context';
import { FAIL_MODES, type FailMode, type FailSwitch } from './fail-switch';
import { asyncRoute, methodNotAllowed } from './http';
import type { ProduceRefusal } from './produce-admission';

const MAX_DELAY_MS = 10 * 60_000;

function sameSecret(given: string, expected: string): boolean {
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}

function basicAdmin(password: string): RequestHandler {
  return (req, res, next) => {
    const match = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
    const decoded = match ? Buffer.from(match[1], 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    if (colon >= 0 && decoded.slice(0, colon) === 'admin' && sameSecret(decoded.slice(colon + 1), password)) {
      next();
      return;
    }
    res.set('WWW-Authenticate', 'Basic realm="diaspora-fabric"').status(401).json({ error: 'Fabric control routes need HTTP Basic admin:<adminPassword>' });
  };
}

/** A delay in ms from a JSON body, or an error message naming the field. */
function delayField(body: Record<string, unknown>, field: string): number | string | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_DELAY_MS) {
    return `${field} must be an integer number of milliseconds from 0 to ${MAX_DELAY_MS}`;
  }
  return value;
}

function objectBody(body: unknown): Record<string, unknown> {
  return body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

export function controlRouter(ctx: ServiceContext, fail: FailSwitch, adminPassword: string): Router {
  const router = express.Router();
  router.get('/_fabric/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.use('/_fabric', basicAdmin(adminPassword), express.json({ limit: '10kb' }));

  router
    .route('/_fabric/stats')
    .get((_req, res) => {
      res.json({ ...ctx.stats.snapshot(), pendingKeys: ctx.keys.pendingCount(), config: ctx.config });
    })
    .delete((_req, res) => {
      ctx.stats.reset();
      res.json({ status: 'ok' });
    })
    .all(methodNotAllowed);

  router
    .route('/_fabric/config')
    .get((_req, res) => {
      res.json(ctx.config);
    })
    .post((req, res) => {
      const body = objectBody(req.body);
      const settings = Object.keys(ctx.config) as Array<keyof ServiceConfig>;
      const unknown = Object.keys(body).filter((k) => !(settings as string[]).includes(k));
      if (unknown.length > 0) {
        res.status(400).json({ error: `Unknown setting(s): ${unknown.join(', ')}; expected ${settings.join(', ')}` });
        return;
      }
      const values = settings.map((field) => [field, delayField(body, field)] as const);
      const problem = values.map(([, v]) => v).find((v): v is string => typeof v === 'string');
      if (problem) {
        res.status(400).json({ error: problem });
        return;
      }
      for (const [field, value] of values) if (typeof value === 'number') ctx.config[field] = value;
      if (typeof body.consumerIdleMs === 'number') ctx.consumers.rearm();
      res.json(ctx.config);
    })
    .all(methodNotAllowed);

  router
    .route('/_fabric/fail')
    .get((_req, res) => {
      res.json(fail.setting);
    })
    .post((req, res) => {
      const body = objectBody(req.body);
      const mode = body.mode;
      if (typeof mode !== 'string' || !(FAIL_MODES as readonly string[]).includes(mode)) {
        res.status(400).json({ error: `mode must be one of ${FAIL_MODES.join(', ')}` });
        return;
      }
      const delayMs = delayField(body, 'delayMs');
      if (typeof delayMs === 'string') {
        res.status(400).json({ error: delayMs });
        return;
      }
      const status = body.status;
      if (status !== undefined && (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599)) {
        res.status(400).json({ error: 'status must be an HTTP status code from 200 to 599' });
        return;
      }
      fail.setting = { mode: mode as FailMode, delayMs: delayMs ?? 10_000, status: status ?? 200 };
      res.json(fail.setting);
    })
    .all(methodNotAllowed);

  router
    .route('/_fabric/namespaces')
    .post(
      asyncRoute(async (req, res) => {
        const { subject, namespace } = objectBody(req.body);
        if (typeof subject !== 'string' || typeof namespace !== 'string') {
          res.status(400).json({ error: 'Body must be {"subject": <sub>, "namespace": <name>}' });
          return;
        }
        try {
          res.json(await ctx.lock.run(() => createNamespace(ctx, subject, namespace)));
        } catch (err) {
          res.status(500).json({ error: `Cannot create namespace ${namespace}: ${errorMessage(err)}` });
        }
      }),
    )
    .all(methodNotAllowed);

  router
    .route('/_fabric/consumers')
    .get((_req, res) => {
      res.json({ instances: ctx.consumers.list() });
    })
    .delete(
      asyncRoute(async (_req, res) => {
        res.json({ dropped: await ctx.consumers.dropAll() });
      }),
    )
    .all(methodNotAllowed);

  router
    .route('/_fabric/produce-refusal')
    .get((_req, res) => {
      res.json({ refusal: ctx.produceAdmission.refusal ?? null, refused: ctx.produceAdmission.refused });
    })
    .post((req, res) => {
      const refusal = produceRefusalOf(objectBody(req.body));
      if (typeof refusal === 'string') {
        res.status(400).json({ error: refusal });
        return;
      }
      ctx.produceAdmission.refusal = refusal;
      res.json({ refusal: refusal ?? null, refused: ctx.produceAdmission.refused });
    })
    .all(methodNotAllowed);

  return router;
}

/**
 * {"status": 429|503, "forMs"?, "requests"?, "retryAfterSeconds"?} (at least one of forMs and
 * requests), or {"status": null} to admit everything again; an error message otherwise.
 */
function produceRefusalOf(body: Record<string, unknown>): ProduceRefusal | undefined | string {
  const { status, forMs, requests, retryAfterSeconds } = body;
  if (status === null) return undefined;
  if (status !== 429 && status !== 503) return 'status must be 429, 503 or null';
  const duration = delayField(body, 'forMs');
  if (typeof duration === 'string') return duration;
  const count = (v: unknown): boolean => v === undefined || (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 1_000_000);
  if (!count(requests) || !count(retryAfterSeconds)) return 'requests and retryAfterSeconds must be integers from 0 to 1000000';
  if (forMs === undefined && requests === undefined) return 'give forMs (how long) or requests (how many), or both';
  return {
    status,
    ...(duration !== undefined ? { until: Date.now() + duration } : {}),
    ...(requests !== undefined ? { remaining: requests as number } : {}),
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds: retryAfterSeconds as number } : {}),
  };
}

/**
 * The Diaspora web service emulator: API v1 (the seed) and API v3 (production today) on an Express
 * app, checking tokens against Globus Auth (or its emulator) as the real service does, and turning
 * keys, topics and namespaces into SCRAM credentials, topics and ACLs on a real Kafka broker.
 * Behaviour and messages follow docs/diaspora-api.md; deliberate differences are commented where
 * they are made (v3 topic deletion checks ownership first; v1 topic names are ASCII only).
 */
import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { FabricKafkaAdmin } from './kafka-admin-api';
import { ConsumerRegistry } from './service/consumer-registry';
import { consumerRouter } from './service/consumer-routes';
import type { ServiceContext } from './service/context';
import { controlRouter } from './service/control-routes';
import { DataPlane, type BrokerLogin } from './service/data-plane';
import { FailSwitch } from './service/fail-switch';
import { errorHandler, notFound } from './service/http';
import { KeyPropagator } from './service/key-propagation';
import { ProduceAdmission } from './service/produce-admission';
import { produceRouter } from './service/produce-routes';
import { reconcileBroker } from './service/reconcile';
import { StateStore } from './service/state-store';
import { ServiceStats } from './service/stats';
import { CancellableTimers, Mutex } from './service/timers';
import { createTokenCheck } from './service/token-check';
import { v1Router } from './service/v1-routes';
import { v3Router } from './service/v3-routes';

export interface ServiceEmulatorOptions {
  /** 0 = a random free port. The emulator listens on 127.0.0.1 only. */
  port: number;
  /** Globus Auth issuer URL (the auth emulator's), used for token introspection. */
  authUrl: string;
  /** The service's confidential client: introspection credentials (HTTP Basic) and the audience. */
  resourceServer: { clientId: string; clientSecret: string };
  kafka: FabricKafkaAdmin;
  /** Comma-separated brokers, returned as "endpoint". */
  endpoint: string;
  /** Time between a key's creation and the broker accepting it. */
  keyPropagationDelayMs: number;
  /** Pause of PUT /api/v3/{ns}/{topic}/recreate between deleting and creating (default 5000, as in production). */
  recreateDelayMs?: number;
  /** Guards the /_fabric/* control routes: HTTP Basic admin:<adminPassword>. */
  adminPassword: string;
  /** Where users, keys, namespaces and topic owners are kept across restarts (JSON, mode 0600). */
  statePath?: string;
  /**
   * The broker login of the REST data plane (produce and consumer routes), a super user: the
   * service enforces namespaces itself. Without it those routes answer 503 / 50302.
   */
  dataPlane?: BrokerLogin;
  /** REST consumer instances idle this long are closed (default 300000, as in production). */
  consumerIdleMs?: number;
  /** Where background failures are reported (default: stderr). Never receives secrets. */
  log?: (line: string) => void;
}

export const DEFAULT_CONSUMER_IDLE_MS = 5 * 60_000;

export interface RunningServiceEmulator {
  url: string;
  close(): Promise<void>;
}

function checkOptions(opts: ServiceEmulatorOptions): void {
  const problems: string[] = [];
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) problems.push('port must be an integer from 0 to 65535');
  if (typeof opts.authUrl !== 'string' || !/^https?:\/\/[^/]/.test(opts.authUrl)) problems.push('authUrl must be an http(s) URL');
  if (!opts.resourceServer?.clientId || !opts.resourceServer.clientSecret) problems.push('resourceServer needs clientId and clientSecret');
  if (!opts.kafka) problems.push('kafka (a FabricKafkaAdmin) is required');
  if (typeof opts.endpoint !== 'string') problems.push('endpoint must be a string of comma-separated brokers');
  for (const field of ['keyPropagationDelayMs', 'recreateDelayMs', 'consumerIdleMs'] as const) {
    const value = opts[field];
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) problems.push(`${field} must be a non-negative integer`);
  }
  if (typeof opts.adminPassword !== 'string' || opts.adminPassword.length === 0) problems.push('adminPassword must be a non-empty string');
  if (problems.length > 0) throw new Error(`Invalid service emulator options: ${problems.join('; ')}`);
}

export async function startServiceEmulator(opts: ServiceEmulatorOptions): Promise<RunningServiceEmulator> {
  checkOptions(opts);
  const log = opts.log ?? ((line: string) => process.stderr.write(`[diaspora-service-emulator] ${line}\n`));
  const timers = new CancellableTimers();
  const keys = new KeyPropagator(opts.kafka, log);
  const dataPlane = new DataPlane(opts.dataPlane);
  const config = {
    keyPropagationDelayMs: opts.keyPropagationDelayMs,
    recreateDelayMs: opts.recreateDelayMs ?? 5_000,
    consumerIdleMs: opts.consumerIdleMs ?? DEFAULT_CONSUMER_IDLE_MS,
  };
  const ctx: ServiceContext = {
    store: StateStore.open(opts.statePath),
    kafka: opts.kafka,
    keys,
    checkToken: createTokenCheck({
      authUrl: opts.authUrl,
      clientId: opts.resourceServer.clientId,
      clientSecret: opts.resourceServer.clientSecret,
    }),
    endpoint: opts.endpoint,
    config,
    stats: new ServiceStats(),
    lock: new Mutex(),
    timers,
    log,
    dataPlane,
    produceAdmission: new ProduceAdmission(),
    consumers: new ConsumerRegistry(dataPlane, () => config.consumerIdleMs, log),
  };
  try {
    await reconcileBroker(ctx);
  } catch (err) {
    await keys.close();
    throw new Error(`Service emulator could not restore its state on the broker: ${(err as Error).message}`);
  }

  const fail = new FailSwitch();
  const app = express();
  app.disable('x-powered-by');
  app.use(controlRouter(ctx, fail, opts.adminPassword));
  app.use((req, _res, next) => {
    ctx.stats.countRequest(`${req.method} ${req.path}`);
    next();
  });
  app.use(fail.middleware(timers));
  app.use(produceRouter(ctx));
  app.use(consumerRouter(ctx));
  app.use(v1Router(ctx));
  app.use(v3Router(ctx));
  app.use(notFound);
  app.use(errorHandler(log));

  const server = await new Promise<http.Server>((resolve, reject) => {
    const listening = app.listen(opts.port, '127.0.0.1', () => resolve(listening));
    listening.once('error', reject);
  }).catch(async (err: unknown) => {
    await keys.close();
    throw new Error(`Service emulator cannot listen on 127.0.0.1:${opts.port}: ${(err as Error).message}`);
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        timers.cancelAll();
        server.closeAllConnections();
        await ctx.consumers.dropAll();
        await stopped;
        await Promise.all([keys.close(), dataPlane.close()]);
      })();
      return closing;
    },
  };
}

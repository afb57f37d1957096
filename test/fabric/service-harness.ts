/**
 * A Globus Auth emulator and a Diaspora service emulator started in-process on random ports, wired
 * to a real Kafka broker: the running fabric's when `.fabric/fabric.json` exists, otherwise the
 * development broker (DIASPORA_DEV_BROKERS, default 127.0.0.1:29092, super user admin/admin-secret).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startAuthEmulator, type RunningAuthEmulator } from '../../fabric/auth-emulator';
import { fabricFile, type FabricClient } from '../../fabric/contract';
import { createFabricKafkaAdmin } from '../../fabric/kafka-admin';
import type { FabricKafkaAdmin } from '../../fabric/kafka-admin-api';
import { startServiceEmulator, type RunningServiceEmulator, type ServiceEmulatorOptions } from '../../fabric/service-emulator';
import { DIASPORA_RESOURCE_SERVER, DIASPORA_SCOPE, SDK_NATIVE_CLIENT_ID } from '../../lib/globus/constants';
import { loadFabric } from '../fixtures/fabric';

export const KEY_DELAY_MS = 1500;

export interface HttpAnswer {
  status: number;
  contentType: string;
  text: string;
  // Parsed JSON of whatever shape the route answers; each test asserts the fields it needs.
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface CallOptions {
  subject?: string;
  token?: string;
  headers?: Record<string, string>;
  json?: unknown;
}

function brokerTarget(): { brokers: string[]; admin: { username: string; password: string } } {
  if (fs.existsSync(fabricFile())) {
    const fabric = loadFabric();
    return { brokers: fabric.brokers, admin: fabric.admin };
  }
  return {
    brokers: (process.env.DIASPORA_DEV_BROKERS ?? '127.0.0.1:29092').split(','),
    admin: { username: process.env.DIASPORA_DEV_ADMIN ?? 'admin', password: process.env.DIASPORA_DEV_ADMIN_PASSWORD ?? 'admin-secret' },
  };
}

export async function answer(response: Response): Promise<HttpAnswer> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text, body };
}

export class ServiceHarness {
  readonly clients: FabricClient[];
  readonly adminPassword = crypto.randomBytes(12).toString('hex');
  readonly brokers: string[];
  readonly adminLogin: { username: string; password: string };
  readonly resourceSecret = crypto.randomBytes(12).toString('hex');
  private readonly stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'h2b-service-'));
  readonly statePath = path.join(this.stateDir, 'service.json');
  kafkaAdmin!: FabricKafkaAdmin;
  auth!: RunningAuthEmulator;
  service!: RunningServiceEmulator;
  readonly logLines: string[] = [];

  constructor(clientCount: number) {
    const target = brokerTarget();
    this.brokers = target.brokers;
    this.adminLogin = target.admin;
    this.clients = Array.from({ length: clientCount }, () => {
      const clientId = crypto.randomUUID();
      return { clientId, clientSecret: crypto.randomBytes(16).toString('base64url'), sub: clientId };
    });
  }

  async start(): Promise<void> {
    this.kafkaAdmin = await createFabricKafkaAdmin({ brokers: this.brokers, ...this.adminLogin });
    this.auth = await startAuthEmulator({
      port: 0,
      users: [],
      clients: this.clients,
      nativeClientId: SDK_NATIVE_CLIENT_ID,
      resourceServer: { clientId: DIASPORA_RESOURCE_SERVER, clientSecret: this.resourceSecret },
      adminPassword: this.adminPassword,
    });
    await this.startService();
  }

  async startService(): Promise<void> {
    this.service = await startServiceEmulator({
      port: 0,
      authUrl: this.auth.url,
      resourceServer: { clientId: DIASPORA_RESOURCE_SERVER, clientSecret: this.resourceSecret },
      kafka: this.kafkaAdmin,
      endpoint: this.brokers.join(','),
      keyPropagationDelayMs: KEY_DELAY_MS,
      recreateDelayMs: 300,
      adminPassword: this.adminPassword,
      statePath: this.statePath,
      dataPlane: { brokers: this.brokers, ...this.adminLogin },
      log: (line) => this.logLines.push(line),
    });
  }

  /** Options of a second emulator on this harness's auth emulator and broker: no data plane, no state, no key delay. */
  separateServiceOptions(): ServiceEmulatorOptions {
    return {
      port: 0,
      authUrl: this.auth.url,
      resourceServer: { clientId: DIASPORA_RESOURCE_SERVER, clientSecret: this.resourceSecret },
      kafka: this.kafkaAdmin,
      endpoint: this.brokers.join(','),
      keyPropagationDelayMs: 0,
      adminPassword: this.adminPassword,
    };
  }

  async close(): Promise<void> {
    await this.service?.close();
    await this.auth?.close();
    await this.kafkaAdmin?.close();
    fs.rmSync(this.stateDir, { recursive: true, force: true });
  }

  /** A client-credentials access token of `client` for the scope (default: Diaspora's action_all). */
  async token(client: FabricClient, scope = DIASPORA_SCOPE): Promise<string> {
    const response = await fetch(`${this.auth.url}/v2/oauth2/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
    });
    const body = (await response.json()) as { access_token: string; other_tokens?: Array<{ access_token: string }> };
    if (!response.ok) throw new Error(`Token request failed: HTTP ${response.status} ${JSON.stringify(body)}`);
    return body.access_token;
  }

  async revokeToken(client: FabricClient, token: string): Promise<void> {
    const response = await fetch(`${this.auth.url}/v2/oauth2/token/revoke`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token }).toString(),
    });
    if (!response.ok) throw new Error(`Revocation failed: HTTP ${response.status}`);
  }

  /** Calls the service API with Subject and "Authorization: Bearer <token>" when given. */
  async call(method: string, route: string, opts: CallOptions = {}): Promise<HttpAnswer> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.subject !== undefined) headers.Subject = opts.subject;
    if (opts.token !== undefined) headers.Authorization = `Bearer ${opts.token}`;
    if (opts.json !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(`${this.service.url}${route}`, {
      method,
      headers,
      ...(opts.json !== undefined ? { body: JSON.stringify(opts.json) } : {}),
    });
    return answer(response);
  }

  /** Calls as the client, with a fresh token. */
  async callAs(client: FabricClient, method: string, route: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
    return this.call(method, route, { subject: client.sub, token: await this.token(client), headers });
  }

  async control(method: string, route: string, json?: unknown, password = this.adminPassword): Promise<HttpAnswer> {
    const response = await fetch(`${this.service.url}${route}`, {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`,
        ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
    });
    return answer(response);
  }

  userKafka(username: string, password: string): Kafka {
    return new Kafka({
      clientId: 'h2b-service-emulator-test',
      brokers: this.brokers,
      sasl: { mechanism: 'scram-sha-512', username, password },
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      connectionTimeout: 3000,
    });
  }
}

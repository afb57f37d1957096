/** A confidential client of the service harness calling the REST data plane with plain fetch. */
import * as http from 'node:http';
import type { FabricClient } from '../../fabric/contract';
import { defaultNamespace } from '../../fabric/service/names';
import type { KcatTarget } from '../fixtures/kcat';
import { answer, type HttpAnswer, type ServiceHarness } from './service-harness';

export const V2_JSON = 'application/vnd.kafka.v2+json';

export interface RestAnswer extends HttpAnswer {
  headers: Headers;
}

export interface RestCall {
  json?: unknown;
  contentType?: string;
  accept?: string;
  /** Leave out the Authorization header, or send this token instead of the user's. */
  token?: string | null;
}

export class RestUser {
  readonly namespace: string;
  private accessToken = '';

  constructor(
    private readonly harness: ServiceHarness,
    readonly client: FabricClient,
  ) {
    this.namespace = defaultNamespace(client.sub);
  }

  /** Signs in, creates the v3 user (its namespace) and the topics. */
  async init(topics: string[]): Promise<this> {
    this.accessToken = await this.harness.token(this.client);
    const user = await this.call('POST', '/api/v3/user');
    if (user.body?.status !== 'success') throw new Error(`create user failed: ${user.text}`);
    for (const topic of topics) {
      const created = await this.call('POST', `/api/v3/${this.namespace}/${topic}`);
      if (created.body?.status !== 'success') throw new Error(`create topic failed: ${created.text}`);
    }
    return this;
  }

  kafkaTopic(topic: string): string {
    return `${this.namespace}.${topic}`;
  }

  /** A route of the service, or an absolute URL (a consumer instance's base_uri). */
  async call(method: string, route: string, opts: RestCall = {}): Promise<RestAnswer> {
    const headers: Record<string, string> = { Subject: this.client.sub };
    const token = opts.token === undefined ? this.accessToken : opts.token;
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    if (opts.json !== undefined) headers['Content-Type'] = opts.contentType ?? 'application/json';
    if (opts.accept) headers.Accept = opts.accept;
    const url = /^https?:/.test(route) ? route : `${this.harness.service.url}${route}`;
    // GET /offsets carries a body, as the SDK sends it; fetch() refuses that.
    if (method === 'GET' && opts.json !== undefined) return getWithBody(url, headers, JSON.stringify(opts.json));
    const response = await fetch(url, { method, headers, ...(opts.json !== undefined ? { body: JSON.stringify(opts.json) } : {}) });
    return { ...(await answer(response)), headers: response.headers };
  }

  produce(topic: string, record: unknown): Promise<RestAnswer> {
    return this.call('POST', `/api/v3/${this.namespace}/topics/${topic}/records`, { json: record });
  }

  produceBatch(topic: string, entries: unknown[]): Promise<RestAnswer> {
    return this.call('POST', `/api/v3/${this.namespace}/topics/${topic}/records:batch`, { json: { entries } });
  }
}

export function kcatTargetOf(harness: ServiceHarness): KcatTarget {
  return { brokers: harness.brokers, username: harness.adminLogin.username, password: harness.adminLogin.password };
}

function getWithBody(url: string, headers: Record<string, string>, body: string): Promise<RestAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'GET', headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const fetchHeaders = new Headers(Object.entries(response.headers).map(([k, v]): [string, string] => [k, String(v)]));
        answer(new Response(text, { status: response.statusCode ?? 0, headers: fetchHeaders })).then(
          (parsed) => resolve({ ...parsed, headers: fetchHeaders }),
          reject,
        );
      });
    });
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * A small in-memory stand-in for the Diaspora service's REST data plane, for the REST client's
 * fast unit tests: records:batch, the v2 consumer routes (create, subscription, records, offsets,
 * delete), the 4-instance limit, and switches for the cases to provoke (dropped instances, 429 /
 * 503 answers, failing entries, a foreign base_uri). The runtime tests use the real emulator.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<{ name: string; value: string | null }>;
  timestamp: string;
}

interface Instance {
  group: string;
  name: string;
  topics: string[];
  positions: Map<string, number>;
  fetchedSinceSubscribe: boolean;
  reset: 'earliest' | 'latest';
}

export interface SeenRequest {
  method: string;
  path: string;
  accept: string;
  authorization: string;
  subject: string;
  body: unknown;
}

export class FakeRestService {
  readonly topics = new Map<string, StoredRecord[]>();
  readonly instances = new Map<string, Instance>();
  /** Committed offsets (next to read) by `group topic`. */
  readonly committed = new Map<string, number>();
  readonly requests: SeenRequest[] = [];
  /** The next produce requests get this answer instead (429 / 503 ...). */
  produceAnswers: Array<{ status: number; code: number; retryAfter?: string }> = [];
  /** Entries whose value text matches fail with 42205. */
  failEntries: RegExp | undefined;
  /** base_uri of new instances on this origin instead of the service's own. */
  foreignOrigin: string | undefined;
  /** Produce batch bodies seen (entries per request). */
  readonly batchSizes: number[] = [];
  inFlightProduce = 0;
  maxInFlightProduce = 0;
  /** Each produce answer waits this long (to let requests overlap). */
  produceDelayMs = 0;
  /**
   * Produce answers wait until this many requests are in flight at once (or 5 s went by), so a
   * client's concurrency shows however slowly the machine builds its requests.
   */
  holdProduceUntilInFlight = 0;
  private readonly heldProduce: Array<() => void> = [];
  instanceLimit = 4;
  /** Most records one fetch returns. */
  maxRecordsPerFetch = 100;
  private server: http.Server | undefined;
  url = '';

  constructor(readonly namespace: string) {}

  private holdProduce(): Promise<void> {
    if (this.inFlightProduce >= this.holdProduceUntilInFlight) {
      this.heldProduce.splice(0).forEach((release) => release());
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(release, 5000);
      function release(): void {
        clearTimeout(timer);
        resolve();
      }
      this.heldProduce.push(release);
    });
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** What a service restart does: every instance is gone. */
  dropAllInstances(): void {
    this.instances.clear();
  }

  topic(name: string): StoredRecord[] {
    const full = `${this.namespace}.${name}`;
    const records = this.topics.get(full) ?? [];
    this.topics.set(full, records);
    return records;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body: unknown = text ? JSON.parse(text) : undefined;
    const url = new URL(req.url ?? '/', this.url);
    this.requests.push({
      method: req.method ?? '',
      path: url.pathname,
      accept: String(req.headers.accept ?? ''),
      authorization: String(req.headers.authorization ?? ''),
      subject: String(req.headers.subject ?? ''),
      body,
    });
    const send = (status: number, answer?: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(answer === undefined ? '' : JSON.stringify(answer));
    };
    const fail = (status: number, code: number, message: string, headers?: Record<string, string>): void => send(status, { error_code: code, message }, headers);
    const p = url.pathname;

    if (req.method === 'GET' && p === '/api/v3/namespace') return send(200, { status: 'success', namespaces: { [this.namespace]: [] } });
    if (req.method === 'POST' && p === '/api/v3/user') return send(200, { status: 'success', message: 'ok' });

    const produce = /^\/api\/v3\/([^/]+)\/topics\/([^/]+)\/records:batch$/.exec(p);
    if (req.method === 'POST' && produce) {
      this.inFlightProduce++;
      this.maxInFlightProduce = Math.max(this.maxInFlightProduce, this.inFlightProduce);
      try {
        if (this.produceDelayMs) await new Promise((r) => setTimeout(r, this.produceDelayMs));
        if (this.holdProduceUntilInFlight > 0) await this.holdProduce();
        const forced = this.produceAnswers.shift();
        if (forced) return fail(forced.status, forced.code, 'forced', forced.retryAfter ? { 'retry-after': forced.retryAfter } : {});
        const [ns, topic] = [decodeURIComponent(produce[1]), decodeURIComponent(produce[2])];
        if (ns !== this.namespace) return fail(403, 40301, `namespace ${ns} is not yours`);
        const records = this.topics.get(`${ns}.${topic}`);
        if (!records) return fail(404, 40401, `topic ${topic} not found`);
        const entries = (body as { entries: Array<Record<string, unknown>> }).entries;
        this.batchSizes.push(entries.length);
        const successes: unknown[] = [];
        const failures: unknown[] = [];
        for (const e of entries) {
          const value = part(e.value);
          if (this.failEntries && value && this.failEntries.test(value.toString('utf8'))) {
            failures.push({ id: e.id, error_code: 42205, message: 'value refused' });
            continue;
          }
          const timestamp = typeof e.timestamp === 'string' ? e.timestamp : new Date().toISOString();
          if (!/[+-]\d\d:\d\d$|Z$/.test(timestamp)) {
            failures.push({ id: e.id, error_code: 40005, message: 'timestamp needs a UTC offset' });
            continue;
          }
          records.push({ key: part(e.key), value, headers: (e.headers as StoredRecord['headers']) ?? [], timestamp });
          successes.push({ id: e.id, topic_name: topic, partition_id: 0, offset: records.length - 1, timestamp });
        }
        return send(207, { successes, failures });
      } finally {
        this.inFlightProduce--;
      }
    }

    const create = /^\/api\/v2\/consumers\/([^/]+)$/.exec(p);
    if (req.method === 'POST' && create) {
      const group = decodeURIComponent(create[1]);
      const given = body as { name?: string; format?: string; 'auto.offset.reset'?: string };
      const name = given.name ?? `i${this.instances.size}`;
      const id = `${group}/${name}`;
      if (this.instances.has(id)) return fail(409, 40902, 'Consumer instance with the specified name already exists.');
      if (this.instances.size >= this.instanceLimit) return fail(409, 40904, `at most ${this.instanceLimit} consumer instances per user`);
      this.instances.set(id, { group, name, topics: [], positions: new Map(), fetchedSinceSubscribe: false, reset: given['auto.offset.reset'] === 'earliest' ? 'earliest' : 'latest' });
      const origin = this.foreignOrigin ?? this.url;
      return send(200, { instance_id: name, base_uri: `${origin}/api/v2/consumers/${create[1]}/instances/${encodeURIComponent(name)}` });
    }

    const inst = /^\/api\/v2\/consumers\/([^/]+)\/instances\/([^/]+)(\/.*)?$/.exec(p);
    if (inst) {
      const id = `${decodeURIComponent(inst[1])}/${decodeURIComponent(inst[2])}`;
      const instance = this.instances.get(id);
      if (!instance) return fail(404, 40403, 'Consumer instance not found');
      const rest = inst[3] ?? '';
      if (req.method === 'DELETE' && rest === '') {
        this.instances.delete(id);
        return send(204);
      }
      if (rest === '/subscription') {
        if (req.method === 'POST') {
          instance.topics = (body as { topics: string[] }).topics;
          instance.fetchedSinceSubscribe = false;
          return send(204);
        }
        if (req.method === 'DELETE') {
          instance.topics = [];
          return send(204);
        }
      }
      if (req.method === 'GET' && rest === '/records') {
        if (req.headers.accept !== 'application/vnd.kafka.binary.v2+json') return fail(406, 40601, 'Accept must be the binary format');
        const out: unknown[] = [];
        for (const topic of instance.topics) {
          const records = this.topics.get(`${this.namespace}.${topic}`) ?? [];
          const committed = this.committed.get(`${instance.group} ${topic}`);
          let at = instance.positions.get(topic) ?? committed ?? (instance.reset === 'earliest' ? 0 : records.length);
          for (; at < records.length && out.length < this.maxRecordsPerFetch; at++) {
            const r = records[at];
            out.push({ topic, partition: 0, offset: at, key: r.key?.toString('base64') ?? null, value: r.value?.toString('base64') ?? null, headers: r.headers });
          }
          instance.positions.set(topic, at);
        }
        instance.fetchedSinceSubscribe = true;
        if (out.length === 0) await new Promise((r) => setTimeout(r, 20));
        return send(200, out);
      }
      if (req.method === 'POST' && rest === '/offsets') {
        const offsets = (body as { offsets?: Array<{ topic: string; partition: number; offset: number }> } | undefined)?.offsets;
        if (offsets && !instance.fetchedSinceSubscribe) return fail(409, 40903, 'no partitions assigned yet');
        for (const o of offsets ?? []) this.committed.set(`${instance.group} ${o.topic}`, o.offset + 1);
        return send(200, []);
      }
    }
    return fail(404, 40400, `no route ${req.method} ${p}`);
  }
}

function part(given: unknown): Buffer | null {
  if (given === undefined || given === null) return null;
  const { type, data } = given as { type: string; data: unknown };
  if (type === 'BINARY') return Buffer.from(String(data), 'base64');
  if (type === 'STRING') return Buffer.from(String(data), 'utf8');
  return Buffer.from(JSON.stringify(data), 'utf8');
}

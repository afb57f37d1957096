import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { startServiceEmulator } from '../../fabric/service-emulator';
import { MAX_BATCH_ENTRIES } from '../../fabric/service/produce-routes';
import { kcatConsumeAll } from '../fixtures/kcat';
import { ServiceHarness } from './service-harness';
import { RestUser, kcatTargetOf } from './rest-user';

const b64 = (text: string): string => Buffer.from(text).toString('base64');

describe('service emulator: REST produce routes against the real broker', function () {
  this.timeout(60_000);
  const harness = new ServiceHarness(2);
  let alice: RestUser;
  let bob: RestUser;
  const topic = `rp-${crypto.randomBytes(3).toString('hex')}`;

  before(async () => {
    await harness.start();
    alice = await new RestUser(harness, harness.clients[0]).init([topic, `${topic}-b`]);
    bob = await new RestUser(harness, harness.clients[1]).init([topic]);
  });
  after(async () => {
    for (const user of [alice, bob]) {
      if (!user) continue;
      for (const t of [topic, `${topic}-b`]) await harness.kafkaAdmin.deleteTopic(user.kafkaTopic(t)).catch(() => undefined);
    }
    await harness.close();
  });

  it('writes one record with compact JSON, a STRING key, headers and the given timestamp, once acknowledged', async function () {
    const answer = await alice.produce(topic, {
      key: { type: 'STRING', data: 'job-42' },
      value: { type: 'JSON', data: { step: 1, loss: 0.52 } },
      headers: [{ name: 'trace', value: b64('abc') }],
      timestamp: '2026-10-26T15:04:05+02:00',
    });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.body, { topic_name: topic, partition_id: 0, offset: 0, timestamp: '2026-10-26T13:04:05.000Z' });
    // acks=all: the record is on the broker when the answer comes.
    const [record] = await kcatConsumeAll(kcatTargetOf(harness), alice.kafkaTopic(topic));
    assert.equal(record.key, 'job-42');
    assert.equal(record.payload, '{"step":1,"loss":0.52}');
    assert.deepEqual(record.headers, { trace: 'abc' });
  });

  it('writes a JSON string as its 6 quoted bytes, BINARY as the bytes given, and a value-only or key-only record', async function () {
    const binary = Buffer.from('ключ\u0001', 'utf8');
    const answers = [
      await alice.produce(`${topic}-b`, { value: { type: 'JSON', data: 'done' } }),
      await alice.produce(`${topic}-b`, { key: { type: 'BINARY', data: binary.toString('base64') }, value: { type: 'STRING', data: 'plain text' } }),
      await alice.produce(`${topic}-b`, { key: { type: 'JSON', data: 42 } }),
    ];
    assert.deepEqual(answers.map((a) => [a.status, a.body.offset]), [[200, 0], [200, 1], [200, 2]]);
    const records = await kcatConsumeAll(kcatTargetOf(harness), alice.kafkaTopic(`${topic}-b`));
    assert.equal(records[0].payload, '"done"');
    assert.equal(records[0].key, null);
    assert.equal(records[1].payload, 'plain text');
    assert.equal(records[1].key, binary.toString('utf8'));
    assert.equal(records[2].key, '42');
    assert.equal(records[2].payload, null);
  });

  it('refuses a timestamp without a UTC offset with 40005, and other bad records with 40001', async function () {
    const local = await alice.produce(topic, { value: { type: 'JSON', data: 1 }, timestamp: '2026-10-26T15:04:05' });
    assert.equal(local.status, 400);
    assert.equal(local.body.error_code, 40005);
    assert.match(local.body.message, /no UTC offset/);
    const cases: unknown[] = [
      {},
      { value: { type: 'XML', data: '<a/>' } },
      { value: { type: 'BINARY', data: 'not base64!' } },
      { value: { type: 'STRING', data: 5 } },
      { value: { type: 'JSON' } },
      { value: { type: 'JSON', data: 1 }, headers: [{ value: b64('x') }] },
      { value: { type: 'JSON', data: 1 }, colour: 'blue' },
    ];
    for (const record of cases) {
      const answer = await alice.produce(topic, record);
      assert.equal(answer.status, 400, JSON.stringify(record));
      assert.equal(answer.body.error_code, 40001, JSON.stringify(record));
    }
    const malformed = await fetch(`${harness.service.url}/api/v3/${alice.namespace}/topics/${topic}/records`, {
      method: 'POST',
      headers: { Subject: alice.client.sub, Authorization: `Bearer ${await harness.token(alice.client)}`, 'Content-Type': 'application/json' },
      body: '{"value": ',
    });
    assert.equal(malformed.status, 400);
    assert.equal(((await malformed.json()) as { error_code: number }).error_code, 40001);
    const partition = await alice.produce(topic, { value: { type: 'JSON', data: 1 }, partition_id: 3 });
    assert.deepEqual([partition.status, partition.body.error_code], [404, 40402]);
  });

  it('accepts only the caller\'s own namespace and registered topics, with a valid token', async function () {
    const foreign = await alice.call('POST', `/api/v3/${bob.namespace}/topics/${topic}/records`, { json: { value: { type: 'JSON', data: 1 } } });
    assert.deepEqual([foreign.status, foreign.body.error_code], [403, 40301]);
    const missing = await alice.produce('never-created', { value: { type: 'JSON', data: 1 } });
    assert.deepEqual([missing.status, missing.body.error_code], [404, 40401]);
    const anonymous = await alice.call('POST', `/api/v3/${alice.namespace}/topics/${topic}/records`, { json: { value: { type: 'JSON', data: 1 } }, token: null });
    assert.deepEqual([anonymous.status, anonymous.body.error_code], [401, 40101]);
    const forged = await alice.produce(topic, { value: { type: 'JSON', data: 1 } }).then(() =>
      alice.call('POST', `/api/v3/${alice.namespace}/topics/${topic}/records`, { json: { value: { type: 'JSON', data: 1 } }, token: crypto.randomBytes(40).toString('hex') }),
    );
    assert.deepEqual(forged.body, { error_code: 40101, message: 'Token is inactive.' });
    const get = await alice.call('GET', `/api/v3/${alice.namespace}/topics/${topic}/records`);
    assert.equal(get.status, 405);
  });

  it('answers a batch with 207: each entry succeeds or fails on its own, ids kept, offsets in order', async function () {
    const before = (await kcatConsumeAll(kcatTargetOf(harness), bob.kafkaTopic(topic))).length;
    const answer = await bob.produceBatch(topic, [
      { id: 'a-1', value: { type: 'JSON', data: { n: 1 } } },
      { id: 'bad_ts', value: { type: 'JSON', data: { n: 2 } }, timestamp: '2026-01-01 10:00:00' },
      { id: 'c', key: { type: 'STRING', data: 'k' }, value: { type: 'JSON', data: { n: 3 } } },
    ]);
    assert.equal(answer.status, 207, answer.text);
    assert.deepEqual(answer.body.successes.map((s: { id: string; offset: number; partition_id: number; topic_name: string }) => [s.id, s.offset - before, s.partition_id, s.topic_name]), [
      ['a-1', 0, 0, topic],
      ['c', 1, 0, topic],
    ]);
    assert.equal(answer.body.failures.length, 1);
    assert.equal(answer.body.failures[0].id, 'bad_ts');
    assert.equal(answer.body.failures[0].error_code, 40005);
    const records = await kcatConsumeAll(kcatTargetOf(harness), bob.kafkaTopic(topic));
    assert.deepEqual(records.slice(before).map((r) => r.payload), ['{"n":1}', '{"n":3}']);
  });

  it('takes the colon of records:batch percent-encoded too', async function () {
    const answer = await bob.call('POST', `/api/v3/${bob.namespace}/topics/${topic}/records%3Abatch`, { json: { entries: [{ id: '1', value: { type: 'JSON', data: 1 } }] } });
    assert.equal(answer.status, 207, answer.text);
    assert.equal(answer.body.successes.length, 1);
  });

  it('refuses a whole batch that is empty, too long, or has a bad or repeated id (40003)', async function () {
    const entry = (id: unknown): object => ({ id, value: { type: 'JSON', data: 1 } });
    const batches: unknown[][] = [
      [],
      Array.from({ length: MAX_BATCH_ENTRIES + 1 }, (_, i) => entry(String(i))),
      [entry('x'), entry('x')],
      [entry('has space')],
      [entry('a'.repeat(81))],
      [entry(7)],
      [{ value: { type: 'JSON', data: 1 } }],
    ];
    for (const entries of batches) {
      const answer = await bob.produceBatch(topic, entries);
      assert.equal(answer.status, 400, answer.text);
      assert.equal(answer.body.error_code, 40003);
    }
    const full = await bob.produceBatch(topic, Array.from({ length: MAX_BATCH_ENTRIES }, (_, i) => entry(`e${i}`)));
    assert.equal(full.status, 207);
    assert.equal(full.body.successes.length, MAX_BATCH_ENTRIES);
  });

  it('answers 429 with Retry-After and 503 before writing anything while told to, then admits again', async function () {
    const count = async (): Promise<number> => (await kcatConsumeAll(kcatTargetOf(harness), alice.kafkaTopic(`${topic}-b`))).length;
    const start = await count();
    const set = await harness.control('POST', '/_fabric/produce-refusal', { status: 429, requests: 2, retryAfterSeconds: 1 });
    assert.equal(set.status, 200, set.text);
    for (let i = 0; i < 2; i += 1) {
      const refused = await alice.produce(`${topic}-b`, { value: { type: 'JSON', data: i } });
      assert.deepEqual([refused.status, refused.body.error_code, refused.headers.get('retry-after')], [429, 42901, '1']);
    }
    const batchRefused = await harness.control('POST', '/_fabric/produce-refusal', { status: 503, forMs: 60_000 });
    assert.equal(batchRefused.status, 200);
    const unavailable = await alice.produceBatch(`${topic}-b`, [{ id: '1', value: { type: 'JSON', data: 1 } }]);
    assert.deepEqual([unavailable.status, unavailable.body.error_code], [503, 50302]);
    assert.equal(await count(), start);
    await harness.control('POST', '/_fabric/produce-refusal', { status: null });
    assert.equal((await alice.produce(`${topic}-b`, { value: { type: 'JSON', data: 'ok' } })).status, 200);
    assert.equal(await count(), start + 1);
    const stats = await harness.control('GET', '/_fabric/produce-refusal');
    assert.deepEqual(stats.body, { refusal: null, refused: 3 });
    const bad = await harness.control('POST', '/_fabric/produce-refusal', { status: 500, forMs: 10 });
    assert.equal(bad.status, 400);
  });

  it('is slowed down like every route by the slow fail mode', async function () {
    await harness.control('POST', '/_fabric/fail', { mode: 'slow', delayMs: 400 });
    try {
      const started = Date.now();
      const answer = await alice.produce(topic, { value: { type: 'JSON', data: 'slow' } });
      assert.equal(answer.status, 200);
      assert.ok(Date.now() - started >= 400, `answered after ${Date.now() - started} ms`);
    } finally {
      await harness.control('POST', '/_fabric/fail', { mode: 'none' });
    }
  });

  it('refuses a body above 16 MB with 413 / 41301', async function () {
    const big = 'x'.repeat(17 * 1024 * 1024);
    const answer = await alice.produce(topic, { value: { type: 'STRING', data: big } });
    assert.deepEqual([answer.status, answer.body.error_code], [413, 41301]);
  });

  it('answers 503 / 50302 from an emulator that has no broker login for its data plane', async function () {
    const service = await startServiceEmulator({
      ...harness.separateServiceOptions(),
      // The harness's state (read only here): the namespace is known, so only the broker is missing.
      statePath: harness.statePath,
      log: () => undefined,
    });
    try {
      const headers = { Subject: alice.client.sub, Authorization: `Bearer ${await harness.token(alice.client)}`, 'Content-Type': 'application/json' };
      const produced = await fetch(`${service.url}/api/v3/${alice.namespace}/topics/${topic}/records`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ value: { type: 'JSON', data: 1 } }),
      });
      assert.equal(produced.status, 503);
      assert.equal(((await produced.json()) as { error_code: number }).error_code, 50302);
      const created = await fetch(`${service.url}/api/v2/consumers/g-offline`, { method: 'POST', headers, body: '{}' });
      const { base_uri: base } = (await created.json()) as { base_uri: string };
      await fetch(`${base}/subscription`, { method: 'POST', headers, body: JSON.stringify({ topics: [topic] }) });
      const fetched = await fetch(`${base}/records?timeout=1000`, { headers: { ...headers, Accept: 'application/vnd.kafka.binary.v2+json' } });
      assert.equal(fetched.status, 503);
      assert.equal(((await fetched.json()) as { error_code: number }).error_code, 50302);
    } finally {
      await service.close();
    }
  });

  it('keeps producing to other topics after a topic it wrote to was deleted', async function () {
    const doomed = `${topic}-gone`;
    assert.equal((await alice.call('POST', `/api/v3/${alice.namespace}/${doomed}`)).body.status, 'success');
    assert.equal((await alice.produce(doomed, { value: { type: 'JSON', data: 1 } })).status, 200);
    assert.equal((await alice.call('DELETE', `/api/v3/${alice.namespace}/${doomed}`)).body.status, 'success');
    const started = Date.now();
    const answer = await alice.produce(topic, { value: { type: 'JSON', data: 'after delete' } });
    assert.equal(answer.status, 200, answer.text);
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    const gone = await alice.produce(doomed, { value: { type: 'JSON', data: 1 } });
    assert.deepEqual([gone.status, gone.body.error_code], [404, 40401]);
  });
});

import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { INSTANCES_PER_USER } from '../../fabric/service/consumer-registry';
import type { RestRecord } from '../../fabric/service/rest-records';
import { kcatProduce } from '../fixtures/kcat';
import { ServiceHarness } from './service-harness';
import { RestUser, V2_JSON, kcatTargetOf, type RestAnswer } from './rest-user';

const BINARY = 'application/vnd.kafka.binary.v2+json';
const JSON_RECORDS = 'application/vnd.kafka.json.v2+json';


describe('service emulator: REST consumer routes against the real broker', function () {
  this.timeout(90_000);
  const harness = new ServiceHarness(2);
  let alice: RestUser;
  let bob: RestUser;
  const tag = crypto.randomBytes(3).toString('hex');
  const topic = `rc-${tag}`;
  const other = `rc-${tag}-2`;
  const created: string[] = [];

  async function createInstance(user: RestUser, group: string, settings: object = {}): Promise<string> {
    const answer = await user.call('POST', `/api/v2/consumers/${group}`, { json: settings, contentType: V2_JSON });
    assert.equal(answer.status, 200, answer.text);
    created.push(answer.body.base_uri as string);
    return answer.body.base_uri as string;
  }

  const post = (user: RestUser, url: string, json?: unknown): Promise<RestAnswer> =>
    user.call('POST', url, json === undefined ? {} : { json, contentType: V2_JSON });

  async function fetchRecords(user: RestUser, base: string, accept = BINARY, query = 'timeout=1000'): Promise<RestAnswer> {
    return user.call('GET', `${base}/records?${query}`, { accept });
  }

  /** Fetches until `count` records came (the first fetch after a subscribe may return nothing). */
  async function fetchUntil(user: RestUser, base: string, count: number, accept = BINARY): Promise<RestRecord[]> {
    const records: RestRecord[] = [];
    for (let i = 0; i < 30 && records.length < count; i += 1) {
      const answer = await fetchRecords(user, base, accept);
      assert.equal(answer.status, 200, answer.text);
      records.push(...(answer.body as RestRecord[]));
    }
    assert.equal(records.length, count, `expected ${count} records, got ${records.length}`);
    return records;
  }

  before(async () => {
    await harness.start();
    alice = await new RestUser(harness, harness.clients[0]).init([topic, other]);
    bob = await new RestUser(harness, harness.clients[1]).init([topic]);
    await kcatProduce(kcatTargetOf(harness), alice.kafkaTopic(topic), [
      { key: 'k0', value: '{"n":0}' },
      { key: 'k1', value: 'plain text' },
      { key: '42', value: '{"n":2}' },
    ], { compression: 'none', headers: { trace: 'abc' } });
  });
  afterEach(async () => {
    await harness.control('DELETE', '/_fabric/consumers');
    await harness.control('POST', '/_fabric/config', { consumerIdleMs: 300_000 });
  });
  after(async () => {
    for (const user of [alice, bob]) {
      if (!user) continue;
      for (const t of [topic, other]) await harness.kafkaAdmin.deleteTopic(user.kafkaTopic(t)).catch(() => undefined);
    }
    await harness.close();
  });

  it('creates an instance with the listed settings and gives its absolute base_uri on the service origin', async function () {
    const answer = await alice.call('POST', '/api/v2/consumers/g-create', {
      json: { name: 'first', format: 'json', 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false', 'fetch.min.bytes': 1, 'consumer.request.timeout.ms': 1000 },
      contentType: V2_JSON,
    });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.body, { instance_id: 'first', base_uri: `${harness.service.url}/api/v2/consumers/g-create/instances/first` });
    const generated = await createInstance(alice, 'g-create');
    assert.match(generated, /\/instances\/rest-consumer-[0-9a-f-]{36}$/);
    for (const settings of [{ format: 'avro' }, { 'auto.offset.reset': 'smallest' }, { 'auto.commit.enable': 'yes' }, { 'fetch.min.bytes': -1 }, { colour: 'blue' }, { name: 'has space' }]) {
      const refused = await alice.call('POST', '/api/v2/consumers/g-create', { json: settings, contentType: V2_JSON });
      assert.deepEqual([refused.status, refused.body.error_code], [422, 42204], JSON.stringify(settings));
    }
    const anonymous = await alice.call('POST', '/api/v2/consumers/g-create', { json: {}, token: null });
    assert.deepEqual([anonymous.status, anonymous.body.error_code], [401, 40101]);
  });

  it('subscribes, fetches a binary instance\'s records in base64 with headers, commits positions and reads them back', async function () {
    const base = await createInstance(alice, 'g-binary', { format: 'binary', 'auto.offset.reset': 'earliest' });
    assert.equal((await post(alice, `${base}/subscription`, { topics: [topic] })).status, 204);
    const subscription = await alice.call('GET', `${base}/subscription`);
    assert.deepEqual(subscription.body, { topics: [topic] });
    const records = await fetchUntil(alice, base, 3);
    assert.deepEqual(records.map((r) => [r.topic, r.partition, r.offset, Buffer.from(r.key as string, 'base64').toString(), Buffer.from(r.value as string, 'base64').toString()]), [
      [topic, 0, 0, 'k0', '{"n":0}'],
      [topic, 0, 1, 'k1', 'plain text'],
      [topic, 0, 2, '42', '{"n":2}'],
    ]);
    assert.deepEqual(records[0].headers, [{ name: 'trace', value: Buffer.from('abc').toString('base64') }]);
    assert.deepEqual((await alice.call('GET', `${base}/assignments`)).body, { partitions: [{ topic, partition: 0 }] });

    const partitions = { partitions: [{ topic, partition: 0 }] };
    assert.deepEqual((await alice.call('GET', `${base}/offsets`, { json: partitions, contentType: V2_JSON })).body, { offsets: [] });
    const commit = await post(alice, `${base}/offsets`);
    assert.deepEqual([commit.status, commit.body], [200, []]);
    assert.deepEqual((await alice.call('GET', `${base}/offsets`, { json: partitions, contentType: V2_JSON })).body, { offsets: [{ topic, partition: 0, offset: 3 }] });
    // Explicit offsets: the last record processed; the group commits the one after.
    assert.equal((await post(alice, `${base}/offsets`, { offsets: [{ topic, partition: 0, offset: 0 }] })).status, 200);
    assert.deepEqual((await alice.call('GET', `${base}/offsets`, { json: partitions, contentType: V2_JSON })).body, { offsets: [{ topic, partition: 0, offset: 1 }] });
    assert.equal((await alice.call('DELETE', base)).status, 204);
    const gone = await fetchRecords(alice, base);
    assert.deepEqual([gone.status, gone.body.error_code], [404, 40403]);
  });

  it('gives a json instance JSON values and other text as strings, and wants the matching Accept (406)', async function () {
    const base = await createInstance(alice, 'g-json', { format: 'json', 'auto.offset.reset': 'earliest' });
    await post(alice, `${base}/subscription`, { topics: [topic] });
    const wrong = await fetchRecords(alice, base, BINARY);
    assert.deepEqual([wrong.status, wrong.body.error_code], [406, 40601]);
    const none = await alice.call('GET', `${base}/records`);
    assert.equal(none.status, 406);
    const records = await fetchUntil(alice, base, 3, JSON_RECORDS);
    assert.deepEqual(records.map((r) => [r.key, r.value]), [['k0', { n: 0 }], ['k1', 'plain text'], [42, { n: 2 }]]);
    const answer = await fetchRecords(alice, base, JSON_RECORDS, 'timeout=100');
    assert.equal(answer.contentType.split(';')[0], JSON_RECORDS);
  });

  it('honours max_bytes (the first record always comes) and refuses a timeout above 30000 ms', async function () {
    const base = await createInstance(alice, 'g-bytes', { 'auto.offset.reset': 'earliest' });
    await post(alice, `${base}/subscription`, { topics: [topic] });
    let first: RestRecord[] = [];
    for (let i = 0; i < 20 && first.length === 0; i += 1) first = (await fetchRecords(alice, base, BINARY, 'timeout=1000&max_bytes=1')).body;
    assert.deepEqual(first.map((r) => r.offset), [0]);
    const rest = await fetchRecords(alice, base, BINARY, 'timeout=1000&max_bytes=1000');
    assert.deepEqual((rest.body as RestRecord[]).map((r) => r.offset), [1, 2]);
    const long = await fetchRecords(alice, base, BINARY, 'timeout=30001');
    assert.deepEqual([long.status, long.body.error_code], [422, 42204]);
    const started = Date.now();
    const empty = await fetchRecords(alice, base, BINARY, 'timeout=700');
    assert.deepEqual(empty.body, []);
    assert.ok(Date.now() - started >= 600, `an empty fetch waited ${Date.now() - started} ms of its 700 ms timeout`);
  });

  it('seeks to an offset, to the beginning and to the end of assigned partitions', async function () {
    const base = await createInstance(alice, 'g-seek', { 'auto.offset.reset': 'earliest' });
    await post(alice, `${base}/subscription`, { topics: [topic] });
    const early = await post(alice, `${base}/positions`, { offsets: [{ topic, partition: 0, offset: 1 }] });
    assert.deepEqual([early.status, early.body.error_code], [409, 40903], 'a subscribed instance has no partitions before its first fetch');
    await fetchUntil(alice, base, 3);
    assert.equal((await post(alice, `${base}/positions`, { offsets: [{ topic, partition: 0, offset: 1 }] })).status, 204);
    assert.deepEqual((await fetchUntil(alice, base, 2)).map((r) => r.offset), [1, 2]);
    assert.equal((await post(alice, `${base}/positions/beginning`, { partitions: [] })).status, 204);
    assert.deepEqual((await fetchUntil(alice, base, 3)).map((r) => r.offset), [0, 1, 2]);
    assert.equal((await post(alice, `${base}/positions/end`, { partitions: [{ topic, partition: 0 }] })).status, 204);
    assert.deepEqual((await fetchRecords(alice, base, BINARY, 'timeout=500')).body, []);
    const partition = await post(alice, `${base}/positions/end`, { partitions: [{ topic, partition: 1 }] });
    assert.deepEqual([partition.status, partition.body.error_code], [404, 40402]);
  });

  it('assigns partitions by hand: starts at the group\'s commit and commits to the group', async function () {
    const setup = await createInstance(alice, 'g-assign', { 'auto.offset.reset': 'earliest' });
    await post(alice, `${setup}/subscription`, { topics: [topic] });
    await fetchUntil(alice, setup, 3);
    await post(alice, `${setup}/offsets`, { offsets: [{ topic, partition: 0, offset: 0 }] });
    await alice.call('DELETE', setup);

    const base = await createInstance(alice, 'g-assign');
    assert.equal((await post(alice, `${base}/assignments`, { partitions: [{ topic, partition: 0 }] })).status, 204);
    assert.deepEqual((await alice.call('GET', `${base}/assignments`)).body, { partitions: [{ topic, partition: 0 }] });
    assert.deepEqual((await fetchUntil(alice, base, 2)).map((r) => r.offset), [1, 2]);
    assert.equal((await post(alice, `${base}/offsets`)).status, 200);
    const partitions = { partitions: [{ topic, partition: 0 }] };
    assert.deepEqual((await alice.call('GET', `${base}/offsets`, { json: partitions, contentType: V2_JSON })).body, { offsets: [{ topic, partition: 0, offset: 3 }] });
    const notAssigned = await post(alice, `${base}/positions`, { offsets: [{ topic: other, partition: 0, offset: 0 }] });
    assert.deepEqual([notAssigned.status, notAssigned.body.error_code], [409, 40903]);
  });

  it('unsubscribes, and refuses topics outside the caller\'s namespace (40401)', async function () {
    const base = await createInstance(alice, 'g-unsub');
    await post(alice, `${base}/subscription`, { topics: [topic, other] });
    assert.equal((await alice.call('DELETE', `${base}/subscription`)).status, 204);
    assert.deepEqual((await alice.call('GET', `${base}/subscription`)).body, { topics: [] });
    const fetched = await fetchRecords(alice, base);
    assert.deepEqual([fetched.status, fetched.body.error_code], [409, 40903]);
    const missing = await post(alice, `${base}/subscription`, { topics: ['never-created'] });
    assert.deepEqual([missing.status, missing.body.error_code], [404, 40401]);
    // Bob has a topic of the same name in his own namespace only: Alice's instance is not Bob's.
    const bobs = await bob.call('GET', `${base}/subscription`);
    assert.deepEqual([bobs.status, bobs.body.error_code], [404, 40403]);
  });

  it('refuses a duplicate name (40902) and a fifth instance of one user (40904), not another user\'s', async function () {
    await createInstance(alice, 'g-limit', { name: 'one' });
    const duplicate = await alice.call('POST', '/api/v2/consumers/g-limit', { json: { name: 'one' }, contentType: V2_JSON });
    assert.deepEqual([duplicate.status, duplicate.body.error_code], [409, 40902]);
    for (let i = 1; i < INSTANCES_PER_USER; i += 1) await createInstance(alice, 'g-limit');
    const fifth = await alice.call('POST', '/api/v2/consumers/g-limit', { json: {}, contentType: V2_JSON });
    assert.deepEqual([fifth.status, fifth.body.error_code], [409, 40904]);
    assert.match(fifth.body.message, /4 instances/);
    await createInstance(bob, 'g-limit', { name: 'one' });
  });

  it('answers 40403 for every instance after they are all dropped (a service redeploy) and after an idle close', async function () {
    const base = await createInstance(alice, 'g-drop', { 'auto.offset.reset': 'earliest' });
    await post(alice, `${base}/subscription`, { topics: [topic] });
    await fetchUntil(alice, base, 3);
    const listed = await harness.control('GET', '/_fabric/consumers');
    assert.equal(listed.body.instances.length, 1);
    assert.deepEqual((await harness.control('DELETE', '/_fabric/consumers')).body, { dropped: 1 });
    for (const [method, route] of [['GET', '/records'], ['GET', '/subscription'], ['POST', '/offsets'], ['DELETE', '']] as const) {
      const answer = await alice.call(method, `${base}${route}`, route === '/records' ? { accept: BINARY } : {});
      assert.deepEqual([answer.status, answer.body.error_code], [404, 40403], `${method} ${route}`);
    }
    // Re-created with the same name, subscribed, but not yet fetched: explicit offsets are refused.
    const again = await createInstance(alice, 'g-drop', { name: base.split('/').pop(), 'auto.offset.reset': 'earliest' });
    assert.equal(again, base);
    await post(alice, `${base}/subscription`, { topics: [topic] });
    const early = await post(alice, `${base}/offsets`, { offsets: [{ topic, partition: 0, offset: 1 }] });
    assert.deepEqual([early.status, early.body.error_code], [409, 40903]);

    await harness.control('POST', '/_fabric/config', { consumerIdleMs: 300 });
    const idle = await createInstance(alice, 'g-idle');
    await new Promise((resolve) => setTimeout(resolve, 800));
    const closed = await alice.call('GET', `${idle}/subscription`);
    assert.deepEqual([closed.status, closed.body.error_code], [404, 40403]);
    assert.ok(harness.logLines.some((line) => /closed after 300 ms idle/.test(line)));
  });

  it('a long fetch keeps its instance open past the idle time, and DELETE cuts a waiting fetch short', async function () {
    await harness.control('POST', '/_fabric/config', { consumerIdleMs: 500 });
    const base = await createInstance(alice, 'g-busy');
    await post(alice, `${base}/subscription`, { topics: [other] });
    const waited = await fetchRecords(alice, base, BINARY, 'timeout=1500');
    assert.equal(waited.status, 200);
    const pending = fetchRecords(alice, base, BINARY, 'timeout=10000');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    assert.equal((await alice.call('DELETE', base)).status, 204);
    const cut = await pending;
    assert.deepEqual([cut.status, cut.body.error_code], [404, 40403]);
    // Cut short: well before the fetch's own 10 s (the bound leaves room for a loaded machine).
    assert.ok(Date.now() - started < 7000, `the fetch ended ${Date.now() - started} ms after the delete`);
  });

  it('auto.commit.enable "true" commits the positions at the next fetch; auto.offset.reset "none" needs a commit', async function () {
    const base = await createInstance(alice, 'g-auto', { 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'true' });
    await post(alice, `${base}/subscription`, { topics: [topic] });
    await fetchUntil(alice, base, 3);
    await fetchRecords(alice, base, BINARY, 'timeout=100');
    const partitions = { partitions: [{ topic, partition: 0 }] };
    assert.deepEqual((await alice.call('GET', `${base}/offsets`, { json: partitions, contentType: V2_JSON })).body, { offsets: [{ topic, partition: 0, offset: 3 }] });

    const strict = await createInstance(alice, 'g-none', { 'auto.offset.reset': 'none' });
    await post(alice, `${strict}/subscription`, { topics: [topic] });
    const refused = await fetchRecords(alice, strict);
    assert.deepEqual([refused.status, refused.body.error_code], [500, 50002]);
    assert.match(refused.body.message, /no committed offset/);
  });
});

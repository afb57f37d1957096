/**
 * The Diaspora SDK from PyPI (diaspora-event-sdk 0.5.1, unchanged) against the service emulator's
 * REST data plane: Client.produce / produce_batch and RESTConsumer, with kcat on the other side, and
 * the SDK's own Kafka path (KafkaProducer / KafkaConsumer) on the real broker, logged in with SCRAM
 * instead of its MSK IAM token (see sdk_driver.py). The SDK runs in a virtualenv in the fabric's
 * cache folder (created on first use, about 20 s).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../fabric/contract';
import { DIASPORA_SDK_VENV, ensurePythonVenv } from '../../fabric/python-venv';
import { kcatConsumeAll, kcatProduce } from '../fixtures/kcat';
import { RestUser, kcatTargetOf } from '../fabric/rest-user';
import { ServiceHarness } from '../fabric/service-harness';

const DRIVER = path.join(repoRoot, 'test', 'interop', 'sdk_driver.py');
const run = promisify(execFile);
const b64 = (text: string): { b64: string } => ({ b64: Buffer.from(text).toString('base64') });

describe('interop: the Diaspora SDK (PyPI) produces and consumes over the emulator\'s REST routes', function () {
  this.timeout(120_000);
  const harness = new ServiceHarness(1);
  const tag = crypto.randomBytes(3).toString('hex');
  const sdkTopic = `sdk-${tag}`;
  const kcatTopic = `kc-${tag}`;
  const batchTopic = `sb-${tag}`;
  const restToKafkaTopic = `rk-${tag}`;
  const kafkaToRestTopic = `kr-${tag}`;
  const topics = [sdkTopic, kcatTopic, batchTopic, restToKafkaTopic, kafkaToRestTopic];
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdk-user-'));
  let python: string;
  let user: RestUser;

  // The driver's JSON answer; each test asserts the fields it needs.
  async function sdk(scenario: string, args: object): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const client = harness.clients[0];
    const { stdout } = await run(python, [DRIVER, scenario, JSON.stringify(args)], {
      timeout: 100_000,
      env: {
        ...process.env,
        DIASPORA_SDK_CLIENT_ID: client.clientId,
        DIASPORA_SDK_CLIENT_SECRET: client.clientSecret,
        GLOBUS_SDK_SERVICE_URL_AUTH: `${harness.auth.url}/`,
        DIASPORA_USER_DIR: userDir,
        DIASPORA_TEST_SERVICE_URL: harness.service.url,
        DIASPORA_TEST_ADMIN_PASSWORD: harness.adminPassword,
      },
    });
    return JSON.parse(stdout);
  }

  before(async function () {
    this.timeout(900_000);
    python = await ensurePythonVenv(DIASPORA_SDK_VENV.name, DIASPORA_SDK_VENV.requirements, (line) => process.stderr.write(`[sdk] ${line}\n`));
    await harness.start();
    user = await new RestUser(harness, harness.clients[0]).init(topics);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') process.stderr.write(`service log:\n${harness.logLines.join('\n')}\n`);
  });
  after(async () => {
    if (user) for (const t of topics) await harness.kafkaAdmin.deleteTopic(user.kafkaTopic(t)).catch(() => undefined);
    await harness.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('Client.produce writes what kcat reads with the same bytes: compact JSON, a JSON string, raw bytes, headers', async function () {
    const out = await sdk('produce', { topic: sdkTopic });
    assert.equal(out.namespace, user.namespace);
    assert.deepEqual(out.results.map((r: { offset: number; partition_id: number; topic_name: string }) => [r.topic_name, r.partition_id, r.offset]), [
      [sdkTopic, 0, 0],
      [sdkTopic, 0, 1],
      [sdkTopic, 0, 2],
    ]);
    assert.equal(out.results[0].timestamp, '2026-10-26T15:04:05.000Z');
    assert.deepEqual(out.local_timestamp, { type: 'WebAPIError', http_status: 400, error_code: 40005 });
    assert.deepEqual(out.missing_topic, { type: 'WebAPIError', http_status: 404, error_code: 40401 });
    const records = await kcatConsumeAll(kcatTargetOf(harness), user.kafkaTopic(sdkTopic));
    assert.deepEqual(records.map((r) => [r.key, r.payload, r.headers]), [
      ['job-42', '{"step":1,"loss":0.52}', { trace: 'abc' }],
      [null, '"done"', {}],
      ['raw-key', 'café bytes', {}],
    ]);
  });

  it('Client.produce_batch: each entry succeeds or fails on its own (a timestamp without offset fails with 40005)', async function () {
    const out = await sdk('produce_batch', { topic: batchTopic });
    assert.deepEqual(out.successes.map((s: { id: string; offset: number }) => [s.id, s.offset]), [['0', 0], ['third', 1]]);
    assert.equal(out.failures.length, 1);
    assert.equal(out.failures[0].id, '1');
    assert.equal(out.failures[0].error_code, 40005);
    const records = await kcatConsumeAll(kcatTargetOf(harness), user.kafkaTopic(batchTopic));
    assert.deepEqual(records.map((r) => [r.key, r.payload]), [[null, '{"n":1}'], ['k', '"v"']]);
  });

  it('RESTConsumer reads what kcat wrote: subscribe, fetch, commit, committed, seek, assign, close', async function () {
    const values = ['{"n":0}', 'plain text', '{"n":2}'];
    await kcatProduce(kcatTargetOf(harness), user.kafkaTopic(kcatTopic), values.map((value, i) => ({ key: `k${i}`, value })), {
      compression: 'lz4',
      headers: { source: 'kcat' },
    });
    const out = await sdk('consume', { topic: kcatTopic, group: `g-${tag}`, count: values.length });
    assert.deepEqual(out.subscription, [kcatTopic]);
    assert.deepEqual(out.records, values.map((value, i) => ({ offset: i, topic: kcatTopic, key: b64(`k${i}`), value: b64(value), headers: [{ name: 'source', value: b64('kcat') }] })));
    assert.deepEqual(out.assignment, [[kcatTopic, 0]]);
    assert.deepEqual(out.committed_positions, { [`${kcatTopic}:0`]: 3 });
    assert.deepEqual(out.committed_offsets, { [`${kcatTopic}:0`]: 1 });
    assert.deepEqual(out.after_seek, [2]);
    assert.deepEqual(out.after_beginning, [0, 1, 2]);
    assert.deepEqual(out.after_end, []);
    assert.equal(out.closed, true);
    assert.deepEqual(out.assigned, [[kcatTopic, 0]]);
    // A json instance: one JSON value comes back as that value, other text as a string.
    assert.deepEqual(out.assigned_records.map((r: { offset: number; key: unknown; value: unknown }) => [r.offset, r.key, r.value]), [[1, 'k1', 'plain text'], [2, 'k2', { n: 2 }]]);
    assert.deepEqual((await harness.control('GET', '/_fabric/consumers')).body.instances, []);
  });

  it('RESTConsumer recovers after the service dropped its instance: same name, re-subscribed, resumes at the commit', async function () {
    const out = await sdk('recover', { topic: sdkTopic, group: `r-${tag}`, name: `node-${tag}`, count: 3 });
    assert.deepEqual(out.first, [0, 1, 2]);
    assert.deepEqual(out.after_drop, [1, 2], 'records fetched since the last commit come again');
    assert.equal(out.name_kept, `node-${tag}`);
    assert.deepEqual(out.committed, { [`${sdkTopic}:0`]: 3 });
    assert.deepEqual(out.commit_offsets_after_drop, { type: 'CommitLostError', http_status: 409, error_code: 40903 });
    assert.deepEqual(out.commit_positions_after_drop, { type: 'CommitLostError', http_status: 404, error_code: 40403 });
    assert.equal(out.closed, true);
    assert.deepEqual((await harness.control('GET', '/_fabric/consumers')).body.instances, []);
  });

  it('the SDK\'s Kafka path and its REST path see the same bytes both ways, and so does kcat', async function () {
    const out = await sdk('kafka_path', { rest_topic: restToKafkaTopic, kafka_topic: kafkaToRestTopic, group: `k-${tag}` });
    // Client.produce (REST) → the SDK's KafkaConsumer: the service's compact JSON, raw bytes as sent.
    assert.deepEqual(out.kafka_consumer, [
      { key: b64('job-42'), value: b64('{"step":1,"loss":0.52}'), headers: [{ name: 'trace', value: b64('abc') }] },
      { key: b64('raw-key'), value: b64('café bytes'), headers: [] },
    ]);
    const restWritten = await kcatConsumeAll(kcatTargetOf(harness), user.kafkaTopic(restToKafkaTopic));
    assert.deepEqual(restWritten.map((r) => [r.key, r.payload, r.headers]), [
      ['job-42', '{"step":1,"loss":0.52}', { trace: 'abc' }],
      ['raw-key', 'café bytes', {}],
    ]);
    // The SDK's KafkaProducer (json.dumps, as Python writes it) → RESTConsumer and kcat, byte for byte.
    const pythonJson = '{"step": 2, "note": "caf\\u00e9"}';
    assert.deepEqual(out.rest_consumer, [
      { offset: 0, topic: kafkaToRestTopic, key: b64('job-43'), value: b64(pythonJson), headers: [{ name: 'trace', value: b64('def') }] },
      { offset: 1, topic: kafkaToRestTopic, key: null, value: b64('"done"'), headers: [] },
    ]);
    const kafkaWritten = await kcatConsumeAll(kcatTargetOf(harness), user.kafkaTopic(kafkaToRestTopic));
    assert.deepEqual(kafkaWritten.map((r) => [r.key, r.payload, r.headers]), [
      ['job-43', pythonJson, { trace: 'def' }],
      [null, '"done"', {}],
    ]);
  });
});

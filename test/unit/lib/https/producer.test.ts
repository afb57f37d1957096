import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import { checkSameOrigin, restRequest, RestError, retryAfter, withRetries, type RestContext } from '../../../../lib/https/http';
import { bytesPart, consumedRecord, restRecord, restTimestamp } from '../../../../lib/https/records';
import { RestProducer } from '../../../../lib/https/producer';
import { FakeRestService } from './fake-service';

const NS = 'ns-0123456789ab';
const TOKEN = 'secret-token-123';

function contextFor(url: string): RestContext {
  return { baseUrl: url, subject: 'sub-1', accessToken: async () => TOKEN, timeoutMs: 5_000 };
}

describe('REST records', function () {
  it('sends UTF-8 bytes as STRING and other bytes as BINARY, so the bytes on the topic are the Kafka path\'s', function () {
    assert.deepEqual(bytesPart(Buffer.from('{"step": 1}')), { type: 'STRING', data: '{"step": 1}' });
    assert.deepEqual(bytesPart(Buffer.from([0xff, 0x00, 0x01])), { type: 'BINARY', data: '/wAB' });
    assert.equal(bytesPart(null), undefined);
  });

  it('writes timestamps with a +00:00 offset, headers in base64 (repeated ones as several entries)', function () {
    assert.equal(restTimestamp(Date.UTC(2026, 9, 26, 15, 4, 5)), '2026-10-26T15:04:05.000+00:00');
    const record = restRecord({
      topic: `${NS}.t`,
      key: null,
      value: Buffer.from('x'),
      headers: { trace: Buffer.from([0, 1]), tag: ['a', 'b'] },
      timestamp: 0,
    });
    assert.deepEqual(record, {
      value: { type: 'STRING', data: 'x' },
      headers: [
        { name: 'trace', value: 'AAE=' },
        { name: 'tag', value: 'YQ==' },
        { name: 'tag', value: 'Yg==' },
      ],
      timestamp: '1970-01-01T00:00:00.000+00:00',
    });
  });

  it('decodes a binary-format fetched record, with the namespace put back on the topic', function () {
    const m = consumedRecord(
      { topic: 't', partition: 0, offset: 7, key: 'aw==', value: null, headers: [{ name: 'h', value: 'AQ==' }, { name: 'h', value: 'Ag==' }] },
      (t) => `${NS}.${t}`,
    );
    assert.equal(m.topic, `${NS}.t`);
    assert.equal(m.offset, '7');
    assert.deepEqual(m.key, Buffer.from('k'));
    assert.equal(m.value, null);
    assert.deepEqual(m.headers.h, [Buffer.from([1]), Buffer.from([2])]);
    assert.throws(() => consumedRecord({ topic: 't' }, (t) => t), /lacks topic, partition or offset/);
  });
});

describe('REST requests', function () {
  const fake = new FakeRestService(NS);
  before(() => fake.start());
  after(() => fake.close());

  it('turns the service\'s {error_code, message} into a RestError, without the token', async function () {
    await assert.rejects(
      restRequest(contextFor(fake.url), { method: 'POST', url: `/api/v3/${NS}/topics/missing/records:batch`, body: { entries: [] }, what: 'produce' }),
      (err: unknown) => err instanceof RestError && err.code === 40401 && err.kind === 'unknown-topic' && /topic missing not found/.test(err.message) && !err.message.includes(TOKEN),
    );
    const seen = fake.requests.at(-1);
    assert.equal(seen?.authorization, `Bearer ${TOKEN}`);
    assert.equal(seen?.subject, 'sub-1');
  });

  it('retries 429 after Retry-After and 503, never a 500', async function () {
    fake.topic('r');
    fake.produceAnswers = [{ status: 429, code: 42901, retryAfter: '0.2' }, { status: 503, code: 50302 }];
    const producer = new RestProducer({ ctx: contextFor(fake.url), namespace: NS });
    const started = Date.now();
    const meta = await producer.send({ topic: `${NS}.r`, value: Buffer.from('v') });
    assert.ok(Date.now() - started >= 200, 'waited for Retry-After');
    assert.equal(meta.offset, '0');
    fake.produceAnswers = [{ status: 500, code: 50001 }];
    await assert.rejects(producer.send({ topic: `${NS}.r`, value: Buffer.from('v') }), (err: unknown) => err instanceof RestError && err.code === 50001 && /not retried/.test(err.message));
    assert.equal(fake.topic('r').length, 1, 'the 500 was not sent again');
    await producer.close(1000);
  });

  it('retries a request that never connected until the deadline, then fails it as transient', async function () {
    const port = await freePort();
    let attempts = 0;
    await assert.rejects(
      withRetries(
        () => {
          attempts++;
          return restRequest(contextFor(`http://127.0.0.1:${port}`), { method: 'GET', url: '/x', what: 'probe' });
        },
        { deadlineMs: 300, firstDelayMs: 50, maxDelayMs: 100 },
      ),
      (err: unknown) => err instanceof RestError && err.retriable && err.transient && /ECONNREFUSED/.test(err.message),
    );
    assert.ok(attempts >= 3, `tried ${attempts} times`);
  });

  it('reads Retry-After as seconds or an HTTP date', function () {
    assert.equal(retryAfter('2'), 2000);
    assert.equal(retryAfter(null), undefined);
    const inAMoment = retryAfter(new Date(Date.now() + 3000).toUTCString());
    assert.ok(inAMoment !== undefined && inAMoment > 1000 && inAMoment <= 3000);
  });

  it('accepts a base_uri on the service\'s origin (absolute or relative) and refuses another origin', function () {
    assert.equal(checkSameOrigin('https://svc.example', 'https://svc.example/api/v2/consumers/g/instances/i'), 'https://svc.example/api/v2/consumers/g/instances/i');
    assert.equal(checkSameOrigin('https://svc.example', '/api/v2/consumers/g/instances/i'), 'https://svc.example/api/v2/consumers/g/instances/i');
    assert.throws(() => checkSameOrigin('https://svc.example', 'https://evil.example/x'), /not on its own origin https:\/\/svc\.example: refusing to send the Globus token/);
    assert.throws(() => checkSameOrigin('https://svc.example', 'http://svc.example/x'), /not on its own origin/);
  });
});

describe('REST producer', function () {
  const fake = new FakeRestService(NS);
  before(() => fake.start());
  after(() => fake.close());

  it('sends 1200 events of one turn as batches of at most 500, several in flight, each settled by its own entry', async function () {
    fake.topic('b');
    fake.failEntries = /^bad/;
    fake.holdProduceUntilInFlight = 3;
    fake.batchSizes.length = 0;
    const producer = new RestProducer({ ctx: contextFor(fake.url), namespace: NS, maxInFlight: 3 });
    const sends = Array.from({ length: 1200 }, (_, i) => producer.send({ topic: `${NS}.b`, value: Buffer.from(i % 100 === 7 ? `bad ${i}` : `ok ${i}`) }));
    const outcomes = await Promise.allSettled(sends);
    assert.deepEqual(fake.batchSizes, [500, 500, 200]);
    assert.equal(fake.maxInFlightProduce, 3);
    const failed = outcomes.map((o, i) => (o.status === 'rejected' ? i : -1)).filter((i) => i >= 0);
    assert.deepEqual(failed, Array.from({ length: 12 }, (_, k) => k * 100 + 7));
    const reason = (outcomes[7] as PromiseRejectedResult).reason as RestError;
    assert.equal(reason.code, 42205);
    assert.match(reason.message, /refused the event .* \(42205: value refused\)/);
    const offsets = outcomes.filter((o) => o.status === 'fulfilled').map((o) => Number(o.value.offset));
    assert.equal(new Set(offsets).size, 1188, 'every written event has its own offset');
    assert.equal(fake.topic('b').length, 1188);
    fake.failEntries = undefined;
    fake.holdProduceUntilInFlight = 0;
    await producer.close(1000);
  });

  it('refuses a topic outside the namespace before sending', async function () {
    const producer = new RestProducer({ ctx: contextFor(fake.url), namespace: NS });
    const before = fake.requests.length;
    await assert.rejects(producer.send({ topic: 'ns-other.t', value: null }), /not in your namespace/);
    assert.equal(fake.requests.length, before);
    await producer.close(1000);
  });
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

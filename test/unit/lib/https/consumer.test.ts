import { strict as assert } from 'node:assert';
import type { ConsumedMessage } from '../../../../lib/session/connection-types';
import { RestConsumer, type RestConsumerOptions } from '../../../../lib/https/consumer';
import type { RestContext } from '../../../../lib/https/http';
import { FakeRestService } from './fake-service';

const NS = 'ns-0123456789ab';

async function until<T>(what: string, probe: () => T | undefined, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('REST consumer', function () {
  let fake: FakeRestService;
  const consumers: RestConsumer[] = [];
  beforeEach(async () => {
    fake = new FakeRestService(NS);
    await fake.start();
  });
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.stop(2000)));
    await fake.close();
  });

  function start(got: ConsumedMessage[], overrides: Partial<RestConsumerOptions> = {}): RestConsumer {
    const ctx: RestContext = { baseUrl: fake.url, subject: 'sub-1', accessToken: async () => 'tok', timeoutMs: 5_000 };
    const consumer = new RestConsumer({
      ctx,
      namespace: NS,
      userId: 'diaspora-in:n1',
      instanceName: 'diaspora-in-n1',
      consumer: { topics: [`${NS}.t`], groupId: 'g1', fromBeginning: true, autoCommit: true },
      onMessage: async (m) => {
        got.push(m);
      },
      fetchTimeoutMs: 50,
      retryMs: 50,
      ...overrides,
    });
    consumers.push(consumer);
    return consumer;
  }

  function produce(topic: string, count: number, from = 0): void {
    const records = fake.topic(topic);
    for (let i = from; i < from + count; i++) records.push({ key: null, value: Buffer.from(`e${i}`), headers: [], timestamp: new Date().toISOString() });
  }

  it('creates its named instance, subscribes, fetches in the binary format, commits explicit offsets and deletes the instance on stop', async function () {
    produce('t', 5);
    const got: ConsumedMessage[] = [];
    const consumer = start(got);
    await until('5 events', () => got.length === 5);
    assert.deepEqual(got.map((m) => m.value?.toString()), ['e0', 'e1', 'e2', 'e3', 'e4']);
    assert.equal(got[0].topic, `${NS}.t`);
    await until('the commit', () => fake.committed.get('g1 t') === 5);
    const create = fake.requests.find((r) => r.method === 'POST' && r.path === '/api/v2/consumers/g1');
    assert.deepEqual(create?.body, { name: 'diaspora-in-n1', format: 'binary', 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' });
    assert.ok(fake.requests.some((r) => r.path.endsWith('/records') && r.accept === 'application/vnd.kafka.binary.v2+json'));
    const commit = fake.requests.find((r) => r.path.endsWith('/offsets'));
    assert.deepEqual(commit?.body, { offsets: [{ topic: 't', partition: 0, offset: 4 }] }, 'the last processed offset');
    await consumer.stop(2000);
    assert.equal(fake.instances.size, 0, 'instance deleted');
  });

  it('commits during a long fetched batch, from 100 finished events on, so a dropped instance costs little', async function () {
    fake.maxRecordsPerFetch = 1000;
    produce('t', 250);
    const got: ConsumedMessage[] = [];
    start(got);
    await until('250 events', () => got.length === 250);
    await until('the last commit', () => fake.committed.get('g1 t') === 250);
    const committed = fake.requests.filter((r) => r.path.endsWith('/offsets')).map((r) => (r.body as { offsets: Array<{ offset: number }> }).offsets[0].offset);
    assert.equal(committed[0], 99, 'the first commit after 100 finished events, before the batch ended');
    assert.equal(committed.at(-1), 249);
    assert.deepEqual(committed, [...committed].sort((a, b) => a - b), 'commits only move forward');
  });

  it('hands on up to the window per partition without waiting for the flow, and commits only the finished prefix', async function () {
    fake.maxRecordsPerFetch = 1000;
    produce('t', 10);
    const got: ConsumedMessage[] = [];
    const release = new Map<string, () => void>();
    start(got, {
      consumer: { topics: [`${NS}.t`], groupId: 'g1', fromBeginning: true, autoCommit: true, window: 4 },
      onMessage: (m) => {
        got.push(m);
        return new Promise<void>((r) => release.set(m.offset, r));
      },
    });
    await until('a full window', () => got.length === 4);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(got.length, 4, 'no fifth event while four are unfinished');
    for (const offset of ['1', '2', '3']) release.get(offset)?.();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(got.length, 4, 'offset 0 holds the window: nothing is committed or handed on past it');
    assert.equal(fake.committed.get('g1 t'), undefined);
    release.get('0')?.();
    await until('the rest', () => got.length === 8);
    await until('the commit of the finished prefix', () => fake.committed.get('g1 t') === 4);
    for (const offset of ['4', '5', '6', '7']) release.get(offset)?.();
    await until('the last two', () => got.length === 10);
    for (const offset of ['8', '9']) release.get(offset)?.();
    await until('every event committed', () => fake.committed.get('g1 t') === 10);
    assert.deepEqual(got.map((m) => m.offset), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('commits only what onMessage finished: a stop while the flow holds an event leaves it uncommitted', async function () {
    produce('t', 3);
    const got: ConsumedMessage[] = [];
    let release: () => void = () => undefined;
    const consumer = start(got, {
      onMessage: async (m) => {
        got.push(m);
        if (m.offset === '1') await new Promise<void>((r) => (release = r));
      },
    });
    await until('the three events in the flow', () => got.length === 3);
    const stopping = consumer.stop(2000);
    release();
    await stopping;
    assert.equal(fake.committed.get('g1 t'), 1, 'only offset 0 is committed: offset 2 finished, but after the unfinished 1');
  });

  it('after the service dropped the instance (40403): re-creates it, re-subscribes, continues from the committed offset and counts what came twice', async function () {
    produce('t', 4);
    const got: ConsumedMessage[] = [];
    const consumer = start(got);
    await until('4 events', () => got.length === 4);
    await until('the commit', () => fake.committed.get('g1 t') === 4);
    fake.committed.set('g1 t', 2); // as if the last commit had not reached the group
    fake.dropAllInstances();
    produce('t', 3, 4);
    await until('7 events', () => got.length === 7);
    assert.deepEqual(got.map((m) => m.value?.toString()), ['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6'], 'nothing twice in the flow');
    assert.equal(consumer.redelivered, 2, 'e2 and e3 came again');
    assert.equal(consumer.instancesCreated, 2);
    assert.equal(fake.instances.size, 1);
  });

  it('takes the place of a stale instance of the same name (40902) left by a run that never deleted it', async function () {
    produce('t', 1);
    const first: ConsumedMessage[] = [];
    const crashed = start(first);
    await until('the event', () => first.length === 1);
    // Forget the instance without deleting it, as a crash would.
    (crashed as unknown as { baseUri: string | undefined }).baseUri = undefined;
    (crashed as unknown as { stopped: boolean }).stopped = true;
    consumers.splice(consumers.indexOf(crashed), 1);
    produce('t', 1, 1);
    const got: ConsumedMessage[] = [];
    start(got);
    await until('the next event', () => got.some((m) => m.value?.toString() === 'e1'));
    assert.equal(fake.instances.size, 1);
  });

  it('at the 4-instance limit: reports an error naming the limit and keeps trying', async function () {
    fake.instanceLimit = 0;
    const errors: string[] = [];
    const states: string[] = [];
    start([], { callbacks: { onError: (e) => errors.push(e.message), onStateChange: (s) => states.push(s) } });
    await until('the error', () => errors.length >= 2);
    assert.match(errors[0], /allows 4 consumer instances per user and they are all in use \(40904\)/);
    assert.ok(states.includes('error'));
  });

  it('never sends the token to a base_uri on another origin', async function () {
    fake.foreignOrigin = 'http://127.0.0.2:9';
    const errors: string[] = [];
    start([], { callbacks: { onError: (e) => errors.push(e.message) } });
    await until('the error', () => errors.length >= 1);
    assert.match(errors[0], /not on its own origin .* refusing to send the Globus token there/);
  });

  it('an event whose onMessage failed is reported and counted finished, as in Kafka mode: the next ones go on', async function () {
    produce('t', 2);
    const got: ConsumedMessage[] = [];
    const errors: Array<{ message: string; restart: unknown }> = [];
    start(got, {
      onMessage: async (m) => {
        if (m.offset === '0') throw new Error('flow failed');
        got.push(m);
      },
      callbacks: { onError: (e, info) => errors.push({ message: e.message, restart: info.restartInMs }) },
    });
    await until('the commit', () => fake.committed.get('g1 t') === 2);
    assert.deepEqual(got.map((m) => m.offset), ['1']);
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /offset 0 failed: flow failed/);
    assert.equal(errors[0].restart, undefined, 'one event, not a consumer restart');
  });

  it('pause stops handing on events; resume goes on from where it stopped', async function () {
    produce('t', 2);
    const got: ConsumedMessage[] = [];
    const consumer = start(got);
    await until('2 events', () => got.length === 2);
    consumer.pause();
    await new Promise((r) => setTimeout(r, 100));
    produce('t', 2, 2);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(got.length, 2, 'nothing while paused');
    consumer.resume();
    await until('4 events', () => got.length === 4);
  });

  it('subscribe and unsubscribe change the instance\'s subscription', async function () {
    produce('t', 1);
    fake.topic('u');
    const got: ConsumedMessage[] = [];
    const consumer = start(got);
    await until('the event', () => got.length === 1);
    await consumer.subscribe(`${NS}.u`);
    produce('u', 1);
    await until('the event on u', () => got.some((m) => m.topic === `${NS}.u`));
    await consumer.unsubscribe(`${NS}.t`);
    await until('the new subscription', () => [...fake.instances.values()][0]?.topics.join() === 'u');
    await assert.rejects(consumer.subscribe('ns-other.x'), /not in your namespace/);
  });
});

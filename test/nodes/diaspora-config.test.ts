/**
 * `diaspora-config` on the real Node-RED runtime (node-red-node-test-helper) against the running
 * local fabric: real Globus Auth emulator, real Diaspora service emulator, real Kafka broker.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import diasporaConfig = require('../../nodes/diaspora-config/diaspora-config');
import { statusForState } from '../../nodes/shared/status';
import type { ErrorReason, SessionState, SessionStateFields } from '../../lib/session/types';
import type { FabricClient, FabricDescription, FabricUser } from '../../fabric/contract';
import { driveNativeLogin } from '../../fabric/auth/drive-login';
import { loadFabric } from '../fixtures/fabric';
import { fabricControl, type FabricControl } from '../fixtures/fabric-control';
import { brokerSockets, closedPort, eventually, nodeRedHelper, type FlowNode, type NodeModule, type TestResponse } from '../fixtures/node-red';
import { STATUS_PROBE_TYPE, statusProbeNode, type ProbeRecord, type StatusProbeNode } from '../fixtures/status-probe-node';

const helper = nodeRedHelper();
const NODES: NodeModule[] = [diasporaConfig as NodeModule, statusProbeNode as NodeModule];
const READY_WITHIN_MS = 30_000;
const PROPAGATION_DELAY_MS = 10_000;

type Api = 'v1' | 'v3';

interface ConfigOptions {
  api: Api;
  authMode: 'user' | 'client';
  clientId: string;
  serviceUrl?: string;
  /** Default: the fabric's brokers; '' = the endpoint the key came with. */
  brokers?: string;
  name?: string;
  readyTimeout?: number;
}

/** Figures the suite prints at the end (for the resolution notes). */
const figures: Array<[string, string]> = [];
const recordTime = (what: string, ms: number): void => {
  figures.push([what, `${ms} ms`]);
};

describe('diaspora-config on the real Node-RED runtime and the local fabric', function () {
  this.timeout(60_000);
  let fabric: FabricDescription;
  let control: FabricControl;

  let defaultDelayMs: number;

  before(async function () {
    fabric = loadFabric();
    control = fabricControl(fabric);
    // Keys work at once unless a test asks for a delay: the timings below are then the client's own.
    defaultDelayMs = await control.setKeyPropagationDelay(0);
  });

  after(async function () {
    if (control) await control.setKeyPropagationDelay(defaultDelayMs);
  });

  afterEach(async function () {
    await helper.unload();
  });

  after(function () {
    if (figures.length === 0) return;
    const width = Math.max(...figures.map(([what]) => what.length));
    console.log('\n    diaspora-config figures:');
    for (const [what, value] of figures) console.log(`      ${what.padEnd(width)}  ${value}`);
  });

  function configNode(id: string, opts: ConfigOptions): FlowNode {
    return {
      id,
      type: 'diaspora-config',
      name: opts.name ?? `h7 ${id}`,
      api: opts.api,
      serviceUrl: opts.serviceUrl ?? fabric.serviceUrl,
      authUrl: fabric.authUrl,
      clientId: opts.clientId,
      authMode: opts.authMode,
      brokers: opts.brokers ?? fabric.brokers.join(','),
      kafkaAuth: 'scram-sha-512',
      tls: false,
      readyTimeout: opts.readyTimeout ?? 60,
    };
  }

  function probeNode(id: string, configId: string, producer = false): FlowNode {
    return { id, type: STATUS_PROBE_TYPE, fabric: configId, producer };
  }

  function clientConfig(id: string, api: Api, client: FabricClient, extra: Partial<ConfigOptions> = {}): { flow: FlowNode[]; credentials: Record<string, object> } {
    return {
      flow: [configNode(id, { api, authMode: 'client', clientId: client.clientId, ...extra }), probeNode(`${id}-probe`, id)],
      credentials: { [id]: { clientSecret: client.clientSecret } },
    };
  }

  function userConfig(id: string, api: Api, extra: Partial<ConfigOptions> = {}): FlowNode[] {
    return [configNode(id, { api, authMode: 'user', clientId: fabric.clientId, ...extra }), probeNode(`${id}-probe`, id)];
  }

  function probe(id: string): StatusProbeNode {
    const node = helper.getNode(id);
    assert.ok(node, `node ${id} is not deployed`);
    return node as unknown as StatusProbeNode;
  }

  /**
   * Waits until the probe node has been shown the state `name`. Fails at once on an unexpected
   * error state, with the reason the session gave.
   */
  async function untilState(probeId: string, name: SessionState['state'], timeoutMs = READY_WITHIN_MS, from = 0): Promise<ProbeRecord> {
    return eventually(
      `${probeId} to show "${name}"`,
      () => {
        const history = probe(probeId).history.slice(from);
        const hit = history.find((r) => r.state?.state === name);
        if (hit) return hit;
        const error = history.find((r) => r.state?.state === 'error');
        if (error && name !== 'error') {
          throw new Error(`expected "${name}" but the session failed: ${error.state?.reason}: ${error.state?.message}`);
        }
        return undefined;
      },
      timeoutMs,
      50,
    );
  }

  function statesSeen(probeId: string): string[] {
    const names: string[] = [];
    for (const record of probe(probeId).history) {
      const name = record.state?.state ?? '?';
      if (names[names.length - 1] !== name) names.push(name);
    }
    return names;
  }

  async function adminState(configId: string): Promise<SessionStateFields> {
    const res = await helper.request().get(`/diaspora/${configId}/state`);
    assert.equal(res.status, 200, res.text);
    return res.body as SessionStateFields;
  }

  async function signInOverHttp(configId: string, user: FabricUser): Promise<{ sub: string }> {
    const start = await helper.request().post(`/diaspora/${configId}/signin/start`).send({});
    assert.equal(start.status, 200, start.text);
    const { authorizeUrl } = start.body as { authorizeUrl: string };
    assert.ok(authorizeUrl.startsWith(`${fabric.authUrl}/`), `authorize URL ${authorizeUrl} is not on the auth emulator`);
    const code = await driveNativeLogin({ authorizeUrl, username: user.username, password: user.password });
    const finish = await helper.request().post(`/diaspora/${configId}/signin/finish`).send({ code });
    assert.equal(finish.status, 200, finish.text);
    return finish.body as { sub: string };
  }

  function assertReadyStatus(probeId: string): void {
    assert.deepEqual(probe(probeId).history.at(-1)?.status, { fill: 'green', shape: 'dot', text: 'diaspora-config.status.ready' });
  }

  function assertRed(record: ProbeRecord, reason: ErrorReason): void {
    assert.equal(record.state?.reason, reason, `reason: ${record.state?.message}`);
    assert.deepEqual(record.status, { fill: 'red', shape: 'ring', text: `diaspora-config.status.reason.${reason}` });
    assert.ok(record.state?.message && record.state.message.length > 10, 'the error state carries a readable message');
  }

  /** No log line of the runtime carries any of these secrets. */
  function assertNotLogged(secrets: Array<string | undefined>): void {
    const logged = JSON.stringify(helper.log().args);
    for (const secret of secrets) {
      if (secret) assert.ok(!logged.includes(secret), 'a secret reached the Node-RED log');
    }
  }

  function tokenValues(credentials: Record<string, unknown>): string[] {
    const bundle = JSON.parse(String(credentials.tokens ?? '{}')) as { tokens?: Record<string, { accessToken?: string; refreshToken?: string }> };
    return Object.values(bundle.tokens ?? {}).flatMap((t) => [t.accessToken ?? '', t.refreshToken ?? '']).filter((t) => t);
  }

  describe('reaching ready', function () {
    for (const api of ['v1', 'v3'] as const) {
      it(`${api}: client credentials create a key and reach ready, shown on every user node`, async function () {
        const client = fabric.clients[api === 'v1' ? 0 : 1];
        const { flow, credentials } = clientConfig(`cc-${api}`, api, client);
        flow.push(probeNode(`cc-${api}-probe2`, `cc-${api}`));
        await helper.load(NODES, flow, credentials);

        const creating = await untilState(`cc-${api}-probe`, 'creating-key');
        const ready = await untilState(`cc-${api}-probe`, 'ready');
        recordTime(`${api} client credentials, first deploy: creating-key -> ready`, ready.at - creating.at);
        assert.deepEqual(statesSeen(`cc-${api}-probe`).filter((s) => s !== 'waiting-key'), ['starting', 'creating-key', 'ready']);
        assertReadyStatus(`cc-${api}-probe`);
        await untilState(`cc-${api}-probe2`, 'ready');
        assertReadyStatus(`cc-${api}-probe2`);

        const state = await adminState(`cc-${api}`);
        assert.equal(state.state, 'ready');
        assert.equal(state.sub, client.sub);
        const stored = helper.credentials.get(`cc-${api}`) ?? {};
        assert.ok(stored.secretKey && stored.accessKey, 'the key is kept in the node credentials');
        assertNotLogged([stored.secretKey as string, client.clientSecret, ...tokenValues(stored)]);
      });

      it(`${api}: user sign-in over the admin routes (PKCE, pasted code) reaches ready`, async function () {
        const user = fabric.users[api === 'v1' ? 0 : 1];
        await helper.load(NODES, userConfig(`user-${api}`, api));
        const waiting = await untilState(`user-${api}-probe`, 'signin-required');
        assert.deepEqual(waiting.status, { fill: 'yellow', shape: 'ring', text: 'diaspora-config.status.signin-required' });

        const who = await signInOverHttp(`user-${api}`, user);
        assert.equal(who.sub, user.sub);
        await untilState(`user-${api}-probe`, 'ready');
        assertReadyStatus(`user-${api}-probe`);
        const state = await adminState(`user-${api}`);
        assert.equal(state.state, 'ready');
        assert.equal(state.sub, user.sub);
        const stored = helper.credentials.get(`user-${api}`) ?? {};
        assert.ok(tokenValues(stored).length >= 2, 'the sign-in tokens are kept in the node credentials');
        assertNotLogged([stored.secretKey as string | undefined, user.password, ...tokenValues(stored)]);
      });
    }
  });

  describe('the "new key" action', function () {
    for (const api of ['v1', 'v3'] as const) {
      it(`${api}: replaces the stored key with a fresh one and reaches ready with it`, async function () {
        const client = fabric.clients[api === 'v1' ? 0 : 1];
        const { flow, credentials } = clientConfig(`newkey-${api}`, api, client);
        await helper.load(NODES, flow, credentials);
        const first = await untilState(`newkey-${api}-probe`, 'ready');
        const oldKey = helper.credentials.get(`newkey-${api}`)?.secretKey;
        const minted = (await control.serviceStats()).keyCreationsBySubject[client.sub] ?? 0;

        const res = await helper.request().post(`/diaspora/newkey-${api}/newkey`).send({});
        assert.equal(res.status, 200, res.text);
        const from = probe(`newkey-${api}-probe`).history.indexOf(first) + 1;
        const creating = await untilState(`newkey-${api}-probe`, 'creating-key', READY_WITHIN_MS, from);
        const ready = await untilState(`newkey-${api}-probe`, 'ready', READY_WITHIN_MS, from);
        recordTime(`${api} "new key" action: new key -> ready (delay 0)`, ready.at - creating.at);
        const newKey = helper.credentials.get(`newkey-${api}`)?.secretKey;
        assert.ok(newKey && newKey !== oldKey, 'the stored key was replaced');
        assert.equal((await control.serviceStats()).keyCreationsBySubject[client.sub], minted + 1, 'the service minted one key');
      });
    }
  });

  describe('readiness waiting', function () {
    it(`with a ${PROPAGATION_DELAY_MS / 1000} s propagation delay, waits (seconds rising) and is ready only once the key works`, async function () {
      const previous = await control.setKeyPropagationDelay(PROPAGATION_DELAY_MS);
      try {
        const { flow, credentials } = clientConfig('slow', 'v1', fabric.clients[0]);
        await helper.load(NODES, flow, credentials);
        const creating = await untilState('slow-probe', 'creating-key');
        const ready = await untilState('slow-probe', 'ready', PROPAGATION_DELAY_MS + READY_WITHIN_MS);
        recordTime(`v1 client credentials: new key -> ready (delay ${PROPAGATION_DELAY_MS / 1000} s)`, ready.at - creating.at);
        assert.ok(ready.at - creating.at >= PROPAGATION_DELAY_MS, `ready after ${ready.at - creating.at} ms, before the key could work`);

        assert.deepEqual(statesSeen('slow-probe'), ['starting', 'creating-key', 'waiting-key', 'ready']);
        const waits = probe('slow-probe').history.filter((r) => r.state?.state === 'waiting-key');
        const seconds = waits.map((r) => r.state?.waitingSeconds ?? -1);
        assert.deepEqual(seconds, [...seconds].sort((a, b) => a - b), 'waiting seconds never go back');
        assert.ok(seconds[0] <= 1 && seconds.at(-1)! >= PROPAGATION_DELAY_MS / 1000 - 2, `waiting seconds seen: ${seconds.join(',')}`);
        for (const wait of waits) {
          assert.deepEqual(wait.status, { fill: 'yellow', shape: 'ring', text: 'diaspora-config.status.waiting-key-seconds' });
        }
        assertReadyStatus('slow-probe');
      } finally {
        await control.setKeyPropagationDelay(previous);
      }
    });
  });

  describe('readiness timeout', function () {
    it('a key that does not work within readyTimeout turns red (timed-out) after showing the wait', async function () {
      const previous = await control.setKeyPropagationDelay(PROPAGATION_DELAY_MS);
      try {
        const { flow, credentials } = clientConfig('tooslow', 'v1', fabric.clients[0], { readyTimeout: 2 });
        await helper.load(NODES, flow, credentials);
        const creating = await untilState('tooslow-probe', 'creating-key');
        const red = await untilState('tooslow-probe', 'error', READY_WITHIN_MS);
        assertRed(red, 'timed-out');
        assert.ok(red.at - creating.at >= 2000, `gave up after ${red.at - creating.at} ms`);
        assert.deepEqual(statesSeen('tooslow-probe'), ['starting', 'creating-key', 'waiting-key', 'error']);
      } finally {
        await control.setKeyPropagationDelay(previous);
      }
    });
  });

  describe('restart with a stored key', function () {
    for (const api of ['v1', 'v3'] as const) {
      it(`${api}: reaches ready again without creating a key`, async function () {
        const client = fabric.clients[api === 'v1' ? 0 : 1];
        const { flow, credentials } = clientConfig(`restart-${api}`, api, client);
        await helper.load(NODES, flow, credentials);
        await untilState(`restart-${api}-probe`, 'ready');
        const stored = { ...(helper.credentials.get(`restart-${api}`) ?? {}) };
        assert.ok(stored.secretKey, 'the first run stored the key');
        const createKeyCalls = (await control.serviceStats()).createKeyCalls[client.sub] ?? 0;
        await helper.unload();

        const deployedAt = Date.now();
        await helper.load(NODES, flow, { [`restart-${api}`]: stored });
        const ready = await untilState(`restart-${api}-probe`, 'ready');
        recordTime(`${api} restart with stored key: deploy -> ready`, ready.at - deployedAt);
        assert.deepEqual(statesSeen(`restart-${api}-probe`), ['starting', 'ready']);
        assert.equal((await control.serviceStats()).createKeyCalls[client.sub] ?? 0, createKeyCalls, 'the service saw a create-key call');
        assert.equal(helper.credentials.get(`restart-${api}`)?.secretKey, stored.secretKey);
      });
    }
  });

  describe('a stored key replaced elsewhere (another machine made a new key)', function () {
    /** Deploys, makes a second key through the "new key" action, and returns the first run's credentials. */
    async function staleCredentials(id: string, api: Api, client: FabricClient): Promise<Record<string, unknown>> {
      const { flow, credentials } = clientConfig(id, api, client);
      await helper.load(NODES, flow, credentials);
      const first = await untilState(`${id}-probe`, 'ready');
      // Stored long ago: no longer a key that may still be propagating.
      const stale: Record<string, unknown> = { ...(helper.credentials.get(id) ?? {}), keyCreatedAt: new Date(Date.now() - 3600_000).toISOString() };
      const res = await helper.request().post(`/diaspora/${id}/newkey`).send({});
      assert.equal(res.status, 200, res.text);
      await untilState(`${id}-probe`, 'ready', READY_WITHIN_MS, probe(`${id}-probe`).history.indexOf(first) + 1);
      assert.notEqual(helper.credentials.get(id)?.secretKey, stale.secretKey);
      await helper.unload();
      return stale;
    }

    it('v1: the restarted node turns red (key-rejected) and says to create a new key', async function () {
      const stale = await staleCredentials('stale-v1', 'v1', fabric.clients[0]);
      const { flow } = clientConfig('stale-v1', 'v1', fabric.clients[0]);
      await helper.load(NODES, flow, { 'stale-v1': stale });
      const red = await untilState('stale-v1-probe', 'error');
      assertRed(red, 'key-rejected');
      assert.match(red.state?.message ?? '', /create a new key/);
    });

    it('v3: the restarted node takes the current key from the service, without minting one', async function () {
      const client = fabric.clients[1];
      const stale = await staleCredentials('stale-v3', 'v3', client);
      const minted = (await control.serviceStats()).keyCreationsBySubject[client.sub] ?? 0;
      const { flow } = clientConfig('stale-v3', 'v3', client);
      await helper.load(NODES, flow, { 'stale-v3': stale });
      await untilState('stale-v3-probe', 'ready');
      assert.notEqual(helper.credentials.get('stale-v3')?.secretKey, stale.secretKey, 'the current key replaced the stale one');
      assert.equal((await control.serviceStats()).keyCreationsBySubject[client.sub] ?? 0, minted, 'the service minted a key');
    });
  });

  describe('failures: a red status with the reason, and no crash', function () {
    it('a revoked refresh token turns the user nodes red (refresh-revoked)', async function () {
      const user = fabric.users[0];
      // Short-lived tokens make the session refresh within seconds instead of an hour.
      const previousTtl = await control.setAccessTokenTtl(6);
      try {
        await helper.load(NODES, userConfig('revoked', 'v3'));
        await untilState('revoked-probe', 'signin-required');
        await signInOverHttp('revoked', user);
        const ready = await untilState('revoked-probe', 'ready');
        await control.revokeAll(user.sub);

        const history = probe('revoked-probe').history;
        const red = await untilState('revoked-probe', 'error', 20_000, history.indexOf(ready));
        assertRed(red, 'refresh-revoked');
        assert.match(red.state?.message ?? '', /sign in again/i);
        const state = await adminState('revoked');
        assert.equal(state.state, 'error');
        assert.equal(state.reason, 'refresh-revoked');
        const topics = await helper.request().get('/diaspora/revoked/topics');
        assert.equal(topics.status, 400, topics.text);
        assert.match(errorOf(topics), /sign in again/i);
      } finally {
        await control.setAccessTokenTtl(previousTtl);
      }
    });

    it('an unreachable service turns the user nodes red (service-unreachable)', async function () {
      const port = await closedPort();
      const { flow, credentials } = clientConfig('nosvc', 'v1', fabric.clients[0], { serviceUrl: `http://127.0.0.1:${port}` });
      await helper.load(NODES, flow, credentials);
      const red = await untilState('nosvc-probe', 'error');
      assertRed(red, 'service-unreachable');
      assert.match(red.state?.message ?? '', new RegExp(`127\\.0\\.0\\.1:${port}`));
      const topics = await helper.request().get('/diaspora/nosvc/topics');
      assert.equal(topics.status, 502, topics.text);
      assert.match(errorOf(topics), /reach/i);
      assert.equal((await adminState('nosvc')).reason, 'service-unreachable');
    });

    it('an invalid setting turns the user nodes red (misconfigured) without contacting anything', async function () {
      const { flow, credentials } = clientConfig('badcfg', 'v1', fabric.clients[0], { serviceUrl: 'not a url' });
      await helper.load(NODES, flow, credentials);
      const red = await untilState('badcfg-probe', 'error');
      assertRed(red, 'misconfigured');
      assert.match(red.state?.message ?? '', /serviceUrl/);
    });
  });

  describe('Kafka connections', function () {
    it('a redeploy and a node removal leave no open Kafka connection', async function () {
      const brokers = [...fabric.brokers, ...(fabric.tls?.brokers ?? [])];
      const before = new Set(brokerSockets(brokers));
      const ours = (): number => brokerSockets(brokers).filter((s) => !before.has(s)).length;
      const flow = [
        configNode('conn', { api: 'v3', authMode: 'client', clientId: fabric.clients[1].clientId }),
        probeNode('conn-probe', 'conn', true),
      ];
      await helper.load(NODES, flow, { conn: { clientSecret: fabric.clients[1].clientSecret } });
      await untilState('conn-probe', 'ready');
      await eventually('the shared producer to connect', () => (ours() > 0 ? true : undefined), 10_000);
      const firstRun = brokerSockets(brokers).filter((s) => !before.has(s));

      // Redeploy the changed config node (and so its user): the old node's sockets must all close.
      const changed = flow.map((n) => (n.id === 'conn' ? { ...n, name: 'h7 conn renamed' } : n));
      await helper.setFlows(changed, 'nodes');
      await untilState('conn-probe', 'ready');
      await eventually("the first deployment's sockets to close", () => (firstRun.every((s) => s.destroyed) ? true : undefined), 10_000);
      await eventually('the new shared producer to connect', () => (ours() > 0 ? true : undefined), 10_000);
      const secondRun = ours();
      assert.ok(secondRun <= firstRun.length, `sockets after redeploy: ${secondRun}, after the first deploy: ${firstRun.length}`);

      // Remove the config node and its user.
      await helper.setFlows([], 'full');
      await eventually('no socket of this runtime to the broker', () => (ours() === 0 ? true : undefined), 10_000);
      figures.push(['broker sockets: deployed / after redeploy / after removal', `${firstRun.length} / ${secondRun} / 0`]);
    });
  });

  describe('admin routes', function () {
    it('answer 404 with a clear message for an id that is not a deployed diaspora-config', async function () {
      const { flow, credentials } = clientConfig('known', 'v1', fabric.clients[0]);
      await helper.load(NODES, flow, credentials);
      for (const res of [
        await helper.request().get('/diaspora/no-such-node/state'),
        await helper.request().post('/diaspora/no-such-node/signin/start').send({}),
        await helper.request().post('/diaspora/no-such-node/signin/finish').send({ code: 'x' }),
        await helper.request().get('/diaspora/no-such-node/topics'),
        // A deployed node of another type is not a config node either.
        await helper.request().get('/diaspora/known-probe/state'),
      ]) {
        assert.equal(res.status, 404, res.text);
        assert.match(errorOf(res), /deploy/);
      }
    });

    it('sign-in with a wrong code answers a clear 400 and leaves the node waiting for sign-in', async function () {
      await helper.load(NODES, userConfig('wrong', 'v1'));
      await untilState('wrong-probe', 'signin-required');

      const early = await helper.request().post('/diaspora/wrong/signin/finish').send({ code: 'abc' });
      assert.equal(early.status, 400, early.text);
      assert.match(errorOf(early), /start the sign-in/i);

      const start = await helper.request().post('/diaspora/wrong/signin/start').send({});
      assert.equal(start.status, 200, start.text);
      const empty = await helper.request().post('/diaspora/wrong/signin/finish').send({ code: '  ' });
      assert.equal(empty.status, 400, empty.text);
      assert.match(errorOf(empty), /paste/i);
      const wrong = await helper.request().post('/diaspora/wrong/signin/finish').send({ code: 'not-the-code-0123456789' });
      assert.equal(wrong.status, 400, wrong.text);
      assert.match(errorOf(wrong), /code/i);
      assert.match(errorOf(wrong), /start the sign-in again/i);

      assert.equal((await adminState('wrong')).state, 'signin-required');
      assert.equal(probe('wrong-probe').history.at(-1)?.state?.state, 'signin-required');
    });

    it('sign-in on a client-credentials node answers 400', async function () {
      const { flow, credentials } = clientConfig('nosignin', 'v1', fabric.clients[0]);
      await helper.load(NODES, flow, credentials);
      const res = await helper.request().post('/diaspora/nosignin/signin/start').send({});
      assert.equal(res.status, 400, res.text);
      assert.match(errorOf(res), /client credentials/);
    });
  });
});

describe('diaspora-config status catalog', function () {
  const catalogFile = path.resolve(__dirname, '..', '..', 'nodes', 'diaspora-config', 'locales', 'en-US', 'diaspora-config.json');
  const states: SessionState[] = [
    { state: 'starting' },
    { state: 'signin-required' },
    { state: 'creating-key' },
    { state: 'waiting-key', waitingSeconds: 7, keyCreatedAt: new Date(0).toISOString() },
    { state: 'ready' },
    ...(['refresh-revoked', 'service-unreachable', 'timed-out', 'key-rejected', 'auth-failed', 'misconfigured', 'broker-unreachable'] as const).map(
      (reason): SessionState => ({ state: 'error', reason, message: reason, retrying: false }),
    ),
  ];

  it('has a short en-US text for every status the config node can show', function () {
    const catalog = JSON.parse(fs.readFileSync(catalogFile, 'utf8')) as Record<string, unknown>;
    const lookup = (key: string, subs?: Record<string, string | number>): string => {
      let value: unknown = catalog;
      for (const part of `diaspora-config.${key}`.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
      assert.equal(typeof value, 'string', `diaspora-config.${key} is missing from ${catalogFile}`);
      let text = value as string;
      for (const [name, sub] of Object.entries(subs ?? {})) {
        assert.ok(text.includes(`__${name}__`), `diaspora-config.${key} does not show __${name}__`);
        text = text.replace(`__${name}__`, String(sub));
      }
      return text;
    };
    for (const state of states) {
      const status = statusForState(state, lookup);
      assert.ok(status.text && String(status.text).length < 20, `status text "${status.text}" is empty or 20 characters or longer`);
    }
    assert.match(String(statusForState({ state: 'waiting-key', waitingSeconds: 7, keyCreatedAt: new Date(0).toISOString() }, lookup).text), /7/);
  });
});

function errorOf(res: TestResponse): string {
  const body = res.body as { error?: unknown } | undefined;
  assert.equal(typeof body?.error, 'string', `no error message in ${res.text}`);
  return body?.error as string;
}

/**
 * Secrets and access, on a real Node-RED process with `adminAuth` and the runtime log at debug:
 * - after a full run (sign-in by client credentials, a key, topics, events, errors, a new key),
 *   no token, client secret or Kafka secret is in GET /flows, the flows file, the flows_cred file,
 *   any other file of the user directory, the runtime log, the admin routes' answers or any error a
 *   Catch node received;
 * - every admin route of this package answers 401 without a token and 403 with one that lacks its
 *   permission (diaspora-config.read / .write);
 * - the authorization-code exchange refuses a code from another PKCE session;
 * - TLS (the fabric's SASL_SSL listener, own CA): no CA → a clear error; the CA → works; no option
 *   switches certificate verification off.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import diasporaConfig = require('../../nodes/diaspora-config/diaspora-config');
import diasporaOut = require('../../nodes/diaspora-out/diaspora-out');
import { driveNativeLogin } from '../../fabric/auth/drive-login';
import type { SessionStateFields } from '../../lib/session/types';
import { eventually, nodeRedHelper, type FlowNode, type NodeModule } from '../fixtures/node-red';
import { catchNode, inject, Sink, sinkNode, tab } from '../nodes/flow-support';
import { listFiles } from '../fixtures/user-dir';
import { faultFabric, type FaultFabric } from './support/fault-fabric';
import { configOf, faultConfig, faultTopic, outNode, readTopic, registerTopic } from './support/flows';
import { adminToken, api, startNodeRed, type AdminUser, type NodeRedProcess } from '../fixtures/node-red-runner';
import { recordResult } from './support/results';

/** adminAuth users of the throwaway Node-RED this test starts: fresh passwords every run. */
const oneTimePassword = (): string => randomBytes(12).toString('hex');
const ADMIN: AdminUser = { username: 'h10-admin', password: oneTimePassword(), permissions: '*' };
const VIEWER: AdminUser = { username: 'h10-viewer', password: oneTimePassword(), permissions: 'read' };
const FLOWS_ONLY: AdminUser = { username: 'h10-flows', password: oneTimePassword(), permissions: ['flows.read'] };
const WRONG_SECRET = 'h10-wrong-client-secret-0123456789abcdef';

interface Route {
  method: 'GET' | 'POST';
  path: string;
  permission: 'diaspora-config.read' | 'diaspora-config.write';
}

/** Every admin route the config node registers, read from its compiled source so none is forgotten. */
function packageRoutes(): Route[] {
  const source = fs.readFileSync(path.resolve(__dirname, '..', '..', 'nodes', 'diaspora-config', 'admin-routes.js'), 'utf8');
  const all = [...source.matchAll(/admin\.(get|post|put|delete|patch)\(/g)].length;
  const guarded = [...source.matchAll(/admin\.(get|post|put|delete|patch)\(\s*'([^']+)',\s*guard\((READ|WRITE)\)/g)];
  assert.equal(guarded.length, all, 'every admin route is registered with guard(READ|WRITE)');
  return guarded.map((m) => ({
    method: m[1].toUpperCase() as Route['method'],
    path: m[2],
    permission: m[3] === 'READ' ? 'diaspora-config.read' : 'diaspora-config.write',
  }));
}

describe('faults: secrets and access', function () {
  this.timeout(180_000);
  let fabric: FaultFabric;

  before(async function () {
    this.timeout(180_000);
    fabric = await faultFabric();
  });

  describe('a real Node-RED with adminAuth, logging at debug', function () {
    let userDir: string;
    let nodeRed: NodeRedProcess | undefined;
    let token: string;

    before(async function () {
      userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'h10-secrets-'));
      nodeRed = await startNodeRed({ userDir, credentialSecret: 'h10-credential-secret-for-tests', logLevel: 'debug', adminAuth: [ADMIN, VIEWER, FLOWS_ONLY] });
      token = await adminToken(nodeRed, ADMIN);
    });

    after(async function () {
      await nodeRed?.stop();
      if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
    });

    async function stateOf(id: string): Promise<SessionStateFields> {
      const res = await api(nodeRed!, 'GET', `/diaspora/${id}/state`, { token });
      assert.equal(res.status, 200, res.text);
      return res.body as SessionStateFields;
    }

    /** Waits for the state; a node still being deployed answers 404 meanwhile. */
    async function until(id: string, name: SessionStateFields['state'], timeoutMs = 30_000): Promise<SessionStateFields> {
      let last = '';
      return eventually(`${id} to be ${name}`, async () => {
        const res = await api(nodeRed!, 'GET', `/diaspora/${id}/state`, { token });
        last = res.text;
        const state = res.status === 200 ? (res.body as SessionStateFields) : undefined;
        return state?.state === name ? state : undefined;
      }, timeoutMs, 200).catch((err: Error) => {
        throw new Error(`${err.message}; last answer: ${last}`);
      });
    }

    it('every admin route of this package answers 401 without a token and 403 without its permission', async function () {
      const routes = packageRoutes();
      assert.ok(routes.length >= 8, `found ${routes.length} routes`);
      const viewer = await adminToken(nodeRed!, VIEWER);
      const flowsOnly = await adminToken(nodeRed!, FLOWS_ONLY);
      const matrix: string[] = [];
      for (const route of routes) {
        // A config node id that is not deployed: a request that passes the guard gets 404, without side effects.
        const url = route.path.replace(':id', 'h10-not-deployed');
        const call = (bearer?: string) => api(nodeRed!, route.method, url, { ...(route.method === 'POST' ? { body: { code: 'x', topic: 'y' } } : {}), ...(bearer ? { token: bearer } : {}) });
        const anonymous = await call();
        assert.equal(anonymous.status, 401, `${route.method} ${route.path} without a token: ${anonymous.status} ${anonymous.text}`);
        const lacking = await call(flowsOnly);
        assert.equal(lacking.status, 403, `${route.method} ${route.path} with only flows.read: ${lacking.status}`);
        const asViewer = await call(viewer);
        if (route.permission === 'diaspora-config.write') {
          assert.equal(asViewer.status, 403, `${route.method} ${route.path} with read only: ${asViewer.status}`);
        } else {
          assert.ok(![401, 403].includes(asViewer.status), `${route.method} ${route.path} with read: ${asViewer.status}`);
        }
        const asAdmin = await call(token);
        assert.ok(![401, 403].includes(asAdmin.status), `${route.method} ${route.path} with *: ${asAdmin.status}`);
        matrix.push(`${route.method} ${route.path} (${route.permission}): none ${anonymous.status}, flows.read ${lacking.status}, read ${asViewer.status}, * ${asAdmin.status}`);
      }
      for (const line of matrix) console.log(`        ${line}`);
    });

    it('the authorization-code exchange refuses a code from another PKCE session with a clear 400', async function () {
      const d = fabric.description;
      const userConfig = (id: string): object => ({
        id, type: 'diaspora-config', name: `h10 ${id}`, api: 'v1', serviceUrl: d.serviceUrl, authUrl: d.authUrl, clientId: d.clientId, authMode: 'user',
        brokers: d.brokers.join(','), kafkaAuth: 'scram-sha-512', tls: false, readyTimeout: 60,
      });
      const deployed = await api(nodeRed!, 'POST', '/flows', { body: [userConfig('user-a'), userConfig('user-b')], token, headers: { 'Node-RED-Deployment-Type': 'full' } });
      assert.equal(deployed.status, 204, deployed.text);
      await until('user-a', 'signin-required');
      await until('user-b', 'signin-required');
      const startA = await api(nodeRed!, 'POST', '/diaspora/user-a/signin/start', { token, body: {} });
      const startB = await api(nodeRed!, 'POST', '/diaspora/user-b/signin/start', { token, body: {} });
      assert.equal(startA.status, 200, startA.text);
      assert.equal(startB.status, 200, startB.text);
      const codeB = await driveNativeLogin({ authorizeUrl: (startB.body as { authorizeUrl: string }).authorizeUrl, ...d.users[1] });
      const crossed = await api(nodeRed!, 'POST', '/diaspora/user-a/signin/finish', { token, body: { code: codeB } });
      assert.equal(crossed.status, 400, crossed.text);
      const message = (crossed.body as { error: string }).error;
      assert.match(message, /code_verifier does not match the code_challenge/);
      assert.ok(!message.includes(codeB), 'the code is not echoed back');
      assert.equal((await stateOf('user-a')).state, 'signin-required', 'A stays signed out');
      // A's own session still works: a fresh code of its own signs it in.
      const again = await api(nodeRed!, 'POST', '/diaspora/user-a/signin/start', { token, body: {} });
      const codeA = await driveNativeLogin({ authorizeUrl: (again.body as { authorizeUrl: string }).authorizeUrl, ...d.users[0] });
      const finished = await api(nodeRed!, 'POST', '/diaspora/user-a/signin/finish', { token, body: { code: codeA } });
      assert.equal(finished.status, 200, finished.text);
      assert.equal((finished.body as { sub: string }).sub, d.users[0].sub);
      console.log(`        A finished with B's code: HTTP 400 "${message.slice(0, 160)}"`);
    });

    it('a full run leaves no secret in GET /flows, the flow files, the user directory, the log, admin answers or Catch', async function () {
      const d = fabric.description;
      const topic = faultTopic('secrets');
      const caughtFile = path.join(userDir, 'caught.jsonl');
      const receivedFile = path.join(userDir, 'received.jsonl');
      const client = d.clients[1];
      const cfg = (id: string, clientId: string, secret: string): object => ({
        id, type: 'diaspora-config', name: `h10 ${id}`, api: 'v3', serviceUrl: d.serviceUrl, authUrl: d.authUrl, clientId, authMode: 'client',
        brokers: d.brokers.join(','), kafkaAuth: 'scram-sha-512', tls: false, readyTimeout: 60, credentials: { clientSecret: secret },
      });
      const injectNode = (id: string, wire: string, payload: string, msgTopic: string): object => ({
        id, type: 'inject', z: 'tab', props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }], payload, payloadType: 'json', topic: msgTopic, repeat: '', once: false, wires: [[wire]],
      });
      const flow = [
        { id: 'tab', type: 'tab', label: 'h10 secrets' },
        cfg('cfg', client.clientId, client.clientSecret),
        cfg('cfg-wrong', d.clients[0].clientId, WRONG_SECRET),
        // Ids differ from every property value: Node-RED takes a value equal to a node id for a config node reference.
        { id: 'topic-register', type: 'diaspora-topic', z: 'tab', fabric: 'cfg', action: 'register', topic, wires: [[]] },
        injectNode('inj-register', 'topic-register', '""', ''),
        { id: 'pub', type: 'diaspora-out', z: 'tab', fabric: 'cfg', topic: '', key: '', mode: 'ack', acks: 'all', compression: 'none', whenNotReady: 'queue', queueSize: 100, wires: [[]] },
        { id: 'pub-wrong', type: 'diaspora-out', z: 'tab', fabric: 'cfg-wrong', topic: '', key: '', mode: 'ack', acks: 'all', compression: 'none', whenNotReady: 'fail', queueSize: 100, wires: [[]] },
        injectNode('inj-pub', 'pub', '{"reading":1}', topic),
        injectNode('inj-unregistered', 'pub', '{"reading":2}', faultTopic('nobody')),
        injectNode('inj-bad-topic', 'pub', '{"reading":3}', 'bad topic/name'),
        injectNode('inj-wrong', 'pub-wrong', '{"reading":4}', topic),
        { id: 'sub', type: 'diaspora-in', z: 'tab', fabric: 'cfg', topics: topic, start: 'earliest', groupId: '', format: 'auto', commit: 'auto', wires: [['write-received']] },
        { id: 'write-received', type: 'file', z: 'tab', filename: receivedFile, filenameType: 'str', appendNewline: true, createDir: true, overwriteFile: 'false', encoding: 'none', wires: [] },
        { id: 'catch-all', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['error-only']] },
        { id: 'error-only', type: 'change', z: 'tab', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'error', tot: 'msg' }], wires: [['write-caught']] },
        { id: 'write-caught', type: 'file', z: 'tab', filename: caughtFile, filenameType: 'str', appendNewline: true, createDir: true, overwriteFile: 'false', encoding: 'none', wires: [] },
      ];
      const deployed = await api(nodeRed!, 'POST', '/flows', { body: flow, token, headers: { 'Node-RED-Deployment-Type': 'full' } });
      assert.equal(deployed.status, 204, deployed.text);
      await until('cfg', 'ready');
      const press = async (id: string): Promise<void> => {
        const res = await api(nodeRed!, 'POST', `/inject/${id}`, { token });
        assert.equal(res.status, 200, `inject ${id}: ${res.status} ${res.text}`);
      };
      const lines = (file: string): string[] => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()) : []);

      await press('inj-register');
      let listed = '';
      await eventually('the topic to be registered', async () => {
        const res = await api(nodeRed!, 'GET', '/diaspora/cfg/topics', { token });
        listed = res.text;
        return res.status === 200 && ((res.body as { topics: string[] }).topics ?? []).includes(topic) ? true : undefined;
      }, 30_000, 200).catch((err: Error) => {
        throw new Error(`${err.message}; last list: ${listed}; caught: ${lines(caughtFile).join(' | ')}; log: ${nodeRed!.output().split('\n').filter((l) => /warn|error/i.test(l)).slice(-15).join('\n')}`);
      });
      for (let i = 0; i < 3; i++) await press('inj-pub');
      await press('inj-unregistered');
      await press('inj-bad-topic');
      await press('inj-wrong');
      await eventually('3 events consumed', () => (lines(receivedFile).length >= 3 ? true : undefined), 30_000, 200);
      // The unregistered topic lies in the identity's own namespace: a broker that already holds the
      // namespace's prefixed ACL answers "unknown topic", one that does not yet answers "not authorized".
      // Other errors may come too (diaspora-in may have started before the topic was registered).
      const expectedErrors = [
        /(is not registered to this identity|does not exist on the broker): register it with a diaspora-topic node/,
        /not a valid Kafka topic name|contains spaces/,
        /not ready: .*client id and secret/,
      ];
      const caughtMessages = (): string[] => lines(caughtFile).map((l) => (JSON.parse(l) as { message: string }).message);
      await eventually('the 3 expected errors caught', () => (expectedErrors.every((p) => caughtMessages().some((m) => p.test(m))) ? true : undefined), 60_000, 200).catch((err: Error) => {
        throw new Error(`${err.message}; caught: ${lines(caughtFile).join(' | ')}; log: ${nodeRed!.output().split('\n').filter((l) => /warn|error/i.test(l)).slice(-10).join('\n')}`);
      });
      const secrets = new Set(fabric.issuedSecrets());

      // A new key (a second Kafka secret), and the run goes on with it.
      const newKey = await api(nodeRed!, 'POST', '/diaspora/cfg/newkey', { token });
      assert.equal(newKey.status, 200, newKey.text);
      await eventually('the new key to be ready', async () => ((await stateOf('cfg')).state === 'ready' && fabric.issuedSecrets().some((s) => !secrets.has(s)) ? true : undefined), 30_000, 200);
      await press('inj-pub');
      await eventually('the 4th event consumed', () => (lines(receivedFile).length >= 4 ? true : undefined), 30_000, 200);

      // What a user or a tool can read back.
      const answers: string[] = [];
      for (const route of ['/flows', '/diaspora/cfg/state', '/diaspora/cfg/topics', '/diaspora/cfg-wrong/state', '/credentials/diaspora-config/cfg', '/credentials/diaspora-config/cfg-wrong']) {
        const res = await api(nodeRed!, 'GET', route, { token });
        assert.equal(res.status, 200, `${route}: ${res.text}`);
        answers.push(`${route}\n${res.text}`);
      }
      const wrongState = await stateOf('cfg-wrong');
      assert.equal(wrongState.state, 'error');
      const running = nodeRed!;
      await running.stop();
      nodeRed = undefined;
      const log = running.output();

      for (const s of fabric.issuedSecrets()) secrets.add(s);
      for (const c of d.clients) secrets.add(c.clientSecret);
      for (const u of d.users) secrets.add(u.password);
      secrets.add(WRONG_SECRET);
      secrets.add(d.admin.password);
      const files = listFiles(userDir);
      const places: Array<[string, string]> = [
        ...answers.map((text): [string, string] => [`the answer of GET ${text.split('\n')[0]}`, text]),
        ...files.map((file): [string, string] => [path.relative(userDir, file), fs.readFileSync(file, 'latin1')]),
        ['the runtime log (debug)', log],
      ];
      for (const [where, text] of places) {
        for (const secret of secrets) assert.ok(!text.includes(secret), `a secret (${secret.slice(0, 4)}…) is in ${where}`);
      }
      assert.ok(files.some((f) => path.basename(f) === 'flows_cred.json'), 'Node-RED wrote flows_cred.json');
      assert.ok(files.some((f) => path.basename(f) === 'flows.json'), 'Node-RED wrote flows.json');
      assert.match(log, /\[debug\]/, 'the log was captured at debug level');
      const errors = caughtMessages();
      for (const expected of expectedErrors) assert.ok(errors.some((m) => expected.test(m)), `${expected}: ${errors.join('\n')}`);
      recordResult({
        scenario: 'secrets after a full run at debug level (real Node-RED, adminAuth)',
        sent: 4,
        received: lines(receivedFile).length,
        lost: 0,
        duplicated: 'n/a',
        recoverMs: 'n/a',
        notes: `${secrets.size} secrets (access/refresh tokens, client secrets, Kafka keys before and after a new key, passwords) searched in ${answers.length} admin answers (GET /flows, state, topics, credentials), ${files.length} files of the user directory (flows.json, flows_cred.json, …), the ${(log.length / 1024).toFixed(0)} KiB debug log and ${errors.length} errors caught: none found`,
      });
    });
  });

  describe('TLS against the SASL_SSL listener (private CA)', function () {
    const helper = nodeRedHelper();
    const NODES: NodeModule[] = [diasporaConfig as NodeModule, diasporaOut as NodeModule];

    afterEach(async function () {
      await helper.unload();
    });

    it('fails with a clear error without the CA, works with it, and has no switch that turns verification off', async function () {
      const d = fabric.description;
      assert.ok(d.tls, 'the fault fabric has a SASL_SSL listener');
      const ca = fs.readFileSync(d.tls.caFile, 'utf8');
      const client = d.clients[1];
      const tlsConfig = (id: string, extra: Record<string, unknown> = {}, withCa = false): ReturnType<typeof faultConfig> => {
        const c = faultConfig(id, d, 'v3', client, { brokers: d.tls!.brokers.join(','), tls: true, ...extra });
        return { node: c.node, credentials: { [id]: { clientSecret: client.clientSecret, ...(withCa ? { ca } : {}) } } };
      };
      const withCa = tlsConfig('cfg-ca', {}, true);
      const noCa = tlsConfig('cfg-no-ca');
      // Options a user might try by hand in the flow JSON: none of them exists, none may weaken verification.
      const insecure = tlsConfig('cfg-insecure', { rejectUnauthorized: false, insecure: true, tlsInsecure: true, verifyCertificate: false, ssl: { rejectUnauthorized: false } });
      const flow: FlowNode[] = [
        tab(),
        withCa.node,
        noCa.node,
        insecure.node,
        outNode('pub-ca', 'cfg-ca', {}, [['acked']]),
        outNode('pub-no-ca', 'cfg-no-ca', { whenNotReady: 'fail' }, [['acked']]),
        outNode('pub-insecure', 'cfg-insecure', { whenNotReady: 'fail' }, [['acked']]),
        sinkNode('acked'),
        sinkNode('caught'),
        catchNode('catch', 'caught'),
      ];
      await helper.load(NODES, flow, { ...withCa.credentials, ...noCa.credentials, ...insecure.credentials });
      const acked = new Sink(helper, 'acked');
      const caught = new Sink(helper, 'caught');
      const trusted = configOf(helper, 'cfg-ca');
      const topic = faultTopic('tls');
      const kafkaTopic = await registerTopic(trusted, topic);
      await trusted.session.whenReady(30_000);
      inject(helper, 'pub-ca', { tag: 'over-tls', topic, payload: { tls: true } });
      await acked.next('over-tls', 30_000);
      const onTopic = await readTopic(fabric.adminKafka('h10-tls-reader'), kafkaTopic);
      assert.deepEqual(onTopic, ['{"tls": true}']);

      for (const id of ['cfg-no-ca', 'cfg-insecure']) {
        const session = configOf(helper, id).session;
        const state = await eventually(`${id} to fail`, () => (session.state.state === 'error' ? session.state : undefined), 30_000, 100);
        assert.equal(state.reason, 'broker-unreachable');
        assert.match(state.message ?? '', /TLS certificate of 127\.0\.0\.1:\d+ is not trusted \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\): set the fabric's CA certificate/);
        inject(helper, `pub-${id.slice(4)}`, { tag: `${id}-send`, topic, payload: 1 });
        const failure = await caught.next(`${id}-send`, 10_000);
        assert.match(failure.error?.message ?? '', /not ready: broker-unreachable: the TLS certificate .* is not trusted/);
      }
      // Nothing in the shipped code turns certificate checks off.
      const shipped = ['lib', 'nodes'].flatMap((dir) => listFiles(path.resolve(__dirname, '..', '..', dir))).filter((f) => /\.(js|html)$/.test(f));
      for (const file of shipped) {
        assert.doesNotMatch(fs.readFileSync(file, 'utf8'), /rejectUnauthorized|NODE_TLS_REJECT_UNAUTHORIZED|checkServerIdentity/, `${file} mentions a way to skip certificate checks`);
      }
      const noCaState: SessionStateFields = configOf(helper, 'cfg-no-ca').session.state;
      const message = noCaState.message ?? '';
      recordResult({
        scenario: 'TLS (SASL_SSL, private CA)',
        sent: 1,
        received: 1,
        lost: 0,
        duplicated: 0,
        recoverMs: 'n/a',
        notes: `without the CA: "${message.slice(0, 150)}"; hand-written rejectUnauthorized/insecure properties are ignored; no code path disables verification`,
      });
    });
  });
});

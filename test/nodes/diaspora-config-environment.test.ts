/**
 * A headless device set up from its environment: a real Node-RED process started with
 * DIASPORA_SDK_CLIENT_ID / DIASPORA_SDK_CLIENT_SECRET, a flow whose config node says only
 * `${DIASPORA_SDK_CLIENT_ID}` and `${DIASPORA_SDK_CLIENT_SECRET}`. It must become ready as that
 * confidential client, and the secret must never be written to the user directory (not even
 * encrypted in flows_cred.json, which keeps the reference), nor to the log.
 */
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FabricDescription } from '../../fabric/contract';
import type { SessionStateFields } from '../../lib/session/types';
import { loadFabric } from '../fixtures/fabric';
import { api, startNodeRed, type NodeRedProcess } from '../fixtures/node-red-runner';
import { eventually } from '../fixtures/node-red';
import { listFiles } from '../fixtures/user-dir';

const NODES_DIR = path.resolve(__dirname, '..', '..', 'nodes', 'diaspora-config');
const FULL_DEPLOY = { 'Node-RED-Deployment-Type': 'full' };

async function stateOf(child: NodeRedProcess, id: string, until: (s: SessionStateFields) => boolean): Promise<SessionStateFields> {
  return eventually(
    `${id} to settle`,
    async () => {
      const res = await api(child, 'GET', `/diaspora/${id}/state`);
      const state = res.status === 200 ? (res.body as SessionStateFields) : undefined;
      return state && until(state) ? state : undefined;
    },
    60_000,
    100,
  );
}

/** flows_cred.json as Node-RED decrypts it (aes-256-ctr under sha256 of the credential secret). */
function readFlowCredentials(userDir: string): Record<string, Record<string, string>> {
  const { _credentialSecret } = JSON.parse(fs.readFileSync(path.join(userDir, '.config.runtime.json'), 'utf8')) as { _credentialSecret: string };
  const sealed = (JSON.parse(fs.readFileSync(path.join(userDir, 'flows_cred.json'), 'utf8')) as { $: string }).$;
  const key = crypto.createHash('sha256').update(_credentialSecret).digest();
  const decipher = crypto.createDecipheriv('aes-256-ctr', key, Buffer.from(sealed.slice(0, 32), 'hex'));
  return JSON.parse(decipher.update(sealed.slice(32), 'base64', 'utf8') + decipher.final('utf8')) as Record<string, Record<string, string>>;
}

describe('diaspora-config set up from the environment (a real Node-RED process)', function () {
  this.timeout(120_000);
  let fabric: FabricDescription;
  let userDir: string;
  let child: NodeRedProcess | undefined;

  before(function () {
    fabric = loadFabric();
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'diaspora-env-'));
  });

  after(async function () {
    await child?.stop();
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('becomes ready as the client the environment names; the flow keeps only the references', async function () {
    const client = fabric.clients[0];
    child = await startNodeRed({
      userDir,
      nodesDir: NODES_DIR,
      env: { DIASPORA_SDK_CLIENT_ID: client.clientId, DIASPORA_SDK_CLIENT_SECRET: client.clientSecret },
    });
    const base = { type: 'diaspora-config', api: 'v3', serviceUrl: fabric.serviceUrl, authUrl: fabric.authUrl, authMode: 'client', brokers: fabric.brokers.join(','), kafkaAuth: 'scram-sha-512', tls: false, readyTimeout: 60 };
    const flow = [
      { ...base, id: 'device', name: 'headless device', clientId: '${DIASPORA_SDK_CLIENT_ID}', credentials: { clientSecret: '${DIASPORA_SDK_CLIENT_SECRET}' } },
      { ...base, id: 'unset-id', name: 'unset client id', clientId: '${DIASPORA_NOT_SET_ID}', credentials: { clientSecret: '${DIASPORA_SDK_CLIENT_SECRET}' } },
      { ...base, id: 'unset-secret', name: 'unset secret', clientId: '${DIASPORA_SDK_CLIENT_ID}', credentials: { clientSecret: '${DIASPORA_NOT_SET_SECRET}' } },
    ];
    const deploy = await api(child, 'POST', '/flows', { body: flow, headers: FULL_DEPLOY });
    assert.equal(deploy.status, 204, JSON.stringify(deploy.body));

    const ready = await stateOf(child, 'device', (s) => s.state === 'ready' || s.state === 'error');
    assert.equal(ready.state, 'ready', JSON.stringify(ready));
    assert.equal(ready.sub, client.sub, 'signed in as the client the environment names');

    const unsetId = await stateOf(child, 'unset-id', (s) => s.state === 'error');
    assert.equal(unsetId.reason, 'misconfigured');
    assert.match(unsetId.message ?? '', /clientId is \$\{DIASPORA_NOT_SET_ID\}, but the environment variable DIASPORA_NOT_SET_ID is not set/);
    const unsetSecret = await stateOf(child, 'unset-secret', (s) => s.state === 'error');
    assert.equal(unsetSecret.reason, 'misconfigured');
    assert.match(unsetSecret.message ?? '', /the client secret is \$\{DIASPORA_NOT_SET_SECRET\}, but the environment variable DIASPORA_NOT_SET_SECRET is not set/);

    // The runtime stored the sign-in and key: a second deploy makes Node-RED write every credential it holds.
    const redeploy = await api(child, 'POST', '/flows', { body: [...flow.map(({ credentials: _omitted, ...n }) => n), { id: 'tab1', type: 'tab', label: 'device' }], headers: FULL_DEPLOY });
    assert.equal(redeploy.status, 204, JSON.stringify(redeploy.body));
    await stateOf(child, 'device', (s) => s.state === 'ready');

    const flows = JSON.parse(fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8')) as { id: string; clientId?: string }[];
    assert.equal(flows.find((n) => n.id === 'device')?.clientId, '${DIASPORA_SDK_CLIENT_ID}', 'the flow file names the variable, so it can go to every device unchanged');
    const credentials = readFlowCredentials(userDir);
    assert.equal(credentials.device?.clientSecret, '${DIASPORA_SDK_CLIENT_SECRET}', 'flows_cred.json keeps the reference');
    for (const file of listFiles(userDir)) {
      assert.ok(!fs.readFileSync(file, 'latin1').includes(client.clientSecret), `${path.relative(userDir, file)} holds the client secret`);
    }
    assert.ok(!JSON.stringify(credentials).includes(client.clientSecret), 'flows_cred.json holds the client secret (encrypted)');
    assert.ok(!child.output().includes(client.clientSecret), 'the runtime logged the client secret');

    // A restart with the same environment and no deploy: ready again from the same flow files.
    await child.stop();
    child = await startNodeRed({
      userDir,
      nodesDir: NODES_DIR,
      env: { DIASPORA_SDK_CLIENT_ID: client.clientId, DIASPORA_SDK_CLIENT_SECRET: client.clientSecret },
    });
    const again = await stateOf(child, 'device', (s) => s.state === 'ready' || s.state === 'error');
    assert.equal(again.state, 'ready', JSON.stringify(again));
  });
});

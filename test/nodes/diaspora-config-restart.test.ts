/**
 * A real Node-RED process with a user directory, restarted without any deploy in between: the
 * sign-in and the key obtained at run time must survive (Node-RED itself writes credentials only
 * on deploy), encrypted, and the restarted runtime must be ready without a sign-in or a new key.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FabricDescription } from '../../fabric/contract';
import { driveNativeLogin } from '../../fabric/auth/drive-login';
import type { SessionState } from '../../lib/session/types';
import { openSecretFile } from '../../nodes/diaspora-config/secret-file';
import { credentialKey } from '../../nodes/shared/node-red-internals';
import { loadFabric } from '../fixtures/fabric';
import { fabricControl } from '../fixtures/fabric-control';
import { api, startNodeRed, type NodeRedProcess } from '../fixtures/node-red-runner';
import { eventually } from '../fixtures/node-red';
import { listFiles } from '../fixtures/user-dir';

const NODES_DIR = path.resolve(__dirname, '..', '..', 'nodes', 'diaspora-config');
const FULL_DEPLOY = { 'Node-RED-Deployment-Type': 'full' };

/** Every distinct state the admin route showed while waiting for `name`. */
async function watchUntil(child: NodeRedProcess, id: string, name: SessionState['state'], timeoutMs = 30_000): Promise<{ seen: string[]; at: number }> {
  const seen: string[] = [];
  const at = await eventually(
    `${id} to be ${name}`,
    async () => {
      const res = await api(child, 'GET', `/diaspora/${id}/state`);
      const state = res.status === 200 ? (res.body as SessionState) : undefined;
      const label = state ? state.state : `HTTP ${res.status}`;
      if (seen.at(-1) !== label) seen.push(label);
      if (state?.state === 'error') throw new Error(`${id} failed: ${state.reason}: ${state.message}`);
      return state?.state === name ? Date.now() : undefined;
    },
    timeoutMs,
    50,
  );
  return { seen, at };
}

describe('diaspora-config across a real Node-RED restart (no deploy in between)', function () {
  this.timeout(90_000);
  let fabric: FabricDescription;
  let userDir: string;
  let child: NodeRedProcess | undefined;

  before(function () {
    fabric = loadFabric();
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'h7-node-red-'));
  });

  afterEach(async function () {
    await child?.stop();
    child = undefined;
  });

  after(function () {
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('v1 user sign-in: the restarted runtime is ready with the same key, without sign-in or create_key', async function () {
    const user = fabric.users[0];
    const control = fabricControl(fabric);
    const previousDelay = await control.setKeyPropagationDelay(0);
    try {
      child = await startNodeRed({ userDir, nodesDir: NODES_DIR });
      const flow = [
        {
          id: 'cfg1',
          type: 'diaspora-config',
          name: 'h7 restart',
          api: 'v1',
          serviceUrl: fabric.serviceUrl,
          authUrl: fabric.authUrl,
          clientId: fabric.clientId,
          authMode: 'user',
          brokers: fabric.brokers.join(','),
          kafkaAuth: 'scram-sha-512',
          tls: false,
          readyTimeout: 60,
        },
      ];
      const deploy = await api(child, 'POST', '/flows', { body: flow, headers: FULL_DEPLOY });
      assert.equal(deploy.status, 204, JSON.stringify(deploy.body));
      await watchUntil(child, 'cfg1', 'signin-required');

      const start = await api(child, 'POST', '/diaspora/cfg1/signin/start', { body: {} });
      assert.equal(start.status, 200, JSON.stringify(start.body));
      const code = await driveNativeLogin({ authorizeUrl: (start.body as { authorizeUrl: string }).authorizeUrl, ...user });
      const finish = await api(child, 'POST', '/diaspora/cfg1/signin/finish', { body: { code } });
      assert.equal(finish.status, 200, JSON.stringify(finish.body));
      await watchUntil(child, 'cfg1', 'ready');

      // What is on disk: the key and tokens only in the encrypted secret file.
      const runtimeSettings = JSON.parse(fs.readFileSync(path.join(userDir, '.config.runtime.json'), 'utf8')) as Record<string, unknown>;
      const key = credentialKey({ get: (name) => runtimeSettings[name] });
      assert.ok(typeof key === 'string', 'Node-RED no longer keeps its generated credential secret as `_credentialSecret` in .config.runtime.json; change nodes/shared/node-red-internals.ts');
      const stored = openSecretFile(userDir, 'cfg1', key).read();
      assert.ok(stored?.secretKey && stored.tokens, 'the key and the sign-in are in the secret file');
      const bundle = JSON.parse(stored.tokens) as { tokens: Record<string, { accessToken: string; refreshToken?: string }> };
      const secrets = [stored.secretKey, ...Object.values(bundle.tokens).flatMap((t) => [t.accessToken, t.refreshToken ?? ''])].filter((s) => s);
      for (const file of listFiles(userDir)) {
        const text = fs.readFileSync(file, 'latin1');
        for (const secret of secrets) assert.ok(!text.includes(secret), `${path.relative(userDir, file)} holds a secret in plain text`);
      }
      assert.ok(!child.output().includes(stored.secretKey), 'the runtime logged the secret key');

      const createKeyCalls = (await control.serviceStats()).createKeyCalls[user.sub] ?? 0;
      await child.stop();

      const startedAt = Date.now();
      child = await startNodeRed({ userDir, nodesDir: NODES_DIR });
      const { seen, at } = await watchUntil(child, 'cfg1', 'ready');
      console.log(`      real Node-RED restart: process start -> ready ${at - startedAt} ms (states seen: ${seen.join(' -> ')})`);
      assert.ok(!seen.includes('signin-required') && !seen.includes('creating-key') && !seen.includes('waiting-key'), `states after restart: ${seen.join(', ')}`);
      assert.equal((await control.serviceStats()).createKeyCalls[user.sub] ?? 0, createKeyCalls, 'the restarted runtime asked for a key');
      const state = (await api(child, 'GET', '/diaspora/cfg1/state')).body as SessionState;
      assert.equal(state.sub, user.sub);

      // Removing the node forgets its secrets.
      const removal = await api(child, 'POST', '/flows', { body: [], headers: FULL_DEPLOY });
      assert.equal(removal.status, 204, JSON.stringify(removal.body));
      await eventually('the secret file to be deleted', () => (fs.existsSync(path.join(userDir, '.diaspora', 'cfg1.json')) ? undefined : true), 10_000);
    } finally {
      await control.setKeyPropagationDelay(previousDelay);
    }
  });
});

/**
 * `npm start`: the local fabric, then Node-RED on http://127.0.0.1:1880 with this package, its
 * example flows, and a demo flow already deployed and signed in as the fabric's test user `alice`.
 * Ctrl-C stops everything this script started.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FabricDescription } from '../fabric/contract';
import { fabricFile, repoRoot } from '../fabric/contract';
import { driveNativeLogin } from '../fabric/auth/drive-login';
import { buildDemoFlow, DEMO_CONFIG_ID, DEMO_TOPIC } from './demo-flow';

const PORT = Number(process.env.DEMO_PORT ?? 1880);
const HOST = '127.0.0.1';
const editorUrl = `http://${HOST}:${PORT}`;
const userDir = path.join(repoRoot, '.demo');
const fabricCli = path.join(repoRoot, 'scripts', 'fabric.js');

let nodeRed: ChildProcess | undefined;
let fabricWasRunning = true;

const stop = once(async (exitCode: number) => {
  process.stdout.write('\nstopping Node-RED and the fabric...\n');
  if (nodeRed) await stopChild(nodeRed);
  if (!fabricWasRunning) spawnSync(process.execPath, [fabricCli, 'stop'], { stdio: 'inherit' });
  process.exit(exitCode);
});

async function main(): Promise<void> {
  fabricWasRunning = spawnSync(process.execPath, [fabricCli, 'status'], { stdio: 'ignore' }).status === 0;
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  run('starting the local fabric', [fabricCli, 'start']);
  const fabric = JSON.parse(fs.readFileSync(fabricFile(), 'utf8')) as FabricDescription;

  prepareUserDir();
  nodeRed = spawn(process.execPath, [require.resolve('node-red/red.js'), '-u', userDir, '-p', String(PORT)], {
    cwd: repoRoot,
    stdio: 'inherit',
    env: { ...process.env, DIASPORA_FABRIC_FILE: fabricFile() },
  });
  nodeRed.on('exit', (code) => {
    if (code !== null && code !== 0) {
      process.stderr.write(`Node-RED exited with code ${code}\n`);
      void stop(1);
    }
  });

  await waitForHttp(`${editorUrl}/settings`, 60_000);
  const alice = fabric.users[0];
  if (!alice) throw new Error('the fabric describes no test user');
  // First the config node alone, so signing in and registering the topic happen before the flow runs.
  await deploy(buildDemoFlow(fabric, { configOnly: true }));
  const { authorizeUrl } = await adminPost<{ authorizeUrl: string }>(`diaspora/${DEMO_CONFIG_ID}/signin/start`, {});
  const code = await driveNativeLogin({ authorizeUrl, username: alice.username, password: alice.password });
  await adminPost(`diaspora/${DEMO_CONFIG_ID}/signin/finish`, { code });
  await waitForReady(120_000);
  await adminPost(`diaspora/${DEMO_CONFIG_ID}/topics`, { topic: DEMO_TOPIC });
  // Deploying only what changed keeps the signed-in config node running and saves its credentials.
  await deploy(buildDemoFlow(fabric, { configOnly: false }), 'nodes');
  process.stdout.write(
    `\nDemo ready: open ${editorUrl} — the "Diaspora demo" tab publishes a reading every 2 s to "${DEMO_TOPIC}"\n` +
      `as ${alice.username}; open the debug sidebar to see them come back through diaspora-in.\n` +
      'Examples: Menu → Import → Examples → @globus-labs/node-red-diaspora. Ctrl-C stops everything.\n',
  );
}

function prepareUserDir(): void {
  const moduleLink = path.join(userDir, 'node_modules', '@globus-labs', 'node-red-diaspora');
  fs.mkdirSync(path.dirname(moduleLink), { recursive: true });
  if (!fs.existsSync(moduleLink)) fs.symlinkSync(repoRoot, moduleLink, 'dir');
  fs.writeFileSync(
    path.join(userDir, 'package.json'),
    JSON.stringify({ name: 'diaspora-demo', private: true, dependencies: { '@globus-labs/node-red-diaspora': 'file:..' } }, null, 2),
  );
  const settingsFile = path.join(userDir, 'settings.js');
  if (!fs.existsSync(settingsFile)) {
    fs.writeFileSync(
      settingsFile,
      `module.exports = { uiHost: '${HOST}', flowFile: 'flows.json', logging: { console: { level: 'info' } } };\n`,
    );
  }
}

async function deploy(flow: object[], type: 'full' | 'nodes' = 'full'): Promise<void> {
  const res = await fetch(`${editorUrl}/flows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': type, 'Node-RED-API-Version': 'v1' },
    body: JSON.stringify(flow),
  });
  if (!res.ok) throw new Error(`deploy failed: HTTP ${res.status} ${await res.text()}`);
}

async function adminPost<T = unknown>(route: string, body: object): Promise<T> {
  const res = await fetch(`${editorUrl}/${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(`${route}: ${answer.error ?? res.status}`);
  return answer;
}

async function waitForReady(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const res = await fetch(`${editorUrl}/diaspora/${DEMO_CONFIG_ID}/state`);
    const state = (await res.json()) as { state?: string; message?: string };
    if (state.state === 'ready') return;
    if (state.state !== last) process.stdout.write(`diaspora: ${state.state ?? 'unknown'}\n`);
    last = state.state ?? '';
    if (state.state === 'error') throw new Error(`the demo identity cannot get ready: ${state.message ?? ''}`);
    await delay(500);
  }
  throw new Error(`the demo identity was not ready within ${timeoutMs / 1000} s`);
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await delay(300);
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

function run(what: string, args: string[]): void {
  process.stdout.write(`${what}...\n`);
  const result = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: repoRoot });
  if (result.status !== 0) throw new Error(`${what} failed`);
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGINT');
  });
}

function once<A, T>(fn: (arg: A) => Promise<T>): (arg: A) => Promise<T> {
  let result: Promise<T> | undefined;
  return (arg: A) => (result ??= fn(arg));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().catch((err: unknown) => {
  process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
  void stop(1);
});

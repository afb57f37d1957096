/**
 * A real Node-RED 4.1 as a user runs it (`node-red -u <userDir> -p <port>`), in a child process,
 * with a fresh user directory where this package is installed the way `npm install <folder>` does
 * it: a link in <userDir>/node_modules plus a dependency in <userDir>/package.json. That is what
 * makes the editor list the package's examples under Import → Examples.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../../../fabric/contract';

export const PACKAGE_NAME = '@globus-labs/node-red-diaspora';

export interface NodeRedEditor {
  /** http://127.0.0.1:<port>, where the editor and the admin API answer. */
  url: string;
  userDir: string;
  /** Everything Node-RED wrote to stdout and stderr so far. */
  output(): string;
  /** Lines of the output Node-RED logged at level error or above (its `[error]` prefix). */
  errors(): string[];
  /** Stops Node-RED (SIGINT, as Ctrl-C) and removes the user directory. */
  stop(): Promise<void>;
}

/** Writes the user directory: settings.js, package.json, and this package linked into node_modules. */
export function prepareUserDir(userDir: string, settings: Record<string, unknown>): void {
  const moduleLink = path.join(userDir, 'node_modules', ...PACKAGE_NAME.split('/'));
  fs.mkdirSync(path.dirname(moduleLink), { recursive: true });
  if (!fs.existsSync(moduleLink)) fs.symlinkSync(repoRoot, moduleLink, 'dir');
  const pkg = { name: 'node-red-user-dir', private: true, dependencies: { [PACKAGE_NAME]: `file:${repoRoot}` } };
  fs.writeFileSync(path.join(userDir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  fs.writeFileSync(path.join(userDir, 'settings.js'), `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
}

/** A port nobody listens on right now (the kernel's choice for port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startNodeRedEditor(opts: { startTimeoutMs?: number } = {}): Promise<NodeRedEditor> {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'diaspora-e2e-node-red-'));
  prepareUserDir(userDir, {
    uiHost: '127.0.0.1',
    flowFile: 'flows.json',
    // The welcome tour of a new Node-RED version would cover the workspace in every fresh user dir.
    editorTheme: { tours: false },
    // Decided here, so the editor does not open with the update-notification question.
    telemetry: { enabled: false },
    logging: { console: { level: 'info', metrics: false, audit: false } },
  });
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [require.resolve('node-red/red.js'), '--userDir', userDir, '--port', String(port), '--settings', path.join(userDir, 'settings.js')],
    { cwd: userDir, stdio: ['ignore', 'pipe', 'pipe'], env: process.env },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(userDir, { recursive: true, force: true });
  };

  try {
    await waitUntilServing(url, child, () => output, opts.startTimeoutMs ?? 45_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    userDir,
    output: () => output,
    errors: () => output.split('\n').filter((line) => /\[(error|fatal)\]/.test(line)),
    stop,
  };
}

/** Resolves once the editor's settings answer and the flows have started. */
async function waitUntilServing(url: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Node-RED exited (code ${child.exitCode}, signal ${child.signalCode}) before it served:\n${output()}`);
    }
    if (/Started flows|Flows file .* not found|Starting flows/.test(output())) {
      try {
        if ((await fetch(`${url}/settings`)).ok) return;
      } catch {
        // not listening yet
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`Node-RED did not serve ${url} within ${timeoutMs} ms:\n${output()}`);
}

/**
 * `npm start`'s launcher (dist/scripts/demo.js) run the way a terminal runs it: in a process group
 * of its own, so Ctrl-C is a SIGINT to the whole group. Plus what the demo tests check afterwards:
 * whether a process is still alive, and free ports for a fabric of their own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { repoRoot } from '../../../fabric/contract';

export interface DemoProcess {
  pid: number;
  /** Everything the demo (and the Node-RED it runs) printed so far. */
  output(): string;
  /** Resolves with the first line matching `pattern`; rejects when the demo exits first or time runs out. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Ctrl-C: SIGINT to the demo's process group, as a terminal sends it. */
  interrupt(): void;
  /** Resolves with the exit code once the demo exited (SIGKILLs the group after `timeoutMs`). */
  exited(timeoutMs: number): Promise<number | null>;
}

export function startDemo(env: NodeJS.ProcessEnv): DemoProcess {
  const script = path.join(repoRoot, 'dist', 'scripts', 'demo.js');
  const child: ChildProcess = spawn(process.execPath, [script], {
    cwd: repoRoot,
    env,
    detached: true, // a process group of its own, like a terminal's foreground job
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${script}`);
  const pid = child.pid;
  let output = '';
  const waiters = new Set<() => void>();
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let exitedYet = false;
  void exit.then(() => {
    exitedYet = true;
    waiters.forEach((w) => w());
  });
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    readline.createInterface({ input: stream }).on('line', (line) => {
      output += `${line}\n`;
      waiters.forEach((w) => w());
    });
  }

  return {
    pid,
    output: () => output,
    waitForLine(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = output.split('\n').map((line) => pattern.exec(line)).find((m): m is RegExpExecArray => m !== null);
          if (match) finish(() => resolve(match));
          else if (exitedYet) finish(() => reject(new Error(`the demo exited before printing ${pattern}:\n${output.slice(-4000)}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`the demo did not print ${pattern} within ${timeoutMs} ms:\n${output.slice(-4000)}`))),
          timeoutMs,
        );
        const finish = (settle: () => void): void => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    interrupt() {
      process.kill(-pid, 'SIGINT');
    },
    async exited(timeoutMs) {
      const timer = setTimeout(() => {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // the group is gone already
        }
      }, timeoutMs);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Whether `pid` is a live process (a zombie waiting for its parent counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state follows the command name in parentheses, which may itself hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The first of `count` consecutive free loopback ports, searched from a random start. */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = 30_000 + Math.floor(Math.random() * 20_000);
    const free = await Promise.all(Array.from({ length: count }, (_, i) => portIsFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports found on 127.0.0.1`);
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

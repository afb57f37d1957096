/** Child processes for the benchmark: run to completion with a bound, and read a process's memory. */
import { spawn, type SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, in ms. */
  wallMs: number;
}

export interface RunOptions extends SpawnOptions {
  timeoutMs: number;
  input?: string;
  /** Called with each stdout chunk as it arrives (and the time it arrived, performance.now()). */
  onStdout?: (chunk: Buffer, at: number) => void;
  /** Keep at most this many characters of stdout (default 1 MB). */
  keepStdout?: number;
}

/** Runs a command; rejects on spawn failure or timeout (the process is killed), resolves with its exit code. */
export function run(command: string, args: string[], opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const { timeoutMs, input, onStdout, keepStdout = 1 << 20, ...spawnOpts } = opts;
    const child = spawn(command, args, { ...spawnOpts, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} did not finish within ${Math.round(timeoutMs / 1000)} s; last output: ${(stderr || stdout).slice(-800)}`));
    }, timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      onStdout?.(chunk, performance.now());
      if (stdout.length < keepStdout) stdout += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      if (stderr.length > 1 << 20) stderr = stderr.slice(-(1 << 19));
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, wallMs: performance.now() - started });
    });
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

/** Like run, but rejects when the exit code is not 0, quoting the end of stderr. */
export async function runOk(command: string, args: string[], opts: RunOptions): Promise<RunResult> {
  const result = await run(command, args, opts);
  if (result.code !== 0) {
    throw new Error(`${command} ${args[0] ?? ''} exited with code ${result.code}: ${(result.stderr || result.stdout).trim().slice(-1500)}`);
  }
  return result;
}

/** Resident set size of a process in bytes (Linux /proc), or NaN when it is gone. */
export function rssOf(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Open file descriptors of a process that are sockets (Linux /proc). */
export function socketFdsOf(pid: number): number {
  try {
    let n = 0;
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n += 1;
      } catch {
        // closed in between
      }
    }
    return n;
  } catch {
    return NaN;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

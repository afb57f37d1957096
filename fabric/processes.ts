/**
 * Detached child processes owned by the fabric, identified by PID plus a marker in their command
 * line, so a PID reused by an unrelated process is never signalled. Never by process name.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DetachedProcess {
  command: string;
  args: string[];
  /** stdout and stderr go to this file (appended). */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Starts a process that outlives this one (own process group, no stdio ties). */
export function spawnDetached(proc: DetachedProcess): number {
  const out = fs.openSync(proc.logFile, 'a');
  try {
    const child = spawn(proc.command, proc.args, {
      detached: true,
      stdio: ['ignore', out, out],
      env: proc.env ?? process.env,
      cwd: proc.cwd,
    });
    if (child.pid === undefined) throw new Error(`Could not start ${proc.command}`);
    child.unref();
    return child.pid;
  } finally {
    fs.closeSync(out);
  }
}

function commandLine(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return undefined;
  }
}

/** True when `pid` is alive and its command line contains `marker` (a path unique to the fabric). */
export function isOwnProcess(pid: number | undefined, marker: string): boolean {
  if (!pid || pid <= 0) return false;
  const cmd = commandLine(pid);
  if (cmd === undefined || !cmd.includes(marker)) return false;
  // A zombie (exited, not yet reaped by its parent) still has a command line; treat it as gone.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export function signalOwnProcess(pid: number, marker: string, signal: NodeJS.Signals): boolean {
  if (!isOwnProcess(pid, marker)) return false;
  process.kill(pid, signal);
  return true;
}

/** Waits until the process is gone; false when it is still alive after `timeoutMs`. */
/**
 * True once the process has finished exiting: no /proc entry, or a zombie or dead state. A process
 * being torn down loses its command line before that, so `isOwnProcess` alone turns false too early.
 */
export function processExited(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}

export async function waitForExit(pid: number, marker: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isOwnProcess(pid, marker)) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  // Bounded: the pid may already belong to someone else, whose exit we must not wait for.
  while (!processExited(pid) && Date.now() < deadline) await sleep(50);
  return true;
}

/** SIGTERM, then SIGKILL after `graceMs`. Resolves once the process is gone (or was not ours). */
export async function stopOwnProcess(pid: number, marker: string, graceMs = 30_000): Promise<void> {
  if (!signalOwnProcess(pid, marker, 'SIGTERM')) return;
  // A stopped (SIGSTOP) process ignores SIGTERM until continued.
  signalOwnProcess(pid, marker, 'SIGCONT');
  if (await waitForExit(pid, marker, graceMs)) return;
  signalOwnProcess(pid, marker, 'SIGKILL');
  if (!(await waitForExit(pid, marker, 10_000))) {
    throw new Error(`Process ${pid} did not exit after SIGKILL`);
  }
}

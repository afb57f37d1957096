/** Runs a command to completion with a time limit; a failure carries the command's output. */
import { execFile } from 'node:child_process';

export interface RunOptions {
  cwd: string;
  timeoutMs: number;
  /** What the command is for, to start the error message with. */
  what: string;
  env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

export function run(command: string, args: string[], options: RunOptions): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env ?? cleanEnv(), timeout: options.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const elapsedMs = Date.now() - started;
        if (error) {
          const why = error.killed ? `did not finish within ${options.timeoutMs} ms` : `failed (${error.message.split('\n')[0]})`;
          reject(new Error(`${options.what}: \`${command} ${args.join(' ')}\` ${why}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
          return;
        }
        resolve({ stdout, stderr, elapsedMs });
      },
    );
  });
}

/**
 * The environment of a user's plain shell: without the lower-case npm_* variables `npm test` sets for
 * its scripts (a nested npm would read npm_config_* as its own configuration) and without NODE_OPTIONS.
 * A user's own NPM_CONFIG_* (upper case, e.g. a registry mirror) is kept.
 */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('npm_') && name !== 'NODE_OPTIONS') env[name] = value;
  }
  return { ...env, ...extra };
}

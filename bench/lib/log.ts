/** Progress lines on stderr (stdout carries only the final table). */
const started = Date.now();

export function say(line: string): void {
  const t = ((Date.now() - started) / 1000).toFixed(0).padStart(4, ' ');
  process.stderr.write(`[bench ${t}s] ${line}\n`);
}

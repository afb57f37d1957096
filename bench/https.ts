/**
 * `npm run bench:https`: the HTTPS section of `npm run bench` alone, against the local fabric
 * (`npm run fabric -- start`) instead of a fabric of its own; prints the table.
 *
 *   node dist/bench/https.js [events per run, default 20000] [rounds, default 3]
 *
 * BENCH_CPU_PROF=<folder> writes a CPU profile of the Node-RED process there (node --cpu-prof).
 */
import { loadFabric } from '../test/fixtures/fabric';
import { tableMarkdown } from './report';
import { httpsSection } from './sections/https';
import { benchIdentity } from './setup/fabric';

async function main(): Promise<void> {
  const fabric = loadFabric();
  const identity = await benchIdentity(fabric, fabric.clients[1]);
  const table = await httpsSection(
    fabric,
    identity,
    { messages: Number(process.argv[2] ?? 20_000), rounds: Number(process.argv[3] ?? 3), window: 5_000 },
    process.env.BENCH_CPU_PROF ? { cpuProfDir: process.env.BENCH_CPU_PROF } : {},
  );
  process.stdout.write(`\n${tableMarkdown(table)}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:https: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});

/** What every benchmark section gets: the fabric, the identity, the clients and the run's sizes. */
import type { FabricDescription } from '../fabric/contract';
import type { OutsideClients } from './clients/outside';
import type { KafkaTarget } from './clients/target';
import type { BenchIdentity } from './setup/fabric';
import type { Tools } from './setup/tools';

export interface Sizes {
  quick: boolean;
  rounds: number;
  /** Section 1 and 2: messages per run. */
  messages: number;
  /** Section 3: seconds per latency measurement. */
  latencySeconds: number;
  /** Section 4: messages through the memory run, and redeploys. */
  memoryMessages: number;
  redeploys: number;
  /** Section 6: bytes per run (counts derive from the payload size), and messages for the fan-out runs. */
  scalingBytes: number;
  scalingMaxMessages: number;
  fanoutMessages: number;
  /** Messages a windowed source may have in flight. */
  window: number;
  /** Section 9 (the other Node-RED Kafka packages): messages per run and rounds. */
  peerMessages: number;
  peerRounds: number;
  /** Section 7: events per burst of the cost runs, and events held through the outage before the drain. */
  spoolBurst: number;
  spoolOutage: number;
}

export function sizesFromEnv(): Sizes {
  const quick = process.env.BENCH_QUICK === '1';
  const num = (name: string, full: number, fast: number): number => {
    const raw = process.env[name];
    if (raw !== undefined && raw !== '') {
      const value = Number(raw);
      if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, not "${raw}"`);
      return value;
    }
    return quick ? fast : full;
  };
  return {
    quick,
    rounds: num('BENCH_ROUNDS', 5, 2),
    messages: num('BENCH_MESSAGES', 100_000, 5_000),
    latencySeconds: num('BENCH_LATENCY_SECONDS', 5, 2),
    memoryMessages: num('BENCH_MEMORY_MESSAGES', 1_000_000, 20_000),
    redeploys: num('BENCH_REDEPLOYS', 100, 10),
    scalingBytes: num('BENCH_SCALING_BYTES', 50_000_000, 2_000_000),
    scalingMaxMessages: num('BENCH_SCALING_MAX_MESSAGES', 50_000, 5_000),
    fanoutMessages: num('BENCH_FANOUT_MESSAGES', 50_000, 5_000),
    window: num('BENCH_WINDOW', 5_000, 5_000),
    peerMessages: num('BENCH_PEER_MESSAGES', 20_000, 2_000),
    peerRounds: num('BENCH_PEER_ROUNDS', 3, 2),
    spoolBurst: num('BENCH_SPOOL_BURST', 20_000, 2_000),
    spoolOutage: num('BENCH_SPOOL_OUTAGE', 100_000, 10_000),
  };
}

export interface BenchContext {
  fabric: FabricDescription;
  /** The identity of Node-RED and every raw/outside client. */
  identity: BenchIdentity;
  target: KafkaTarget;
  tools: Tools;
  outside: OutsideClients;
  sizes: Sizes;
  /** Scratch folder of this run (payload files, client configs, CPU profiles). */
  workDir: string;
  /** Registers a user-facing topic name in the identity's namespace, returns the Kafka name. */
  topic(name: string): Promise<string>;
}

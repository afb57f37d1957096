/** Everything a route needs, built once by `startServiceEmulator`. */
import type { FabricKafkaAdmin } from '../kafka-admin-api';
import type { KeyPropagator } from './key-propagation';
import type { StateStore } from './state-store';
import type { ServiceStats } from './stats';
import type { CancellableTimers, Mutex } from './timers';
import type { TokenCheck } from './token-check';

export interface ServiceConfig {
  keyPropagationDelayMs: number;
  recreateDelayMs: number;
}

export interface ServiceContext {
  store: StateStore;
  kafka: FabricKafkaAdmin;
  keys: KeyPropagator;
  checkToken: TokenCheck;
  /** Comma-separated brokers, returned as "endpoint". */
  endpoint: string;
  /** Mutable at run time through POST /_fabric/config. */
  config: ServiceConfig;
  stats: ServiceStats;
  lock: Mutex;
  timers: CancellableTimers;
  log: (line: string) => void;
}

/** Everything a route needs, built once by `startServiceEmulator`. */
import type { FabricKafkaAdmin } from '../kafka-admin-api';
import type { ConsumerRegistry } from './consumer-registry';
import type { DataPlane } from './data-plane';
import type { KeyPropagator } from './key-propagation';
import type { ProduceAdmission } from './produce-admission';
import type { StateStore } from './state-store';
import type { ServiceStats } from './stats';
import type { CancellableTimers, Mutex } from './timers';
import type { TokenCheck } from './token-check';

export interface ServiceConfig {
  keyPropagationDelayMs: number;
  recreateDelayMs: number;
  /** A REST consumer instance idle this long is closed (5 min, as in production). */
  consumerIdleMs: number;
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
  /** The REST data plane's Kafka clients (super user). */
  dataPlane: DataPlane;
  /** Failure injection of the produce routes (429 / 503). */
  produceAdmission: ProduceAdmission;
  /** The REST consumer instances. */
  consumers: ConsumerRegistry;
}

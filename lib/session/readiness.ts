/**
 * The session's path to `ready` over Kafka: points the connection manager at the key, probes the
 * broker until the key works (a new key may take a while to reach the brokers), then watches the
 * broker while the key is in use, so an outage shows as `broker-unreachable` on every node and
 * clears by itself, and a key the broker now refuses (rotated elsewhere) is reported.
 */
import type { ConnectionSettings, ConnectionStatus, Connections, KafkaCredentials } from '../kafka/connection-manager';
import type { DiasporaKey } from '../diaspora-service/service';
import { classifyKafkaError } from '../kafka/errors';
import { mskIamToken } from '../kafka/msk-iam';
import { SessionError } from './errors';
import { Pause } from './sleep';
import type { ErrorReason, SessionLogger, SessionSettings, SessionState } from './types';

const PROBE_TIMEOUT_MS = 10_000;
export const FIRST_RETRY_MS = 500;
export const MAX_RETRY_MS = 5_000;
/** A stored key's broker may be down; keep trying this often, without giving up. */
export const BROKER_RETRY_MS = 5_000;
/**
 * While ready, the broker is probed this often (and at once when a connection reports a network
 * failure), so an outage shows on every node even when nothing is sent, and a frozen broker
 * (which never closes its connections) is noticed long before Kafka's 30 s request timeout.
 */
export const WATCH_INTERVAL_MS = 10_000;
const WATCH_TIMEOUT_MS = 5_000;

/** The session's Kafka connections as the readiness drives them (ConnectionManager has it). */
export interface KafkaConnections extends Connections {
  updateSettings(settings: ConnectionSettings): Promise<void>;
  probe(timeoutMs: number): Promise<void>;
  on(event: 'status', listener: (status: ConnectionStatus) => void): unknown;
}

/** What the readiness needs of its session. */
export interface ReadinessHost {
  readonly settings: SessionSettings;
  readonly log: SessionLogger;
  /** kafkajs's own log (quieter until ready). */
  readonly kafkaLog: SessionLogger;
  subject(): string | undefined;
  /** PEM of a CA to trust for SASL_SSL. */
  ca(): string | undefined;
  createConnections(settings: ConnectionSettings): KafkaConnections;
  state(): SessionState;
  setState(state: SessionState): void;
  /** False once the generation it started for is over (new key, sign-out, close). */
  isCurrent(generation: number): boolean;
  /** A wait that the session's close cuts short. */
  sleep(ms: number): Promise<void>;
  /** v3: fetch the service's current key if it differs from `rejected` and use it; true when it did. */
  adoptServiceKey(rejected: DiasporaKey, generation: number): Promise<boolean>;
  /** The broker refused the key of a running connection. */
  keyRejectedWhileReady(): void;
}

export class KafkaReadiness {
  private connections: KafkaConnections | undefined;
  private waitTicker: NodeJS.Timeout | undefined;
  /** The generation the broker watch runs for. */
  private watching: number | undefined;
  private readonly pause: Pause;

  constructor(private readonly host: ReadinessHost) {
    this.pause = new Pause((ms) => host.sleep(ms));
  }

  get current(): KafkaConnections | undefined {
    return this.connections;
  }

  /**
   * Points the connections at the key and probes the broker until the key works. A key younger
   * than the ready timeout may still be propagating, so it gets the full wait.
   */
  async useKey(key: DiasporaKey, generation: number, isNew: boolean): Promise<void> {
    const { host } = this;
    if (!host.isCurrent(generation)) return;
    const connectionSettings = this.connectionSettings(key);
    if (this.connections) await this.connections.updateSettings(connectionSettings);
    else this.connections = this.watchStatus(host.createConnections(connectionSettings));
    const connections = this.connections;

    const readyTimeoutMs = host.settings.readyTimeoutMs;
    const age = Date.now() - Date.parse(key.createdAt);
    const mayStillPropagate = isNew || !(age >= readyTimeoutMs);
    const started = Date.now();
    const deadline = started + (mayStillPropagate ? readyTimeoutMs - Math.max(0, isNew ? 0 : age) : 0);
    let delay = FIRST_RETRY_MS;
    let askedService = false;
    for (;;) {
      if (!host.isCurrent(generation)) return;
      try {
        await connections.probe(PROBE_TIMEOUT_MS);
        if (!host.isCurrent(generation)) return;
        this.stopTicker();
        host.setState({ state: 'ready', keyCreatedAt: key.createdAt });
        void this.watch(generation);
        return;
      } catch (err) {
        if (!host.isCurrent(generation)) return;
        const kafka = classifyKafkaError(err);
        if (kafka.kind === 'auth-failed' || kafka.kind === 'topic-not-authorized') {
          if (!isNew && !askedService && host.settings.api === 'v3') {
            askedService = true;
            if (await host.adoptServiceKey(key, generation)) return;
            if (!host.isCurrent(generation)) return;
          }
          if (Date.now() >= deadline) {
            this.stopTicker();
            const reason: ErrorReason = mayStillPropagate ? 'timed-out' : 'key-rejected';
            const message = mayStillPropagate
              ? `the new key did not become usable within ${Math.round(readyTimeoutMs / 1000)} s`
              : 'the broker rejected the stored key (revoked, or rotated on another machine): create a new key';
            host.setState({ state: 'error', reason, message, retrying: false, keyCreatedAt: key.createdAt });
            return;
          }
          this.startTicker(started, key.createdAt);
          await host.sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
          delay = Math.min(MAX_RETRY_MS, delay * 1.5);
          continue;
        }
        // The broker itself cannot be reached: not the key's fault, so keep trying without a deadline.
        this.stopTicker();
        host.setState({ state: 'error', reason: 'broker-unreachable', message: kafka.message, retrying: true, keyCreatedAt: key.createdAt });
        await host.sleep(BROKER_RETRY_MS);
      }
    }
  }

  stopTicker(): void {
    if (this.waitTicker) clearInterval(this.waitTicker);
    this.waitTicker = undefined;
  }

  /** Closes the connections (sign-out, close). */
  async close(timeoutMs?: number): Promise<void> {
    this.stopTicker();
    this.pause.wake();
    const connections = this.connections;
    this.connections = undefined;
    await connections?.close(timeoutMs);
  }

  private watchStatus(connections: KafkaConnections): KafkaConnections {
    connections.on('status', (status: ConnectionStatus) => {
      const state = this.host.state();
      if (status.state === 'error' && status.kind === 'auth-failed' && state.state === 'ready') {
        this.host.keyRejectedWhileReady();
      } else if (status.state === 'error' && (status.kind === 'unreachable' || status.kind === 'timeout') && state.state === 'ready') {
        this.pause.wake();
      } else if (status.state === 'connected' && inOutage(state)) {
        this.host.setState({ state: 'ready', ...(state.keyCreatedAt ? { keyCreatedAt: state.keyCreatedAt } : {}) });
      }
    });
    return connections;
  }

  /** Runs while the key of `generation` is in use: ready ⇄ broker-unreachable, and a refused key reported. */
  private async watch(generation: number): Promise<void> {
    if (this.watching === generation) return;
    this.watching = generation;
    const { host } = this;
    try {
      while (host.isCurrent(generation)) {
        await this.pause.wait(inOutage(host.state()) ? BROKER_RETRY_MS : WATCH_INTERVAL_MS);
        const connections = this.connections;
        const state = host.state();
        if (!host.isCurrent(generation) || !connections) return;
        if (state.state !== 'ready' && !inOutage(state)) return;
        const keyCreatedAt = state.keyCreatedAt ? { keyCreatedAt: state.keyCreatedAt } : {};
        try {
          await connections.probe(WATCH_TIMEOUT_MS);
          if (host.isCurrent(generation) && host.state().state === 'error') host.setState({ state: 'ready', ...keyCreatedAt });
        } catch (err) {
          if (!host.isCurrent(generation)) return;
          const kafka = classifyKafkaError(err);
          if (kafka.kind === 'auth-failed') {
            if (host.state().state === 'ready') host.keyRejectedWhileReady();
            return;
          }
          if (kafka.transient && host.state().state === 'ready') {
            host.setState({ state: 'error', reason: 'broker-unreachable', message: kafka.message, retrying: true, ...keyCreatedAt });
          }
        }
      }
    } finally {
      if (this.watching === generation) this.watching = undefined;
    }
  }

  private startTicker(started: number, keyCreatedAt: string): void {
    const tick = (): void => {
      this.host.setState({ state: 'waiting-key', waitingSeconds: Math.floor((Date.now() - started) / 1000), keyCreatedAt });
    };
    if (!this.waitTicker) {
      tick();
      this.waitTicker = setInterval(tick, 1000);
    }
  }

  private connectionSettings(key: DiasporaKey): ConnectionSettings {
    const { settings } = this.host;
    const brokers = settings.brokers.length > 0 ? settings.brokers : splitBrokers(key.endpoint);
    if (brokers.length === 0) {
      throw new SessionError('misconfigured', 'the key came without broker addresses: set the brokers in the configuration node');
    }
    const sub = this.host.subject();
    if (!sub) throw new SessionError('auth-failed', 'not signed in');
    const credentials: KafkaCredentials =
      settings.kafkaAuth === 'msk-iam'
        ? {
            mechanism: 'oauthbearer',
            token: async () => ({ value: (await mskIamToken({ accessKey: key.accessKey, secretKey: key.secretKey })).token }),
          }
        : { mechanism: 'scram-sha-512', username: sub, password: key.secretKey };
    const ca = this.host.ca();
    return {
      brokers,
      credentials,
      tls: settings.tls ? (ca ? { ca } : {}) : false,
      clientId: `node-red-diaspora-${settings.label}`,
      logger: this.host.kafkaLog,
    };
  }
}

/** The broker is down while the key is in use: the watch probes more often and turns it back to `ready`. */
function inOutage(state: SessionState): state is Extract<SessionState, { state: 'error' }> {
  return state.state === 'error' && state.reason === 'broker-unreachable';
}

function splitBrokers(endpoint: string): string[] {
  return endpoint
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
}

/**
 * kafkajs clients built from ConnectionSettings, with every TCP connection tracked: the count is
 * what leak tests read, and destroying the sockets is how a hung disconnect is forced.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Kafka, logLevel, type ISocketFactory, type KafkaConfig, type LogEntry, type RetryOptions } from 'kafkajs';
import type { ConnectionSettings, KafkaLogger } from '../session/connection-types';
import { registerCompressionCodecs } from './codecs';

const KEEP_ALIVE_DELAY_MS = 60_000;

export const DEFAULT_RETRY = { retries: 5, initialRetryTime: 300, maxRetryTime: 5000 } as const;

/** The sockets of one component (a producer, a consumer, a probe). */
export class SocketTracker {
  private readonly sockets = new Set<net.Socket>();
  private closed = false;

  constructor(private readonly registry: SocketRegistry) {
    registry.add(this);
  }

  get open(): number {
    return this.sockets.size;
  }

  readonly factory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
    if (this.closed) {
      // kafkajs turns this into a connection error; a closed component must not reconnect.
      throw new Error('connection closed by the Diaspora connection manager');
    }
    const socket = ssl
      ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
      : net.connect({ host, port }, onConnect);
    socket.setKeepAlive(true, KEEP_ALIVE_DELAY_MS);
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    return socket;
  };

  /** Destroys every socket and refuses new ones. */
  close(): void {
    this.closed = true;
    // With an error: kafkajs only watches 'error'/'end'; a silent destroy would leave its connection
    // "connected" and its request-timeout interval running forever.
    for (const socket of this.sockets) socket.destroy(new Error('connection closed by the Diaspora connection manager'));
    this.sockets.clear();
    this.registry.remove(this);
  }
}

/** All trackers of one connection manager. */
export class SocketRegistry {
  private readonly trackers = new Set<SocketTracker>();

  add(tracker: SocketTracker): void {
    this.trackers.add(tracker);
  }

  remove(tracker: SocketTracker): void {
    this.trackers.delete(tracker);
  }

  get open(): number {
    let n = 0;
    for (const t of this.trackers) n += t.open;
    return n;
  }

  closeAll(): void {
    for (const t of [...this.trackers]) t.close();
  }
}

/** A kafkajs log line, including the debug ones the user's logger never sees. */
export interface ObservedLog {
  namespace: string;
  message: string;
  error?: unknown;
}

export interface ClientOverrides {
  retry?: RetryOptions;
  connectionTimeout?: number;
  /**
   * Receives every kafkajs log line, debug included. kafkajs sometimes keeps the broker's real
   * answer only in its debug log (e.g. why no group coordinator was found).
   */
  observeLog?: (entry: ObservedLog) => void;
}

export function retryOptions(settings: ConnectionSettings): RetryOptions {
  return { ...DEFAULT_RETRY, ...settings.retry };
}

/** A kafkajs client whose connections all go through `tracker`. */
export function createKafkaClient(
  settings: ConnectionSettings,
  tracker: SocketTracker,
  overrides: ClientOverrides = {},
): Kafka {
  registerCompressionCodecs();
  const config: KafkaConfig = {
    brokers: settings.brokers,
    clientId: settings.clientId,
    ssl: settings.tls === false ? undefined : settings.tls.ca ? { ca: [settings.tls.ca] } : true,
    sasl:
      settings.credentials.mechanism === 'scram-sha-512'
        ? {
            mechanism: 'scram-sha-512',
            username: settings.credentials.username,
            password: settings.credentials.password,
          }
        : { mechanism: 'oauthbearer', oauthBearerProvider: settings.credentials.token },
    connectionTimeout: overrides.connectionTimeout ?? settings.connectionTimeout ?? 5000,
    requestTimeout: settings.requestTimeout ?? 30000,
    retry: overrides.retry ?? retryOptions(settings),
    socketFactory: tracker.factory,
    logLevel: overrides.observeLog ? logLevel.DEBUG : logLevel.INFO,
    logCreator: kafkajsLogCreator(settings.logger, overrides.observeLog),
  };
  return new Kafka(config);
}

/** Fields of a kafkajs log entry that are useful and never secret. */
const SAFE_LOG_FIELDS = ['broker', 'groupId', 'topic', 'error', 'retryCount', 'retryTime'] as const;

/** kafkajs warnings that are expected with this library's settings. */
const EXPECTED_WARNINGS = [
  // Retries are bounded on purpose: a send must fail visibly instead of retrying forever.
  /Limiting retries for the idempotent producer/,
  // Our own closing of a connection (SocketTracker.close), e.g. after every readiness probe.
  /connection closed by the Diaspora connection manager/,
];

function kafkajsLogCreator(logger: KafkaLogger | undefined, observe: ((entry: ObservedLog) => void) | undefined) {
  return () =>
    ({ namespace, level, log }: LogEntry): void => {
      observe?.({ namespace, message: log.message, error: log.error as unknown });
      if (!logger || level === logLevel.DEBUG) return;
      const extra = SAFE_LOG_FIELDS.filter((f) => log[f] !== undefined)
        .map((f) => `${f}=${String(log[f])}`)
        .join(' ');
      const text = `kafkajs ${namespace}: ${log.message}${extra ? ` (${extra})` : ''}`;
      // kafkajs errors are also reported to the caller as rejections or onError: warn, not error,
      // so a config node mapping error() to node.error does not report them twice.
      if ((level === logLevel.ERROR || level === logLevel.WARN) && !EXPECTED_WARNINGS.some((re) => re.test(log.message))) {
        logger.warn(text);
      } else {
        logger.debug(text);
      }
    };
}

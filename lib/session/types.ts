/** Settings and state of one Diaspora session (one `diaspora-config` node), free of Node-RED. */

export type ApiVersion = 'v1' | 'v3';
export type AuthMode = 'user' | 'client';
export type KafkaAuth = 'scram-sha-512' | 'msk-iam';
/** How events travel: Kafka with a Diaspora key, or the Diaspora service's HTTPS routes (v3 only). */
export type Transport = 'kafka' | 'https';

export interface SessionSettings {
  api: ApiVersion;
  transport: Transport;
  serviceUrl: string;
  authUrl: string;
  clientId: string;
  authMode: AuthMode;
  /** Override of the brokers the key came with; empty = use the key's `endpoint`. */
  brokers: string[];
  kafkaAuth: KafkaAuth;
  tls: boolean;
  /** How long a new key may take to become usable before the session gives up. */
  readyTimeoutMs: number;
  /** Used for the Kafka client id and logs; never secret. */
  label: string;
}

/** What the session keeps between restarts. The config node stores it as Node-RED credentials. */
export interface StoredSecrets {
  clientSecret?: string;
  /** JSON of the Globus token bundle (see lib/globus/auth.ts). */
  tokens?: string;
  accessKey?: string;
  secretKey?: string;
  endpoint?: string;
  /** ISO time the key was created, to tell a key still propagating from a rejected one. */
  keyCreatedAt?: string;
  /** The auth URL, client and mode the tokens were issued for (other settings drop them). */
  tokensFor?: string;
  /** The service, API version and subject the key was issued for (other settings drop it). */
  keyFor?: string;
  /** PEM of a CA to trust for SASL_SSL. */
  ca?: string;
}

export interface SecretStore {
  load(): StoredSecrets;
  save(secrets: StoredSecrets): void;
}

export type SessionStateName =
  | 'starting'
  | 'signin-required'
  | 'creating-key'
  | 'waiting-key'
  | 'ready'
  | 'error';

export type ErrorReason =
  | 'refresh-revoked'
  | 'service-unreachable'
  | 'timed-out'
  | 'key-rejected'
  | 'auth-failed'
  | 'misconfigured'
  | 'broker-unreachable';

/** Who the session is signed in as; every state carries it once known. */
interface Identity {
  sub?: string;
  username?: string;
}

/** Each state with exactly its fields; the transitions between them are in machine.ts. */
export type SessionState = Identity &
  (
    | { state: 'starting' }
    | { state: 'signin-required' }
    | { state: 'creating-key' }
    | {
        state: 'waiting-key';
        /** Seconds spent waiting for the key to work on the broker so far. */
        waitingSeconds: number;
        keyCreatedAt: string;
      }
    /** `keyCreatedAt` is absent over HTTPS, which needs no key. */
    | { state: 'ready'; keyCreatedAt?: string }
    | {
        state: 'error';
        reason: ErrorReason;
        /** Human-readable detail, safe to show (no secrets). */
        message: string;
        /** True while the session tries again by itself (with backoff); false when only the user can help. */
        retrying: boolean;
        keyCreatedAt?: string;
      }
  );

/**
 * Any state read field by field, as the admin route's JSON and logs see it: a field the state does
 * not have is absent. Every SessionState is one.
 */
export interface SessionStateFields {
  state: SessionStateName;
  reason?: ErrorReason;
  message?: string;
  retrying?: boolean;
  waitingSeconds?: number;
  keyCreatedAt?: string;
  sub?: string;
  username?: string;
}

/** The state of one name, e.g. `StateOf<'error'>`. */
export type StateOf<N extends SessionStateName> = Extract<SessionState, { state: N }>;

/** Minimal logger the session writes to; the config node passes its own. */
export interface SessionLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

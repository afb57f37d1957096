/**
 * Fakes of the session's outside world for unit tests: Globus Auth (the token source), the
 * Diaspora service and the Kafka connections, plus an in-memory secret store. Each records what it
 * was asked, and its answers are scripted.
 */
import { EventEmitter } from 'node:events';
import type { ConnectionSettings, ConnectionStatus } from '../../../../lib/session/connection-types';
import { DiasporaSession } from '../../../../lib/session/session';
import type { DiasporaKey, DiasporaService, DiasporaServiceOptions } from '../../../../lib/diaspora-service/service';
import type { TokenBundle } from '../../../../lib/globus/auth';
import { DIASPORA_RESOURCE_SERVER } from '../../../../lib/globus/constants';
import { KafkaClientError } from '../../../../lib/kafka/errors';
import type { KafkaConnections } from '../../../../lib/session/readiness';
import type { TokenSource } from '../../../../lib/session/tokens';
import type { SecretStore, SessionSettings, SessionState, SessionStateName, StoredSecrets } from '../../../../lib/session/types';

export const HOUR_MS = 3600_000;

export function bundle(sub = 'user-1', expiresInMs = 48 * HOUR_MS): TokenBundle {
  return {
    tokens: { [DIASPORA_RESOURCE_SERVER]: { accessToken: `access-${sub}`, refreshToken: 'refresh', expiresAt: Date.now() + expiresInMs, scope: 'all' } },
    sub,
    username: `${sub}@example.org`,
  };
}

export function key(secretKey: string, createdAt = new Date().toISOString(), fresh = true): DiasporaKey {
  return { accessKey: `ak-${secretKey}`, secretKey, endpoint: '127.0.0.1:9092', createdAt, fresh };
}

export class MemoryStore implements SecretStore {
  constructor(public secrets: StoredSecrets = {}) {}
  load(): StoredSecrets {
    return { ...this.secrets };
  }
  save(secrets: StoredSecrets): void {
    this.secrets = { ...secrets };
  }
}

export class FakeAuth implements TokenSource {
  readonly calls: string[] = [];
  /** What ensureFresh does with a bundle: by default nothing is stale. */
  fresh: (b: TokenBundle) => Promise<TokenBundle> = (b) => Promise.resolve(b);
  clientCredentialsAnswer: () => Promise<TokenBundle> = () => Promise.resolve(bundle('client-1'));
  who = { sub: 'user-1', username: 'user-1@example.org' };

  startSignIn(): Promise<{ authorizeUrl: string; pending: { codeVerifier: string; state: string; redirectUri: string } }> {
    this.calls.push('startSignIn');
    return Promise.resolve({ authorizeUrl: 'http://auth.test/authorize', pending: { codeVerifier: 'v', state: 's', redirectUri: 'http://auth.test/code' } });
  }
  exchangeCode(): Promise<TokenBundle> {
    this.calls.push('exchangeCode');
    const b = bundle(this.who.sub);
    delete b.sub;
    delete b.username;
    return Promise.resolve(b);
  }
  clientCredentials(): Promise<TokenBundle> {
    this.calls.push('clientCredentials');
    return this.clientCredentialsAnswer();
  }
  ensureFresh(b: TokenBundle): Promise<TokenBundle> {
    this.calls.push('ensureFresh');
    return this.fresh(b);
  }
  revoke(): Promise<void> {
    this.calls.push('revoke');
    return Promise.resolve();
  }
  userinfo(): Promise<{ sub: string; username?: string }> {
    this.calls.push('userinfo');
    return Promise.resolve(this.who);
  }
}

/** createKey/rotateKey answer from `keys` (a function may throw or hold the answer back). */
export class FakeService {
  readonly calls: string[] = [];
  keys: (() => Promise<DiasporaKey>)[] = [];
  private made = 0;

  create = (opts: DiasporaServiceOptions): DiasporaService => {
    const next = (what: string): Promise<DiasporaKey> => {
      this.calls.push(what);
      const answer = this.keys.shift();
      return answer ? answer() : Promise.resolve(key(`secret-${++this.made}`));
    };
    return {
      api: opts.api,
      createKey: () => next('createKey'),
      rotateKey: () => next('rotateKey'),
      listTopics: () => Promise.resolve([]),
      registerTopic: () => Promise.resolve({ status: 'success', message: '' }),
      unregisterTopic: () => Promise.resolve({ status: 'success', message: '' }),
      kafkaTopic: (topic) => topic,
    };
  };
}

export type ProbeOutcome = 'ok' | 'auth' | 'down';

export const probeError = (outcome: Exclude<ProbeOutcome, 'ok'>): KafkaClientError =>
  outcome === 'auth' ? new KafkaClientError('auth-failed', 'SASL authentication failed') : new KafkaClientError('unreachable', 'connection refused');

/** The Kafka connections: probes answer from `outcomes` (the last one repeats) and are timed. */
export class FakeConnections extends EventEmitter implements KafkaConnections {
  readonly probes: number[] = [];
  readonly settings: ConnectionSettings[] = [];
  closed = false;

  constructor(
    settings: ConnectionSettings,
    public outcomes: ProbeOutcome[],
  ) {
    super();
    this.settings.push(settings);
  }

  readonly currentStatus: ConnectionStatus = { state: 'connecting' };
  updateSettings(settings: ConnectionSettings): Promise<void> {
    this.settings.push(settings);
    return Promise.resolve();
  }
  probe(): Promise<void> {
    this.probes.push(Date.now());
    const outcome = this.outcomes.length > 1 ? (this.outcomes.shift() as ProbeOutcome) : this.outcomes[0];
    return outcome === 'ok' ? Promise.resolve() : Promise.reject(probeError(outcome));
  }
  status(status: ConnectionStatus): void {
    this.emit('status', status);
  }
  acquireProducer(): never {
    throw new Error('not used by the session');
  }
  releaseProducer(): Promise<void> {
    return Promise.resolve();
  }
  createConsumer(): never {
    throw new Error('not used by the session');
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
  stats(): never {
    throw new Error('not used by the session');
  }
}

export const SETTINGS: SessionSettings = {
  api: 'v1',
  transport: 'kafka',
  serviceUrl: 'http://127.0.0.1:1',
  authUrl: 'http://127.0.0.1:2',
  clientId: 'client-1',
  authMode: 'user',
  brokers: [],
  kafkaAuth: 'scram-sha-512',
  tls: false,
  readyTimeoutMs: 60_000,
  label: 'unit',
};

/** Every transition any session of these tests made, to prove each one in the table was driven. */
export const driven = new Set<string>();

export interface Harness {
  session: DiasporaSession;
  auth: FakeAuth;
  service: FakeService;
  store: MemoryStore;
  /** The connections the session created, newest last. */
  connections: FakeConnections[];
  /** Every state the session emitted, in order. */
  states: SessionState[];
  names(): SessionStateName[];
  logs: string[];
}

export function harness(opts: { settings?: Partial<SessionSettings>; secrets?: StoredSecrets; probes?: ProbeOutcome[] } = {}): Harness {
  const auth = new FakeAuth();
  const service = new FakeService();
  const store = new MemoryStore(opts.secrets);
  const connections: FakeConnections[] = [];
  const logs: string[] = [];
  const log = (level: string) => (m: string) => logs.push(`${level}: ${m}`);
  const session = new DiasporaSession({ ...SETTINGS, ...opts.settings }, store, { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }, {
    createAuth: () => auth,
    createService: service.create,
    createConnections: (settings) => {
      const made = new FakeConnections(settings, [...(opts.probes ?? ['ok'])]);
      connections.push(made);
      return made;
    },
    strictTransitions: true,
  });
  const states: SessionState[] = [];
  let previous: SessionStateName = session.state.state;
  session.on('state', (state: SessionState) => {
    driven.add(`${previous} → ${state.state}`);
    previous = state.state;
    states.push(state);
  });
  return { session, auth, service, store, connections, states, names: () => states.map((s) => s.state), logs };
}

/** Stored secrets of a signed-in user with a key made `ageMs` ago. */
export function signedIn(ageMs: number, withKey = true): StoredSecrets {
  const stored = key('stored', new Date(Date.now() - ageMs).toISOString(), false);
  return {
    tokens: JSON.stringify(bundle()),
    ...(withKey ? { accessKey: stored.accessKey, secretKey: stored.secretKey, endpoint: stored.endpoint, keyCreatedAt: stored.createdAt } : {}),
  };
}

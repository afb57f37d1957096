/**
 * One Diaspora session: the Globus identity, the Diaspora key and the readiness of that key on the
 * broker, as the Python SDK's Client + block_until_ready do, plus the shared connections. The
 * `diaspora-config` node owns one; nothing here imports Node-RED. Its states and transitions are
 * in machine.ts; the sign-in's refresh, the stored secrets and the Kafka readiness each
 * have their own module.
 */
import { EventEmitter } from 'node:events';
import { GlobusAuth, type AuthError, type GlobusAuthOptions, type PendingSignIn } from '../globus/auth';
import { createDiasporaService, type DiasporaKey, type DiasporaService, type DiasporaServiceOptions } from '../diaspora-service/service';
import { ConnectionManager, type ConnectionSettings, type Connections } from '../kafka/connection-manager';
import { HttpsTransport } from '../https/transport';
import { checkTransition } from './machine';
import { describeState, errorText, reasonOf, SessionError } from './errors';
import { KafkaReadiness, type KafkaConnections } from './readiness';
import { SessionSecrets } from './secrets';
import { Sleepers } from './sleep';
import { SessionTokens, type TokenSource } from './tokens';
import type { SecretStore, SessionLogger, SessionSettings, SessionState } from './types';

export { SessionError, errorText } from './errors';

/** The service or Globus Auth may be down: retry the start this often, doubling up to the maximum. */
export const SERVICE_RETRY_FIRST_MS = 5_000;
export const SERVICE_RETRY_MAX_MS = 60_000;

/** The session's outside world; tests pass fakes. */
export interface SessionDeps {
  createAuth(opts: GlobusAuthOptions): TokenSource;
  createService(opts: DiasporaServiceOptions): DiasporaService;
  createConnections(settings: ConnectionSettings): KafkaConnections;
  /** Throw on a transition the table does not allow (tests); otherwise it is logged as an error. */
  strictTransitions: boolean;
}

const REAL_DEPS: SessionDeps = {
  createAuth: (opts) => new GlobusAuth(opts),
  createService: createDiasporaService,
  createConnections: (settings) => new ConnectionManager(settings),
  strictTransitions: false,
};

export class DiasporaSession extends EventEmitter {
  private current: SessionState = { state: 'starting' };
  private readonly deps: SessionDeps;
  private readonly auth: TokenSource;
  private readonly secrets: SessionSecrets;
  private readonly tokens: SessionTokens;
  private pendingSignIn: PendingSignIn | undefined;
  /** Set for the Kafka transport: the key, the broker and their readiness. */
  private readonly kafka: KafkaReadiness | undefined;
  /** Set for the HTTPS transport: it replaces the key and the broker. */
  private readonly https: HttpsTransport | undefined;
  /** Incremented whenever a readiness wait must stop (new key, sign-out, close). */
  private generation = 0;
  private closed = false;
  private readonly sleepers = new Sleepers();
  /**
   * kafkajs's own warnings while a key is still being checked (auth failures while it propagates)
   * are expected and already shown as the state, so they go to debug until the session is ready.
   */
  private readonly kafkaLog: SessionLogger = {
    debug: (m) => this.log.debug(m),
    info: (m) => this.log.info(m),
    warn: (m) => (this.current.state === 'ready' ? this.log.warn(m) : this.log.debug(m)),
    error: (m) => this.log.error(m),
  };
  /** Pending whenReady calls, rejected on close. */
  private readonly closeWaiters = new Set<() => void>();

  constructor(
    private readonly settings: SessionSettings,
    store: SecretStore,
    private readonly log: SessionLogger,
    deps: Partial<SessionDeps> = {},
  ) {
    super();
    this.deps = { ...REAL_DEPS, ...deps };
    this.secrets = new SessionSecrets(settings, store);
    const bundle = this.secrets.load(log);
    const clientSecret = this.secrets.clientSecret;
    this.auth = this.deps.createAuth({
      authUrl: settings.authUrl,
      clientId: settings.clientId,
      ...(settings.authMode === 'client' && clientSecret ? { clientSecret } : {}),
    });
    this.tokens = new SessionTokens(
      {
        auth: this.auth,
        log,
        save: (fresh) => this.secrets.saveTokens(fresh, { bind: false }),
        revoked: (err) => this.signInRevoked(err),
      },
      bundle,
    );
    const host = {
      settings,
      log,
      state: () => this.current,
      setState: (state: SessionState) => this.setState(state),
      isCurrent: (generation: number) => generation === this.generation && !this.closed,
      sleep: (ms: number) => this.sleepers.sleep(ms),
    };
    if (settings.transport === 'https') {
      this.https = new HttpsTransport({ ...host, subject: () => this.tokens.sub, accessToken: () => this.tokens.accessToken() });
    } else {
      this.kafka = new KafkaReadiness({
        ...host,
        kafkaLog: this.kafkaLog,
        subject: () => this.tokens.sub,
        ca: () => this.secrets.ca,
        createConnections: (connectionSettings) => this.deps.createConnections(connectionSettings),
        adoptServiceKey: (rejected, generation) => this.adoptServiceKey(rejected, generation),
        keyRejectedWhileReady: () => {
          if (!this.closed) void this.keyRejectedWhileReady();
        },
      });
    }
  }

  get state(): SessionState {
    return this.current;
  }

  /** The shared connections: Kafka's once a key exists, or the HTTPS transport's once ready. */
  get connections(): Connections | undefined {
    return this.https ? this.https.current : this.kafka?.current;
  }

  get transport(): SessionSettings['transport'] {
    return this.settings.transport;
  }

  get subject(): string | undefined {
    return this.tokens.sub;
  }

  /**
   * Begins (or resumes) the path to `ready`. Never throws: failures become the `error` state. An
   * unreachable service or Globus Auth is retried with backoff until it answers.
   */
  async start(): Promise<void> {
    const generation = this.generation;
    let retryMs = SERVICE_RETRY_FIRST_MS;
    for (;;) {
      try {
        if (!(await this.ensureIdentity())) return;
        this.tokens.schedule();
        await (this.https ? this.https.becomeReady(generation) : this.ensureKeyAndWait(generation));
        return;
      } catch (err) {
        const retrying = reasonOf(err) === 'service-unreachable';
        this.fail(err, generation, retrying);
        if (!retrying || !this.isCurrent(generation)) return;
        await this.sleepers.sleep(retryMs);
        if (!this.isCurrent(generation)) return;
        retryMs = Math.min(SERVICE_RETRY_MAX_MS, retryMs * 2);
      }
    }
  }

  /** Resolves once ready; rejects with the reason when the session lands in `error` first. */
  whenReady(timeoutMs: number): Promise<void> {
    if (this.current.state === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new SessionError('timed-out', `not ready after ${Math.round(timeoutMs / 1000)} s (${describeState(this.current)})`));
      }, timeoutMs);
      const onState = (state: SessionState): void => {
        if (state.state === 'ready') {
          cleanup();
          resolve();
        } else if (state.state === 'error' || state.state === 'signin-required') {
          cleanup();
          reject(new SessionError(state.state === 'error' ? state.reason : 'auth-failed', describeState(state)));
        }
      };
      const onClose = (): void => {
        cleanup();
        reject(new SessionError('misconfigured', 'the Diaspora configuration node stopped (redeployed or removed)'));
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('state', onState);
        this.closeWaiters.delete(onClose);
      };
      this.on('state', onState);
      this.closeWaiters.add(onClose);
    });
  }

  async startSignIn(): Promise<{ authorizeUrl: string }> {
    if (this.settings.authMode !== 'user') {
      throw new SessionError('misconfigured', 'this configuration uses client credentials; there is nothing to sign in to');
    }
    const { authorizeUrl, pending } = await this.auth.startSignIn();
    this.pendingSignIn = pending;
    return { authorizeUrl };
  }

  async finishSignIn(code: string): Promise<{ sub: string; username?: string }> {
    const pending = this.pendingSignIn;
    if (!pending) throw new SessionError('misconfigured', 'no sign-in is in progress: start the sign-in first');
    const trimmed = code.trim();
    if (!trimmed) throw new SessionError('misconfigured', 'paste the code that Globus showed after sign-in');
    const bundle = await this.auth.exchangeCode(trimmed, pending);
    this.pendingSignIn = undefined;
    const who = await this.auth.userinfo(bundle);
    const previousSub = this.tokens.sub;
    this.tokens.bundle = { ...bundle, sub: who.sub, ...(who.username ? { username: who.username } : {}) };
    this.secrets.saveTokens(this.tokens.bundle, { bind: true, dropKey: previousSub !== undefined && previousSub !== who.sub });
    this.restart();
    return { sub: who.sub, ...(who.username ? { username: who.username } : {}) };
  }

  async signOut(): Promise<void> {
    const bundle = this.tokens.bundle;
    this.generation++;
    this.kafka?.stopTicker();
    this.tokens.stop();
    this.tokens.bundle = undefined;
    this.secrets.forgetSignIn();
    await this.kafka?.close();
    await this.https?.close();
    if (bundle) {
      await this.auth.revoke(bundle).catch((err: unknown) => this.log.warn(`token revocation failed: ${errorText(err)}`));
    }
    this.setState({ state: 'signin-required' });
  }

  /** Creates a new key (v1 rotates and invalidates every other copy), then waits for it to work. */
  async newKey(): Promise<void> {
    if (this.https) return;
    const generation = ++this.generation;
    try {
      if (!(await this.ensureIdentity())) return;
      this.setState({ state: 'creating-key' });
      const key = await (await this.service()).rotateKey();
      await this.adoptKey(key, generation);
    } catch (err) {
      this.fail(err, generation, false);
    }
  }

  /** A service client for topic calls, with a fresh access token. */
  async service(): Promise<DiasporaService> {
    const sub = this.tokens.sub;
    if (!sub) throw new SessionError('auth-failed', 'not signed in: sign in with Globus in the configuration node');
    return this.deps.createService({
      api: this.settings.api,
      serviceUrl: this.settings.serviceUrl,
      subject: sub,
      accessToken: () => this.tokens.accessToken(),
    });
  }

  /** Puts the session in the error state for a configuration it cannot use, without starting. */
  reportMisconfiguration(message: string): void {
    this.generation++;
    this.setState({ state: 'error', reason: 'misconfigured', message, retrying: false });
  }

  /** Stops every timer and connection; bounded in time. */
  async close(timeoutMs = 10_000): Promise<void> {
    this.closed = true;
    this.generation++;
    this.tokens.close();
    this.kafka?.stopTicker();
    this.sleepers.wakeAll();
    for (const reject of [...this.closeWaiters]) reject();
    await Promise.all([this.kafka?.close(timeoutMs), this.https?.close(timeoutMs)]);
    this.removeAllListeners();
  }

  private isCurrent(generation: number): boolean {
    return generation === this.generation && !this.closed;
  }

  private restart(): void {
    this.generation++;
    void this.start();
  }

  /** Makes sure a Globus identity exists; returns false (state signin-required) when the user must sign in. */
  private async ensureIdentity(): Promise<boolean> {
    if (this.settings.authMode === 'client') {
      if (!this.secrets.clientSecret) {
        throw new SessionError('misconfigured', 'client credentials mode needs a client secret in the configuration node');
      }
      if (!this.tokens.bundle) {
        const bundle = await this.auth.clientCredentials();
        const who = await this.auth.userinfo(bundle).catch(() => undefined);
        this.tokens.bundle = { ...bundle, sub: who?.sub ?? this.settings.clientId };
        this.secrets.saveTokens(this.tokens.bundle, { bind: true });
      }
      return true;
    }
    if (!this.tokens.sub) {
      this.setState({ state: 'signin-required' });
      return false;
    }
    return true;
  }

  private async ensureKeyAndWait(generation: number): Promise<void> {
    const stored = this.secrets.key;
    if (stored) {
      await this.kafka?.useKey(stored, generation, false);
      return;
    }
    this.setState({ state: 'creating-key' });
    const key = await (await this.service()).createKey();
    await this.adoptKey(key, generation);
  }

  private async adoptKey(key: DiasporaKey, generation: number): Promise<void> {
    if (generation !== this.generation) return;
    const createdAt = this.secrets.saveKey(key, this.tokens.sub ?? '');
    await this.kafka?.useKey({ ...key, createdAt }, generation, true);
  }

  /**
   * v3 keeps one key per identity on the service; another machine may have replaced it ("new
   * key" there). POST /key is idempotent, so asking costs nothing: a different key is adopted.
   * Returns true when it was.
   */
  private async adoptServiceKey(rejected: DiasporaKey, generation: number): Promise<boolean> {
    const current = await (await this.service()).createKey();
    if (generation !== this.generation || current.secretKey === rejected.secretKey) return false;
    this.log.info('diaspora: the service holds another key for this identity (replaced elsewhere); using it');
    await this.adoptKey(current, generation);
    return true;
  }

  /** The broker refused the key of a running connection: in v3 fetch the current one, else report it. */
  private async keyRejectedWhileReady(): Promise<void> {
    const generation = ++this.generation;
    const keyCreatedAt = 'keyCreatedAt' in this.current ? this.current.keyCreatedAt : undefined;
    try {
      const stored = this.secrets.key;
      if (this.settings.api === 'v3' && stored && (await this.adoptServiceKey(stored, generation))) return;
      if (generation !== this.generation) return;
      this.setState({
        state: 'error',
        reason: 'key-rejected',
        message: 'the broker rejected the key (revoked, or rotated on another machine): create a new key',
        retrying: false,
        ...(keyCreatedAt ? { keyCreatedAt } : {}),
      });
    } catch (err) {
      this.fail(err, generation, false);
    }
  }

  /** Nothing works with this sign-in any more: only a new sign-in helps, so a wait for the key stops too. */
  private signInRevoked(err: AuthError): void {
    this.generation++;
    this.kafka?.stopTicker();
    this.setState({ state: 'error', reason: 'refresh-revoked', message: err.message, retrying: false });
  }

  /** `retrying`: the caller tries again by itself (with backoff). */
  private fail(err: unknown, generation: number, retrying: boolean): void {
    if (!this.isCurrent(generation)) return;
    this.kafka?.stopTicker();
    this.setState({ state: 'error', reason: reasonOf(err), message: errorText(err), retrying });
  }

  private setState(state: SessionState): void {
    if (this.closed) return;
    try {
      checkTransition(this.current.state, state.state);
    } catch (err) {
      if (this.deps.strictTransitions) throw err;
      this.log.error(`diaspora: ${errorText(err)} (a bug: please report it)`);
    }
    this.current = { ...this.tokens.identity, ...state };
    if (this.current.state === 'error') this.log.warn(`diaspora: ${describeState(this.current)}`);
    this.emit('state', this.current);
  }
}

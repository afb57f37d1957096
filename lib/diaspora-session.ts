/**
 * One Diaspora session: the Globus identity, the Diaspora key and the readiness of that key on the
 * broker, as the Python SDK's Client + block_until_ready do, plus the shared ConnectionManager.
 * The `diaspora-config` node owns one; nothing here imports Node-RED.
 */
import { EventEmitter } from 'node:events';
import { GlobusAuth, AuthError, type PendingSignIn, type TokenBundle, diasporaToken } from './globus-auth';
import { createDiasporaService, DiasporaServiceError, type DiasporaKey, type DiasporaService } from './diaspora-service';
import { mskIamToken } from './msk-iam';
import { ConnectionManager, type ConnectionSettings, type ConnectionStatus, type Connections, type KafkaCredentials } from './connection-manager';
import { HttpsTransport } from './https-transport';
import { classifyKafkaError } from './kafka-errors';
import { DIASPORA_RESOURCE_SERVER } from './globus-constants';
import type {
  ErrorReason,
  SecretStore,
  SessionLogger,
  SessionSettings,
  SessionState,
  StoredSecrets,
} from './session-types';

const PROBE_TIMEOUT_MS = 10_000;
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 5_000;
/** A stored key's broker may be down; keep trying this often, without giving up. */
const BROKER_RETRY_MS = 5_000;
/**
 * While ready, the broker is probed this often (and at once when a connection reports a network
 * failure), so an outage shows on every node even when nothing is sent, and a frozen broker
 * (which never closes its connections) is noticed long before Kafka's 30 s request timeout.
 */
const WATCH_INTERVAL_MS = 10_000;
const WATCH_TIMEOUT_MS = 5_000;
/** The service or Globus Auth may be down: retry the start this often, doubling up to the maximum. */
const SERVICE_RETRY_FIRST_MS = 5_000;
const SERVICE_RETRY_MAX_MS = 60_000;
/** Tokens are refreshed this long before they expire (Globus access tokens live 48 h). */
const REFRESH_SKEW_MS = 60_000;
/** Never refresh more often than this, even when tokens are very short-lived. */
const MIN_REFRESH_INTERVAL_MS = 5_000;
/** A refresh that failed for a reason other than revocation is tried again after this. */
const REFRESH_RETRY_MS = 30_000;
/** setTimeout's ceiling is about 24.8 days; re-plan at least daily. */
const MAX_TIMER_MS = 24 * 3600_000;

export class SessionError extends Error {
  constructor(
    readonly reason: ErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'SessionError';
  }
}

export class DiasporaSession extends EventEmitter {
  private current: SessionState = { state: 'starting' };
  private readonly auth: GlobusAuth;
  private bundle: TokenBundle | undefined;
  private pendingSignIn: PendingSignIn | undefined;
  private manager: ConnectionManager | undefined;
  /** Set once, for the HTTPS transport: it replaces the key and the broker. */
  private readonly https: HttpsTransport | undefined;
  /** Incremented whenever a readiness wait must stop (new key, sign-out, close). */
  private generation = 0;
  private waitTicker: NodeJS.Timeout | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Pending backoff waits, woken early on close so no timer outlives the session. */
  private readonly sleepers = new Set<() => void>();
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
  /** The generation the broker watch runs for, and how to cut its wait short. */
  private watchGeneration: number | undefined;
  private wakeWatch: (() => void) | undefined;

  constructor(
    private readonly settings: SessionSettings,
    private readonly store: SecretStore,
    private readonly log: SessionLogger,
  ) {
    super();
    const secrets = store.load();
    if (forgetForeignSecrets(secrets, this.tokensBinding(), (sub) => this.keyBinding(sub))) {
      store.save(secrets);
      log.info('diaspora: the stored sign-in or key belonged to other settings (auth URL, client, service or API) and was forgotten');
    }
    this.auth = new GlobusAuth({
      authUrl: settings.authUrl,
      clientId: settings.clientId,
      ...(settings.authMode === 'client' && secrets.clientSecret ? { clientSecret: secrets.clientSecret } : {}),
    });
    if (secrets.tokens) {
      try {
        this.bundle = JSON.parse(secrets.tokens) as TokenBundle;
      } catch {
        this.log.warn('stored sign-in could not be read; sign in again');
      }
    }
    this.https =
      settings.transport === 'https'
        ? new HttpsTransport({
            settings,
            log,
            subject: () => this.bundle?.sub,
            accessToken: () => this.diasporaAccessToken(),
            state: () => this.current,
            setState: (state) => this.setState(state),
            isCurrent: (generation) => generation === this.generation && !this.closed,
            sleep: (ms) => this.sleep(ms),
          })
        : undefined;
  }

  get state(): SessionState {
    return this.current;
  }

  /** The shared connections: Kafka's once a key exists, or the HTTPS transport's once ready. */
  get connections(): Connections | undefined {
    return this.https ? this.https.current : this.manager;
  }

  get transport(): SessionSettings['transport'] {
    return this.settings.transport;
  }

  get subject(): string | undefined {
    return this.bundle?.sub;
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
        this.scheduleRefresh();
        await (this.https ? this.https.becomeReady(generation) : this.ensureKeyAndWait(generation));
        return;
      } catch (err) {
        this.fail(err, generation);
        if (reasonOf(err) !== 'service-unreachable' || generation !== this.generation || this.closed) return;
        await this.sleep(retryMs);
        if (generation !== this.generation || this.closed) return;
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
        reject(new SessionError('timed-out', `not ready after ${Math.round(timeoutMs / 1000)} s (${describe(this.current)})`));
      }, timeoutMs);
      const onState = (state: SessionState): void => {
        if (state.state === 'ready') {
          cleanup();
          resolve();
        } else if (state.state === 'error' || state.state === 'signin-required') {
          cleanup();
          reject(new SessionError(state.reason ?? 'auth-failed', describe(state)));
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
    const previousSub = this.bundle?.sub;
    this.bundle = { ...bundle, sub: who.sub, ...(who.username ? { username: who.username } : {}) };
    const secrets: StoredSecrets = { ...this.store.load(), tokens: JSON.stringify(this.bundle), tokensFor: this.tokensBinding() };
    if (previousSub && previousSub !== who.sub) dropKey(secrets);
    this.store.save(secrets);
    this.restart();
    return { sub: who.sub, ...(who.username ? { username: who.username } : {}) };
  }

  async signOut(): Promise<void> {
    const bundle = this.bundle;
    this.generation++;
    this.stopTicker();
    this.stopRefresh();
    this.bundle = undefined;
    const secrets = this.store.load();
    delete secrets.tokens;
    delete secrets.tokensFor;
    dropKey(secrets);
    this.store.save(secrets);
    await this.manager?.close();
    this.manager = undefined;
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
      this.fail(err, generation);
    }
  }

  /** A service client for topic calls, with a fresh access token. */
  async service(): Promise<DiasporaService> {
    const sub = this.bundle?.sub;
    if (!sub) throw new SessionError('auth-failed', 'not signed in: sign in with Globus in the configuration node');
    return createDiasporaService({
      api: this.settings.api,
      serviceUrl: this.settings.serviceUrl,
      subject: sub,
      accessToken: () => this.diasporaAccessToken(),
    });
  }

  /** Puts the session in the error state for a configuration it cannot use, without starting. */
  reportMisconfiguration(message: string): void {
    this.generation++;
    this.setState({ state: 'error', reason: 'misconfigured', message });
  }

  /** Stops every timer and connection; bounded in time. */
  async close(timeoutMs = 10_000): Promise<void> {
    this.closed = true;
    this.generation++;
    this.stopTicker();
    this.stopRefresh();
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
    for (const reject of [...this.closeWaiters]) reject();
    const manager = this.manager;
    this.manager = undefined;
    await Promise.all([manager?.close(timeoutMs), this.https?.close(timeoutMs)]);
    this.removeAllListeners();
  }

  /** What stored tokens are valid for: another auth server or client makes them someone else's. */
  private tokensBinding(): string {
    return `${this.settings.authUrl} ${this.settings.clientId} ${this.settings.authMode}`;
  }

  /** What a stored key is valid for: the service, API version and identity that issued it. */
  private keyBinding(sub: string): string {
    return `${this.settings.serviceUrl} ${this.settings.api} ${sub}`;
  }

  private restart(): void {
    this.generation++;
    void this.start();
  }

  /** Makes sure a Globus identity exists; returns false (state signin-required) when the user must sign in. */
  private async ensureIdentity(): Promise<boolean> {
    if (this.settings.authMode === 'client') {
      if (!this.store.load().clientSecret) {
        throw new SessionError('misconfigured', 'client credentials mode needs a client secret in the configuration node');
      }
      if (!this.bundle) {
        const bundle = await this.auth.clientCredentials();
        const who = await this.auth.userinfo(bundle).catch(() => undefined);
        this.bundle = { ...bundle, sub: who?.sub ?? this.settings.clientId };
        this.store.save({ ...this.store.load(), tokens: JSON.stringify(this.bundle), tokensFor: this.tokensBinding() });
      }
      return true;
    }
    if (!this.bundle?.sub) {
      this.setState({ state: 'signin-required' });
      return false;
    }
    return true;
  }

  private async ensureKeyAndWait(generation: number): Promise<void> {
    const secrets = this.store.load();
    if (secrets.secretKey && secrets.accessKey) {
      await this.useKey(keyFromSecrets(secrets), generation, false);
      return;
    }
    this.setState({ state: 'creating-key' });
    const key = await (await this.service()).createKey();
    await this.adoptKey(key, generation);
  }

  private async adoptKey(key: DiasporaKey, generation: number): Promise<void> {
    if (generation !== this.generation) return;
    const createdAt = key.fresh ? new Date().toISOString() : key.createdAt || new Date().toISOString();
    this.store.save({
      ...this.store.load(),
      accessKey: key.accessKey,
      secretKey: key.secretKey,
      endpoint: key.endpoint,
      keyCreatedAt: createdAt,
      keyFor: this.keyBinding(this.bundle?.sub ?? ''),
    });
    await this.useKey({ ...key, createdAt }, generation, true);
  }

  /**
   * Points the connection manager at the key and probes the broker until the key works.
   * A key younger than the ready timeout may still be propagating, so it gets the full wait.
   */
  private async useKey(key: DiasporaKey, generation: number, isNew: boolean): Promise<void> {
    if (generation !== this.generation || this.closed) return;
    const connectionSettings = this.connectionSettings(key);
    if (this.manager) await this.manager.updateSettings(connectionSettings);
    else this.manager = this.createManager(connectionSettings);

    const age = Date.now() - Date.parse(key.createdAt);
    const mayStillPropagate = isNew || !(age >= this.settings.readyTimeoutMs);
    const started = Date.now();
    const deadline = started + (mayStillPropagate ? this.settings.readyTimeoutMs - Math.max(0, isNew ? 0 : age) : 0);
    let delay = FIRST_RETRY_MS;
    let askedService = false;
    for (;;) {
      if (generation !== this.generation) return;
      try {
        await this.manager.probe(PROBE_TIMEOUT_MS);
        if (generation !== this.generation) return;
        this.stopTicker();
        this.setState({ state: 'ready', keyCreatedAt: key.createdAt });
        void this.watchBroker(generation);
        return;
      } catch (err) {
        if (generation !== this.generation) return;
        const kafka = classifyKafkaError(err);
        if (kafka.kind === 'auth-failed' || kafka.kind === 'topic-not-authorized') {
          if (!isNew && !askedService && this.settings.api === 'v3') {
            askedService = true;
            if (await this.adoptServiceKey(key, generation)) return;
            if (generation !== this.generation) return;
          }
          if (Date.now() >= deadline) {
            this.stopTicker();
            const reason: ErrorReason = mayStillPropagate ? 'timed-out' : 'key-rejected';
            const message = mayStillPropagate
              ? `the new key did not become usable within ${Math.round(this.settings.readyTimeoutMs / 1000)} s`
              : 'the broker rejected the stored key (revoked, or rotated on another machine): create a new key';
            this.setState({ state: 'error', reason, message, keyCreatedAt: key.createdAt });
            return;
          }
          this.startTicker(started, key.createdAt);
          await this.sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
          delay = Math.min(MAX_RETRY_MS, delay * 1.5);
          continue;
        }
        // The broker itself cannot be reached: not the key's fault, so keep trying without a deadline.
        this.stopTicker();
        this.setState({ state: 'error', reason: 'broker-unreachable', message: kafka.message, keyCreatedAt: key.createdAt });
        await this.sleep(BROKER_RETRY_MS);
      }
    }
  }

  private createManager(settings: ConnectionSettings): ConnectionManager {
    const manager = new ConnectionManager(settings);
    manager.on('status', (status: ConnectionStatus) => {
      if (this.closed) return;
      if (status.state === 'error' && status.kind === 'auth-failed' && this.current.state === 'ready') {
        void this.keyRejectedWhileReady();
      } else if (status.state === 'error' && (status.kind === 'unreachable' || status.kind === 'timeout') && this.current.state === 'ready') {
        this.wakeWatch?.();
      } else if (status.state === 'connected' && this.current.state === 'error' && this.current.reason === 'broker-unreachable') {
        this.setState({ state: 'ready', ...(this.current.keyCreatedAt ? { keyCreatedAt: this.current.keyCreatedAt } : {}) });
      }
    });
    return manager;
  }

  /**
   * Runs while the key of `generation` is in use: probes the broker, turns an outage into
   * `error: broker-unreachable` (the flow nodes queue or fail by their policy meanwhile) and back to
   * `ready` once the broker answers, and reports a key the broker now refuses (rotated elsewhere).
   */
  private async watchBroker(generation: number): Promise<void> {
    if (this.watchGeneration === generation) return;
    this.watchGeneration = generation;
    try {
      while (generation === this.generation && !this.closed) {
        const outage = this.current.state === 'error' && this.current.reason === 'broker-unreachable';
        await this.watchPause(outage ? BROKER_RETRY_MS : WATCH_INTERVAL_MS);
        const manager = this.manager;
        if (generation !== this.generation || this.closed || !manager) return;
        const watched = this.current.state === 'ready' || (this.current.state === 'error' && this.current.reason === 'broker-unreachable');
        if (!watched) return;
        const keyCreatedAt = this.current.keyCreatedAt ? { keyCreatedAt: this.current.keyCreatedAt } : {};
        try {
          await manager.probe(WATCH_TIMEOUT_MS);
          if (generation === this.generation && this.current.state === 'error') this.setState({ state: 'ready', ...keyCreatedAt });
        } catch (err) {
          if (generation !== this.generation || this.closed) return;
          const kafka = classifyKafkaError(err);
          if (kafka.kind === 'auth-failed') {
            if (this.current.state === 'ready') void this.keyRejectedWhileReady();
            return;
          }
          if (kafka.transient && this.current.state === 'ready') {
            this.setState({ state: 'error', reason: 'broker-unreachable', message: kafka.message, ...keyCreatedAt });
          }
        }
      }
    } finally {
      if (this.watchGeneration === generation) this.watchGeneration = undefined;
    }
  }

  /** The watch's sleep: like `sleep`, and a connection's network failure cuts it short. */
  private watchPause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        if (this.wakeWatch === wake) this.wakeWatch = undefined;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
      this.wakeWatch = wake;
    });
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
    const keyCreatedAt = this.current.keyCreatedAt;
    try {
      const secrets = this.store.load();
      if (this.settings.api === 'v3' && secrets.secretKey && (await this.adoptServiceKey(keyFromSecrets(secrets), generation))) return;
      if (generation !== this.generation) return;
      this.setState({
        state: 'error',
        reason: 'key-rejected',
        message: 'the broker rejected the key (revoked, or rotated on another machine): create a new key',
        ...(keyCreatedAt ? { keyCreatedAt } : {}),
      });
    } catch (err) {
      this.fail(err, generation);
    }
  }

  private connectionSettings(key: DiasporaKey): ConnectionSettings {
    const brokers = this.settings.brokers.length > 0 ? this.settings.brokers : splitBrokers(key.endpoint);
    if (brokers.length === 0) {
      throw new SessionError('misconfigured', 'the key came without broker addresses: set the brokers in the configuration node');
    }
    const sub = this.bundle?.sub;
    if (!sub) throw new SessionError('auth-failed', 'not signed in');
    const credentials: KafkaCredentials =
      this.settings.kafkaAuth === 'msk-iam'
        ? {
            mechanism: 'oauthbearer',
            token: async () => ({ value: (await mskIamToken({ accessKey: key.accessKey, secretKey: key.secretKey })).token }),
          }
        : { mechanism: 'scram-sha-512', username: sub, password: key.secretKey };
    const ca = this.store.load().ca;
    return {
      brokers,
      credentials,
      tls: this.settings.tls ? (ca ? { ca } : {}) : false,
      clientId: `node-red-diaspora-${this.settings.label}`,
      logger: this.kafkaLog,
    };
  }

  private async diasporaAccessToken(): Promise<string> {
    if (!this.bundle) throw new SessionError('auth-failed', 'not signed in: sign in with Globus in the configuration node');
    try {
      const fresh = await this.auth.ensureFresh(this.bundle);
      if (fresh !== this.bundle) {
        this.bundle = { ...fresh, ...(this.bundle.sub ? { sub: this.bundle.sub } : {}), ...(this.bundle.username ? { username: this.bundle.username } : {}) };
        this.store.save({ ...this.store.load(), tokens: JSON.stringify(this.bundle) });
        this.scheduleRefresh();
      }
      return diasporaToken(this.bundle).accessToken;
    } catch (err) {
      // Globus Auth cannot be reached: a token that has not expired yet is still good at the service.
      const current = err instanceof AuthError && err.kind === 'unreachable' ? this.bundle?.tokens[DIASPORA_RESOURCE_SERVER] : undefined;
      if (current && current.expiresAt > Date.now()) {
        this.log.debug(`diaspora: ${errorText(err)}; using the current access token until it expires`);
        return current.accessToken;
      }
      if (err instanceof AuthError && err.kind === 'revoked') {
        // Nothing works with this sign-in any more: only a new sign-in helps, so a wait for the key stops too.
        this.generation++;
        this.stopTicker();
        this.stopRefresh();
        this.setState({ state: 'error', reason: 'refresh-revoked', message: err.message });
      }
      throw err;
    }
  }

  private fail(err: unknown, generation: number): void {
    if (generation !== this.generation || this.closed) return;
    this.stopTicker();
    this.setState({ state: 'error', reason: reasonOf(err), message: errorText(err) });
  }

  /** Plans the next token refresh, shortly before the first token expires. */
  private scheduleRefresh(): void {
    this.stopRefresh();
    const expiries = Object.values(this.bundle?.tokens ?? {}).map((t) => t.expiresAt);
    if (this.closed || expiries.length === 0) return;
    const due = Math.min(...expiries) - REFRESH_SKEW_MS - Date.now();
    this.planRefresh(Math.min(MAX_TIMER_MS, Math.max(MIN_REFRESH_INTERVAL_MS, due)));
  }

  private planRefresh(ms: number): void {
    this.stopRefresh();
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.refreshNow();
    }, ms);
  }

  /** Refreshes proactively, so a revoked sign-in shows as red now rather than at the next topic call. */
  private async refreshNow(): Promise<void> {
    if (this.closed || !this.bundle) return;
    const before = this.bundle;
    try {
      await this.diasporaAccessToken();
      // No token was stale yet (the timer fired early): plan again from the current expiries.
      if (this.bundle === before) this.scheduleRefresh();
    } catch (err) {
      if (this.closed || (err instanceof AuthError && err.kind === 'revoked')) return;
      this.log.warn(`diaspora: refreshing the sign-in failed, trying again in ${REFRESH_RETRY_MS / 1000} s: ${errorText(err)}`);
      this.planRefresh(REFRESH_RETRY_MS);
    }
  }

  private stopRefresh(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private startTicker(started: number, keyCreatedAt: string): void {
    const tick = (): void => {
      this.setState({ state: 'waiting-key', waitingSeconds: Math.floor((Date.now() - started) / 1000), keyCreatedAt });
    };
    if (!this.waitTicker) {
      tick();
      this.waitTicker = setInterval(tick, 1000);
    }
  }

  private stopTicker(): void {
    if (this.waitTicker) clearInterval(this.waitTicker);
    this.waitTicker = undefined;
  }

  private setState(state: SessionState): void {
    if (this.closed) return;
    const who = this.bundle?.sub ? { sub: this.bundle.sub, ...(this.bundle.username ? { username: this.bundle.username } : {}) } : {};
    this.current = { ...who, ...state };
    if (state.state === 'error') this.log.warn(`diaspora: ${describe(this.current)}`);
    this.emit('state', this.current);
  }
}

function reasonOf(err: unknown): ErrorReason {
  if (err instanceof SessionError) return err.reason;
  if (err instanceof AuthError) {
    if (err.kind === 'revoked') return 'refresh-revoked';
    if (err.kind === 'unreachable') return 'service-unreachable';
    return 'auth-failed';
  }
  if (err instanceof DiasporaServiceError) {
    if (err.kind === 'unreachable' || err.kind === 'protocol') return 'service-unreachable';
    if (err.kind === 'invalid') return 'misconfigured';
    return 'auth-failed';
  }
  return 'auth-failed';
}

function describe(state: SessionState): string {
  return state.message ? `${state.state}: ${state.message}` : state.state;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function splitBrokers(endpoint: string): string[] {
  return endpoint
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
}

function keyFromSecrets(secrets: StoredSecrets): DiasporaKey {
  return {
    accessKey: secrets.accessKey ?? '',
    secretKey: secrets.secretKey ?? '',
    endpoint: secrets.endpoint ?? '',
    createdAt: secrets.keyCreatedAt ?? new Date(0).toISOString(),
    fresh: false,
  };
}

function dropKey(secrets: StoredSecrets): void {
  delete secrets.accessKey;
  delete secrets.secretKey;
  delete secrets.endpoint;
  delete secrets.keyCreatedAt;
  delete secrets.keyFor;
}

/**
 * Drops stored tokens and keys that were made for other settings (the user changed the auth URL,
 * client, service or API version after signing in). Returns true when something was dropped.
 */
function forgetForeignSecrets(secrets: StoredSecrets, tokensFor: string, keyFor: (sub: string) => string): boolean {
  let dropped = false;
  if (secrets.tokens && secrets.tokensFor !== undefined && secrets.tokensFor !== tokensFor) {
    delete secrets.tokens;
    delete secrets.tokensFor;
    dropKey(secrets);
    return true;
  }
  if (secrets.secretKey && secrets.keyFor !== undefined) {
    let sub = '';
    try {
      sub = (JSON.parse(secrets.tokens ?? '{}') as TokenBundle).sub ?? '';
    } catch {
      // unreadable tokens: the key cannot be matched to an identity
    }
    if (secrets.keyFor !== keyFor(sub)) {
      dropKey(secrets);
      dropped = true;
    }
  }
  return dropped;
}

/**
 * One Diaspora session: the Globus identity, the Diaspora key and the readiness of that key on the
 * broker, as the Python SDK's Client + block_until_ready do, plus the shared ConnectionManager.
 * The `diaspora-config` node owns one; nothing here imports Node-RED.
 */
import { EventEmitter } from 'node:events';
import { GlobusAuth, AuthError, type PendingSignIn, type TokenBundle, diasporaToken } from './globus-auth';
import { createDiasporaService, type DiasporaKey, type DiasporaService } from './diaspora-service';
import { mskIamToken } from './msk-iam';
import { ConnectionManager, type ConnectionSettings, type KafkaCredentials } from './connection-manager';
import { classifyKafkaError } from './kafka-errors';
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
  /** Incremented whenever a readiness wait must stop (new key, sign-out, close). */
  private generation = 0;
  private waitTicker: NodeJS.Timeout | undefined;
  private closed = false;
  /** Pending backoff waits, woken early on close so no timer outlives the session. */
  private readonly sleepers = new Set<() => void>();

  constructor(
    private readonly settings: SessionSettings,
    private readonly store: SecretStore,
    private readonly log: SessionLogger,
  ) {
    super();
    const secrets = store.load();
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
  }

  get state(): SessionState {
    return this.current;
  }

  /** The shared connection manager, once a key exists. */
  get connections(): ConnectionManager | undefined {
    return this.manager;
  }

  get subject(): string | undefined {
    return this.bundle?.sub;
  }

  /** Begins (or resumes) the path to `ready`. Never throws: failures become the `error` state. */
  async start(): Promise<void> {
    const generation = this.generation;
    try {
      if (!(await this.ensureIdentity())) return;
      await this.ensureKeyAndWait(generation);
    } catch (err) {
      this.fail(err, generation);
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
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('state', onState);
      };
      this.on('state', onState);
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
    const secrets: StoredSecrets = { ...this.store.load(), tokens: JSON.stringify(this.bundle) };
    if (previousSub && previousSub !== who.sub) dropKey(secrets);
    this.store.save(secrets);
    this.restart();
    return { sub: who.sub, ...(who.username ? { username: who.username } : {}) };
  }

  async signOut(): Promise<void> {
    const bundle = this.bundle;
    this.generation++;
    this.bundle = undefined;
    const secrets = this.store.load();
    delete secrets.tokens;
    dropKey(secrets);
    this.store.save(secrets);
    await this.manager?.close();
    this.manager = undefined;
    if (bundle) {
      await this.auth.revoke(bundle).catch((err: unknown) => this.log.warn(`token revocation failed: ${errorText(err)}`));
    }
    this.setState({ state: 'signin-required' });
  }

  /** Creates a new key (v1 rotates and invalidates every other copy), then waits for it to work. */
  async newKey(): Promise<void> {
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
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
    const manager = this.manager;
    this.manager = undefined;
    await manager?.close(timeoutMs);
    this.removeAllListeners();
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
        this.store.save({ ...this.store.load(), tokens: JSON.stringify(this.bundle) });
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
    });
    await this.useKey({ ...key, createdAt }, generation, true);
  }

  /**
   * Points the connection manager at the key and probes the broker until the key works.
   * A key younger than the ready timeout may still be propagating, so it gets the full wait.
   */
  private async useKey(key: DiasporaKey, generation: number, isNew: boolean): Promise<void> {
    const connectionSettings = this.connectionSettings(key);
    if (this.manager) await this.manager.updateSettings(connectionSettings);
    else this.manager = this.createManager(connectionSettings);

    const age = Date.now() - Date.parse(key.createdAt);
    const mayStillPropagate = isNew || !(age >= this.settings.readyTimeoutMs);
    const started = Date.now();
    const deadline = started + (mayStillPropagate ? this.settings.readyTimeoutMs - Math.max(0, isNew ? 0 : age) : 0);
    let delay = FIRST_RETRY_MS;
    for (;;) {
      if (generation !== this.generation) return;
      try {
        await this.manager.probe(PROBE_TIMEOUT_MS);
        if (generation !== this.generation) return;
        this.stopTicker();
        this.setState({ state: 'ready', keyCreatedAt: key.createdAt });
        return;
      } catch (err) {
        if (generation !== this.generation) return;
        const kafka = classifyKafkaError(err);
        if (kafka.kind === 'auth-failed' || kafka.kind === 'topic-not-authorized') {
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
    manager.on('status', (status: { state: string; reason?: string; kind?: string }) => {
      if (this.closed) return;
      if (status.state === 'error' && status.kind === 'auth-failed' && this.current.state === 'ready') {
        this.setState({
          state: 'error',
          reason: 'key-rejected',
          message: 'the broker rejected the key (revoked, or rotated on another machine): create a new key',
          ...(this.current.keyCreatedAt ? { keyCreatedAt: this.current.keyCreatedAt } : {}),
        });
      } else if (status.state === 'connected' && this.current.state === 'error' && this.current.reason !== 'key-rejected') {
        this.setState({ state: 'ready', ...(this.current.keyCreatedAt ? { keyCreatedAt: this.current.keyCreatedAt } : {}) });
      }
    });
    return manager;
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
      logger: this.log,
    };
  }

  private async diasporaAccessToken(): Promise<string> {
    if (!this.bundle) throw new SessionError('auth-failed', 'not signed in: sign in with Globus in the configuration node');
    try {
      const fresh = await this.auth.ensureFresh(this.bundle);
      if (fresh !== this.bundle) {
        this.bundle = { ...fresh, ...(this.bundle.sub ? { sub: this.bundle.sub } : {}), ...(this.bundle.username ? { username: this.bundle.username } : {}) };
        this.store.save({ ...this.store.load(), tokens: JSON.stringify(this.bundle) });
      }
      return diasporaToken(this.bundle).accessToken;
    } catch (err) {
      if (err instanceof AuthError && err.kind === 'revoked') {
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
  const kind = (err as { kind?: unknown } | null)?.kind;
  if (kind === 'unreachable' || kind === 'protocol') return 'service-unreachable';
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
}

/**
 * What the session keeps in its secret store, and what it is valid for: tokens are bound to the
 * auth server, client and mode that issued them, a key to the service, API version and identity.
 * Stored secrets made for other settings are forgotten on load.
 */
import type { DiasporaKey } from '../diaspora-service/service';
import type { TokenBundle } from '../globus/auth';
import type { SecretStore, SessionLogger, SessionSettings, StoredSecrets } from './types';

export class SessionSecrets {
  constructor(
    private readonly settings: SessionSettings,
    private readonly store: SecretStore,
  ) {}

  /** Reads the store, dropping what belongs to other settings; returns the stored sign-in, if readable. */
  load(log: SessionLogger): TokenBundle | undefined {
    const secrets = this.store.load();
    if (forgetForeignSecrets(secrets, this.tokensBinding(), (sub) => this.keyBinding(sub))) {
      this.store.save(secrets);
      log.info('diaspora: the stored sign-in or key belonged to other settings (auth URL, client, service or API) and was forgotten');
    }
    if (!secrets.tokens) return undefined;
    try {
      return JSON.parse(secrets.tokens) as TokenBundle;
    } catch {
      log.warn('stored sign-in could not be read; sign in again');
      return undefined;
    }
  }

  get clientSecret(): string | undefined {
    return this.store.load().clientSecret;
  }

  /** PEM of a CA to trust for SASL_SSL. */
  get ca(): string | undefined {
    return this.store.load().ca;
  }

  /** The stored key, if complete. */
  get key(): DiasporaKey | undefined {
    const secrets = this.store.load();
    return secrets.secretKey && secrets.accessKey ? keyFromSecrets(secrets) : undefined;
  }

  /** Stores a new sign-in; `bind` marks it as issued for these settings, `dropKey` forgets the key (another identity). */
  saveTokens(bundle: TokenBundle, opts: { bind: boolean; dropKey?: boolean }): void {
    const secrets: StoredSecrets = { ...this.store.load(), tokens: JSON.stringify(bundle), ...(opts.bind ? { tokensFor: this.tokensBinding() } : {}) };
    if (opts.dropKey) dropKey(secrets);
    this.store.save(secrets);
  }

  /** Stores a key for the identity `sub`; returns its creation time (now for a fresh key). */
  saveKey(key: DiasporaKey, sub: string): string {
    const createdAt = key.fresh ? new Date().toISOString() : key.createdAt || new Date().toISOString();
    this.store.save({
      ...this.store.load(),
      accessKey: key.accessKey,
      secretKey: key.secretKey,
      endpoint: key.endpoint,
      keyCreatedAt: createdAt,
      keyFor: this.keyBinding(sub),
    });
    return createdAt;
  }

  /** Sign-out: the sign-in and the key go; the client secret and CA stay. */
  forgetSignIn(): void {
    const secrets = this.store.load();
    delete secrets.tokens;
    delete secrets.tokensFor;
    dropKey(secrets);
    this.store.save(secrets);
  }

  /** What stored tokens are valid for: another auth server or client makes them someone else's. */
  private tokensBinding(): string {
    return `${this.settings.authUrl} ${this.settings.clientId} ${this.settings.authMode}`;
  }

  /** What a stored key is valid for: the service, API version and identity that issued it. */
  private keyBinding(sub: string): string {
    return `${this.settings.serviceUrl} ${this.settings.api} ${sub}`;
  }
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
      return true;
    }
  }
  return false;
}

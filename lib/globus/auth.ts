/**
 * Globus Auth client (openid-client, OIDC discovery): the native-app sign-in with PKCE that the
 * Python SDK uses, client credentials, refresh, revocation and userinfo. Tokens are kept per
 * resource server, as Globus issues them (top-level token plus `other_tokens`).
 */
import * as os from 'node:os';
import * as oidc from 'openid-client';
import { AuthError, classify, type Grant } from './auth-errors';
import { AUTH_CODE_PAGE_PATH, DIASPORA_SCOPE, GLOBUS_AUTH_RESOURCE_SERVER } from './constants';
import { assertBundle, bundleFromResponse, keepIdentity, type ResourceToken, type TokenBundle } from './tokens';
import { isLoopback } from '../loopback';

export { AuthError, type AuthErrorKind } from './auth-errors';
export {
  bundleFromResponse,
  diasporaToken,
  parseTokenBundle,
  type ResourceToken,
  type TokenBundle,
} from './tokens';

/** What a started sign-in needs to finish; serialisable, kept in memory by the caller. */
export interface PendingSignIn {
  codeVerifier: string;
  state: string;
  redirectUri: string;
}

export interface UserInfo {
  sub: string;
  username?: string;
  name?: string;
  email?: string;
}

export interface GlobusAuthOptions {
  /** Globus Auth issuer, e.g. https://auth.globus.org (plain http only on a loopback host). */
  authUrl: string;
  clientId: string;
  /** Set for a confidential client (client-credentials mode). */
  clientSecret?: string;
  /** Default: openid, profile, email and the Diaspora `action_all` scope. */
  scopes?: string[];
  /** Per HTTP request; default 15 s. */
  fetchTimeoutMs?: number;
}

const DEFAULT_SCOPES = ['openid', 'profile', 'email', DIASPORA_SCOPE];
const DEFAULT_TIMEOUT_MS = 15_000;

export class GlobusAuth {
  private readonly authUrl: URL;
  private readonly clientId: string;
  private readonly clientSecret: string | undefined;
  private readonly scopes: string[];
  private readonly timeoutMs: number;
  private readonly insecureLoopback: boolean;
  private configuration: Promise<oidc.Configuration> | undefined;

  constructor(opts: GlobusAuthOptions) {
    this.authUrl = parseAuthUrl(opts.authUrl);
    this.insecureLoopback = this.authUrl.protocol === 'http:';
    if (typeof opts.clientId !== 'string' || opts.clientId.trim() === '') {
      throw new Error('Globus client id is empty: set the client id in the Diaspora configuration.');
    }
    this.clientId = opts.clientId.trim();
    this.clientSecret = opts.clientSecret ? opts.clientSecret : undefined;
    this.scopes = opts.scopes && opts.scopes.length > 0 ? [...opts.scopes] : [...DEFAULT_SCOPES];
    this.timeoutMs = opts.fetchTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** True when a client secret is configured (client-credentials mode). */
  get isConfidential(): boolean {
    return this.clientSecret !== undefined;
  }

  /** The Globus page that shows the authorization code to copy: `<authUrl>/v2/web/auth-code`. */
  get redirectUri(): string {
    return `${this.authUrl.href.replace(/\/+$/, '')}${AUTH_CODE_PAGE_PATH}`;
  }

  /**
   * Begins the native-app flow: returns the URL the user opens, and what `exchangeCode` needs later.
   * `namedGrant` labels the grant in the user's Globus consents (the SDK uses the host name).
   */
  async startSignIn(namedGrant: string = os.hostname()): Promise<{ authorizeUrl: string; pending: PendingSignIn }> {
    const config = await this.config();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const redirectUri = this.redirectUri;
    const url = oidc.buildAuthorizationUrl(config, {
      response_type: 'code',
      scope: this.scopes.join(' '),
      redirect_uri: redirectUri,
      state,
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      access_type: 'offline',
      prompt: 'login',
      ...(namedGrant ? { prefill_named_grant: namedGrant } : {}),
    });
    return { authorizeUrl: url.href, pending: { codeVerifier, state, redirectUri } };
  }

  /** Exchanges the code the user pasted (from the auth-code page) for tokens. */
  async exchangeCode(code: string, pending: PendingSignIn): Promise<TokenBundle> {
    const trimmed = typeof code === 'string' ? code.trim() : '';
    if (trimmed === '' || trimmed.length > 2048 || /\s/.test(trimmed)) {
      throw new AuthError('invalid_code', 'The authorization code is empty or malformed: copy the whole code Globus shows and paste it again.');
    }
    if (!pending || !pending.codeVerifier || !pending.state || !pending.redirectUri) {
      throw new AuthError('invalid_code', 'No sign-in is in progress: start the sign-in again, then paste the new code.');
    }
    const config = await this.config();
    // The user copies only the code; rebuild the redirect the browser would have carried.
    const callback = new URL(pending.redirectUri);
    callback.searchParams.set('code', trimmed);
    callback.searchParams.set('state', pending.state);
    if (config.serverMetadata().authorization_response_iss_parameter_supported) {
      callback.searchParams.set('iss', config.serverMetadata().issuer);
    }
    const response = await this.call('authorization_code', () =>
      oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: pending.codeVerifier, expectedState: pending.state }),
    );
    return this.completeBundle(bundleFromResponse(response, undefined), response);
  }

  /** Client-credentials grant (HTTP Basic); needs the client secret. */
  async clientCredentials(): Promise<TokenBundle> {
    if (!this.clientSecret) {
      throw new AuthError('invalid_client', 'Client credentials need a client secret: enter the secret of the confidential client.');
    }
    const config = await this.config();
    const response = await this.call('client_credentials', () =>
      oidc.clientCredentialsGrant(config, { scope: this.scopes.join(' ') }),
    );
    return this.completeBundle(bundleFromResponse(response, undefined), response);
  }

  /** Refreshes every token that has a refresh token; a confidential client without any fetches new client credentials. */
  async refresh(bundle: TokenBundle, only?: (resourceServer: string) => boolean): Promise<TokenBundle> {
    assertBundle(bundle);
    const entries = Object.entries(bundle.tokens).filter(([rs]) => (only ? only(rs) : true));
    const refreshable = entries.filter(([, t]) => t.refreshToken);
    if (refreshable.length === 0) {
      if (this.clientSecret) {
        return keepIdentity(await this.clientCredentials(), bundle);
      }
      throw new AuthError('revoked', 'The sign-in has no refresh token (access_type=offline was not granted): sign in again.');
    }
    const config = await this.config();
    const tokens: Record<string, ResourceToken> = { ...bundle.tokens };
    for (const [resourceServer, token] of refreshable) {
      const refreshToken = token.refreshToken as string;
      const response = await this.call('refresh_token', () => oidc.refreshTokenGrant(config, refreshToken));
      const fresh = bundleFromResponse(response, resourceServer).tokens;
      for (const [rs, t] of Object.entries(fresh)) {
        const previous = tokens[rs];
        tokens[rs] = t.refreshToken || !previous?.refreshToken ? t : { ...t, refreshToken: previous.refreshToken };
      }
    }
    return keepIdentity({ tokens }, bundle);
  }

  /** Refreshes the tokens that expire within `skewMs`; returns the same bundle when none does. */
  async ensureFresh(bundle: TokenBundle, skewMs = 60_000): Promise<TokenBundle> {
    assertBundle(bundle);
    const deadline = Date.now() + skewMs;
    const stale = new Set(Object.entries(bundle.tokens).filter(([, t]) => t.expiresAt <= deadline).map(([rs]) => rs));
    if (stale.size === 0) return bundle;
    const staleWithoutRefresh = [...stale].some((rs) => !bundle.tokens[rs]?.refreshToken);
    if (staleWithoutRefresh && this.clientSecret) {
      return keepIdentity(await this.clientCredentials(), bundle);
    }
    return this.refresh(bundle, (rs) => stale.has(rs));
  }

  /** Revokes the access then the refresh token of every resource server (sign-out). Tries all, then reports the first failure. */
  async revoke(bundle: TokenBundle): Promise<void> {
    assertBundle(bundle);
    const config = await this.config();
    let firstError: unknown;
    for (const token of Object.values(bundle.tokens)) {
      const pairs: Array<[string, string]> = [[token.accessToken, 'access_token']];
      if (token.refreshToken) pairs.push([token.refreshToken, 'refresh_token']);
      for (const [value, hint] of pairs) {
        try {
          await this.call('revocation', () => oidc.tokenRevocation(config, value, { token_type_hint: hint }));
        } catch (err) {
          firstError ??= err;
        }
      }
    }
    if (firstError !== undefined) throw firstError;
  }

  /** Globus userinfo with the auth.globus.org token (needs the `openid` scope). */
  async userinfo(bundle: TokenBundle): Promise<UserInfo> {
    assertBundle(bundle);
    const token = bundle.tokens[GLOBUS_AUTH_RESOURCE_SERVER];
    if (!token) {
      throw new AuthError('protocol', 'No Globus Auth token to read the identity with: sign in with the "openid" scope.');
    }
    const config = await this.config();
    const info = await this.call('userinfo', () =>
      oidc.fetchUserInfo(config, token.accessToken, bundle.sub ?? oidc.skipSubjectCheck),
    );
    return {
      sub: info.sub,
      ...(typeof info.preferred_username === 'string' ? { username: info.preferred_username } : {}),
      ...(typeof info.name === 'string' ? { name: info.name } : {}),
      ...(typeof info.email === 'string' ? { email: info.email } : {}),
    };
  }

  /** Fills `sub` / `username` from the ID token, else from userinfo when an openid token exists. */
  private async completeBundle(bundle: TokenBundle, response: oidc.TokenEndpointResponseHelpers): Promise<TokenBundle> {
    const claims = response.claims();
    if (claims?.sub) {
      bundle.sub = claims.sub;
      if (typeof claims.preferred_username === 'string') bundle.username = claims.preferred_username;
      return bundle;
    }
    if (bundle.tokens[GLOBUS_AUTH_RESOURCE_SERVER]) {
      const info = await this.userinfo(bundle);
      bundle.sub = info.sub;
      if (info.username) bundle.username = info.username;
    }
    return bundle;
  }

  private config(): Promise<oidc.Configuration> {
    if (!this.configuration) {
      const clientAuth = this.clientSecret ? oidc.ClientSecretBasic(this.clientSecret) : oidc.None();
      const attempt = this.call('discovery', () =>
        oidc.discovery(this.authUrl, this.clientId, undefined, clientAuth, {
          timeout: this.timeoutMs / 1000,
          ...(this.insecureLoopback ? { execute: [oidc.allowInsecureRequests] } : {}),
        }),
      );
      // A failed discovery is retried on the next call instead of being cached.
      attempt.catch(() => {
        if (this.configuration === attempt) this.configuration = undefined;
      });
      this.configuration = attempt;
    }
    return this.configuration;
  }

  private async call<T>(grant: Grant, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw classify(err, grant, this.authUrl.origin);
    }
  }
}

function parseAuthUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(typeof raw === 'string' ? raw.trim() : '');
  } catch {
    throw new Error(`Globus Auth URL "${String(raw)}" is not a valid URL: use e.g. https://auth.globus.org`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new Error('Globus Auth URL must be a plain issuer URL (no credentials, query or fragment), e.g. https://auth.globus.org');
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopback(url.hostname)) return url;
  if (url.protocol === 'http:') {
    throw new Error(`Refusing plain http for Globus Auth at ${url.origin}: tokens would cross the network unencrypted. Use https (plain http is allowed only on a loopback host).`);
  }
  throw new Error(`Globus Auth URL must use https, not ${url.protocol}`);
}

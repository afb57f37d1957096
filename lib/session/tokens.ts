/**
 * The session's Globus sign-in: the token bundle, a fresh Diaspora access token on request, and a
 * proactive refresh shortly before the first token expires, so a revoked sign-in shows at once
 * rather than at the next topic call.
 */
import { AuthError, diasporaToken, type GlobusAuth, type TokenBundle } from '../globus/auth';
import { DIASPORA_RESOURCE_SERVER } from '../globus/constants';
import { errorText, SessionError } from './errors';
import type { SessionLogger } from './types';

/** Tokens are refreshed this long before they expire (Globus access tokens live 48 h). */
const REFRESH_SKEW_MS = 60_000;
/** Never refresh more often than this, even when tokens are very short-lived. */
const MIN_REFRESH_INTERVAL_MS = 5_000;
/** A refresh that failed for a reason other than revocation is tried again after this. */
export const REFRESH_RETRY_MS = 30_000;
/** setTimeout's ceiling is about 24.8 days; re-plan at least daily. */
const MAX_TIMER_MS = 24 * 3600_000;

/** What the session uses of Globus Auth (GlobusAuth has it; tests pass a fake). */
export type TokenSource = Pick<GlobusAuth, 'startSignIn' | 'exchangeCode' | 'clientCredentials' | 'ensureFresh' | 'revoke' | 'userinfo'>;

export interface SessionTokensHost {
  readonly auth: TokenSource;
  readonly log: SessionLogger;
  /** Keeps a refreshed bundle (the stored sign-in). */
  save(bundle: TokenBundle): void;
  /** Globus refused the refresh token: nothing works with this sign-in any more. */
  revoked(err: AuthError): void;
}

export class SessionTokens {
  private refreshTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly host: SessionTokensHost,
    public bundle: TokenBundle | undefined,
  ) {}

  get sub(): string | undefined {
    return this.bundle?.sub;
  }

  /** Who the session is signed in as, for the state. */
  get identity(): { sub?: string; username?: string } {
    const bundle = this.bundle;
    if (!bundle?.sub) return {};
    return { sub: bundle.sub, ...(bundle.username ? { username: bundle.username } : {}) };
  }

  /** A valid access token for the Diaspora service, refreshed (and stored) when due. */
  async accessToken(): Promise<string> {
    if (!this.bundle) throw new SessionError('auth-failed', 'not signed in: sign in with Globus in the configuration node');
    try {
      const fresh = await this.host.auth.ensureFresh(this.bundle);
      if (fresh !== this.bundle) {
        this.bundle = { ...fresh, ...(this.bundle.sub ? { sub: this.bundle.sub } : {}), ...(this.bundle.username ? { username: this.bundle.username } : {}) };
        this.host.save(this.bundle);
        this.schedule();
      }
      return diasporaToken(this.bundle).accessToken;
    } catch (err) {
      // Globus Auth cannot be reached: a token that has not expired yet is still good at the service.
      const current = err instanceof AuthError && err.kind === 'unreachable' ? this.bundle?.tokens[DIASPORA_RESOURCE_SERVER] : undefined;
      if (current && current.expiresAt > Date.now()) {
        this.host.log.debug(`diaspora: ${errorText(err)}; using the current access token until it expires`);
        return current.accessToken;
      }
      if (err instanceof AuthError && err.kind === 'revoked') {
        this.stop();
        this.host.revoked(err);
      }
      throw err;
    }
  }

  /** Plans the next refresh, shortly before the first token expires. */
  schedule(): void {
    this.stop();
    const expiries = Object.values(this.bundle?.tokens ?? {}).map((t) => t.expiresAt);
    if (this.stopped || expiries.length === 0) return;
    const due = Math.min(...expiries) - REFRESH_SKEW_MS - Date.now();
    this.plan(Math.min(MAX_TIMER_MS, Math.max(MIN_REFRESH_INTERVAL_MS, due)));
  }

  stop(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
  }

  /** For good (the session closes): no refresh is planned again. */
  close(): void {
    this.stopped = true;
    this.stop();
  }

  private plan(ms: number): void {
    this.stop();
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.refreshNow();
    }, ms);
  }

  private async refreshNow(): Promise<void> {
    if (this.stopped || !this.bundle) return;
    const before = this.bundle;
    try {
      await this.accessToken();
      // No token was stale yet (the timer fired early): plan again from the current expiries.
      if (this.bundle === before) this.schedule();
    } catch (err) {
      if (this.stopped || (err instanceof AuthError && err.kind === 'revoked')) return;
      this.host.log.warn(`diaspora: refreshing the sign-in failed, trying again in ${REFRESH_RETRY_MS / 1000} s: ${errorText(err)}`);
      this.plan(REFRESH_RETRY_MS);
    }
  }
}

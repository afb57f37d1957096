/** Authorization codes: single-use, short-lived, bound to the PKCE challenge, client and redirect URI. */
import { newAuthorizationCode } from './random-token';

export interface CodeGrant {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  codeChallenge: string;
  sub: string;
  state: string | undefined;
  nonce: string | undefined;
  offline: boolean;
  /** Seconds since the epoch when the user signed in (id_token auth_time). */
  authTime: number;
}

export const CODE_TTL_MS = 5 * 60 * 1000;

export class AuthorizationCodes {
  private readonly codes = new Map<string, CodeGrant & { expiresAtMs: number }>();
  issued = 0;
  redeemed = 0;

  issue(grant: CodeGrant): string {
    this.dropExpired();
    const code = newAuthorizationCode();
    this.codes.set(code, { ...grant, expiresAtMs: Date.now() + CODE_TTL_MS });
    this.issued += 1;
    return code;
  }

  /** Removes the code whatever happens next, so a code can be tried only once; undefined if unknown or expired. */
  take(code: string): CodeGrant | undefined {
    const grant = this.codes.get(code);
    this.codes.delete(code);
    if (!grant || grant.expiresAtMs <= Date.now()) return undefined;
    this.redeemed += 1;
    return grant;
  }

  private dropExpired(): void {
    const now = Date.now();
    for (const [code, grant] of this.codes) if (grant.expiresAtMs <= now) this.codes.delete(code);
  }
}

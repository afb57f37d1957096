/** Issued access and refresh tokens: lookup, expiry, revocation (a refresh token takes its access tokens with it). */
import { newAccessToken, newRefreshToken } from './random-token';

export type GrantType = 'authorization_code' | 'refresh_token' | 'client_credentials';

export interface TokenRecord {
  token: string;
  kind: 'access' | 'refresh';
  sub: string;
  /** The client the token was issued to. */
  clientId: string;
  resourceServer: string;
  scopes: string[];
  grant: GrantType;
  /** Seconds since the epoch. */
  issuedAt: number;
  /** Seconds since the epoch; null for refresh tokens, which (as in Globus) do not expire by time. */
  expiresAt: number | null;
  /** For an access token: the refresh token it came with or from; revoking that one revokes this one. */
  refreshToken?: string;
}

export interface TokenStats {
  accessTokensIssued: number;
  refreshTokensIssued: number;
  revoked: number;
}

/** Long-expired access tokens are forgotten after this long (an unknown token is just as inactive). */
const FORGET_EXPIRED_AFTER_SECONDS = 3600;

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export class TokenStore {
  private readonly tokens = new Map<string, TokenRecord>();
  readonly stats: TokenStats = { accessTokensIssued: 0, refreshTokensIssued: 0, revoked: 0 };

  /** @param onChange called after every change, to persist the store */
  constructor(
    initial: TokenRecord[],
    private readonly onChange: () => void,
  ) {
    for (const record of initial) this.tokens.set(record.token, record);
  }

  issueAccessToken(fields: Omit<TokenRecord, 'token' | 'kind' | 'issuedAt' | 'expiresAt'>, ttlSeconds: number): TokenRecord {
    const issuedAt = nowSeconds();
    const record: TokenRecord = { ...fields, token: newAccessToken(), kind: 'access', issuedAt, expiresAt: issuedAt + ttlSeconds };
    this.tokens.set(record.token, record);
    this.stats.accessTokensIssued += 1;
    this.changed();
    return record;
  }

  issueRefreshToken(fields: Omit<TokenRecord, 'token' | 'kind' | 'issuedAt' | 'expiresAt' | 'refreshToken'>): TokenRecord {
    const record: TokenRecord = { ...fields, token: newRefreshToken(), kind: 'refresh', issuedAt: nowSeconds(), expiresAt: null };
    this.tokens.set(record.token, record);
    this.stats.refreshTokensIssued += 1;
    this.changed();
    return record;
  }

  /** An active (known, unexpired, unrevoked) access token, or undefined. */
  activeAccessToken(token: string): TokenRecord | undefined {
    const record = this.tokens.get(token);
    if (!record || record.kind !== 'access') return undefined;
    return record.expiresAt !== null && record.expiresAt <= nowSeconds() ? undefined : record;
  }

  activeRefreshToken(token: string): TokenRecord | undefined {
    const record = this.tokens.get(token);
    return record?.kind === 'refresh' ? record : undefined;
  }

  find(token: string): TokenRecord | undefined {
    return this.tokens.get(token);
  }

  /** Revokes one token; for a refresh token also every access token issued with or from it. */
  revoke(token: string): number {
    const record = this.tokens.get(token);
    if (!record) return 0;
    const doomed = [record];
    if (record.kind === 'refresh') {
      for (const other of this.tokens.values()) if (other.refreshToken === token) doomed.push(other);
    }
    return this.remove(doomed);
  }

  /** Revokes every token of a subject (simulates a user revoking the app's consent). */
  revokeSubject(sub: string): number {
    return this.remove([...this.tokens.values()].filter((record) => record.sub === sub));
  }

  counts(): { activeAccessTokens: number; refreshTokens: number } {
    let activeAccessTokens = 0;
    let refreshTokens = 0;
    for (const record of this.tokens.values()) {
      if (record.kind === 'refresh') refreshTokens += 1;
      else if (this.activeAccessToken(record.token)) activeAccessTokens += 1;
    }
    return { activeAccessTokens, refreshTokens };
  }

  /** The records worth keeping across a restart. */
  snapshot(): TokenRecord[] {
    const horizon = nowSeconds() - FORGET_EXPIRED_AFTER_SECONDS;
    return [...this.tokens.values()].filter((record) => record.expiresAt === null || record.expiresAt > horizon);
  }

  private remove(records: TokenRecord[]): number {
    for (const record of records) this.tokens.delete(record.token);
    this.stats.revoked += records.length;
    if (records.length > 0) this.changed();
    return records.length;
  }

  private changed(): void {
    this.onChange();
  }
}

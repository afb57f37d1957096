/**
 * Globus's token response: one token per resource server; the first requested server's token at the
 * top level, the others in `other_tokens`, each with the same fields.
 */
import { GLOBUS_AUTH_RESOURCE_SERVER } from '../../lib/globus/constants';
import { groupScopes } from './scopes';
import type { EmulatorContext } from './context';
import type { GrantType, TokenRecord } from './token-store';

export interface TokenEntry {
  access_token: string;
  scope: string;
  resource_server: string;
  expires_in: number;
  token_type: 'Bearer';
  state: string;
  refresh_token?: string;
  id_token?: string;
}

export interface TokenResponse extends TokenEntry {
  other_tokens: TokenEntry[];
}

export interface TokenSetRequest {
  sub: string;
  clientId: string;
  scopes: string[];
  grant: GrantType;
  /** Issue a refresh token with each access token (access_type=offline). */
  offline: boolean;
  state: string | undefined;
  /** Given for the authorization-code grant: an id_token goes on the auth.globus.org token when openid was asked. */
  idToken?: { nonce: string | undefined; authTime: number };
}

/** Globus echoes the authorize `state`; SDK flows send "_default". */
const DEFAULT_STATE = '_default';

export async function issueTokenSet(ctx: EmulatorContext, request: TokenSetRequest): Promise<TokenResponse> {
  const entries: TokenEntry[] = [];
  for (const group of groupScopes(request.scopes, ctx.resourceServers)) {
    const base = { sub: request.sub, clientId: request.clientId, resourceServer: group.resourceServer, scopes: group.scopes, grant: request.grant };
    const refresh = request.offline ? ctx.tokens.issueRefreshToken(base) : undefined;
    const access = ctx.tokens.issueAccessToken({ ...base, refreshToken: refresh?.token }, ctx.config.accessTokenTtlSeconds);
    const entry = tokenEntry(access, refresh?.token, request.state);
    if (request.idToken && group.resourceServer === GLOBUS_AUTH_RESOURCE_SERVER && group.scopes.includes('openid')) {
      entry.id_token = await signIdToken(ctx, request.sub, request.clientId, request.idToken);
    }
    entries.push(entry);
  }
  const [top, ...others] = entries;
  return { ...top, other_tokens: others };
}

export function tokenEntry(access: TokenRecord, refreshToken: string | undefined, state: string | undefined): TokenEntry {
  const entry: TokenEntry = {
    access_token: access.token,
    scope: access.scopes.join(' '),
    resource_server: access.resourceServer,
    expires_in: Math.max(0, (access.expiresAt ?? access.issuedAt) - access.issuedAt),
    token_type: 'Bearer',
    state: state ?? DEFAULT_STATE,
  };
  if (refreshToken !== undefined) entry.refresh_token = refreshToken;
  return entry;
}

async function signIdToken(
  ctx: EmulatorContext,
  sub: string,
  clientId: string,
  { nonce, authTime }: { nonce: string | undefined; authTime: number },
): Promise<string> {
  const identity = ctx.directory.identity(sub);
  const iat = Math.floor(Date.now() / 1000);
  return ctx.signingKey.sign({
    iss: ctx.issuer,
    sub,
    aud: clientId,
    iat,
    exp: iat + ctx.config.accessTokenTtlSeconds,
    auth_time: authTime,
    ...(nonce !== undefined && { nonce }),
    ...(identity && {
      preferred_username: identity.preferredUsername,
      name: identity.name,
      email: identity.email,
      identity_provider: identity.identityProvider,
      identity_provider_display_name: identity.identityProviderDisplayName,
      identity_set: [{ sub, username: identity.preferredUsername, name: identity.name, email: identity.email }],
    }),
  });
}

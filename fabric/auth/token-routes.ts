/** POST /v2/oauth2/token: authorization_code (PKCE), refresh_token and client_credentials grants. */
import express, { type Request, type Router } from 'express';
import { authenticateClient, type AuthenticatedClient } from './client-auth';
import { OAuthError, invalidGrant, invalidRequest, invalidScope } from './oauth-error';
import { CODE_VERIFIER, s256Challenge } from './pkce';
import { groupScopes, parseScopeParam } from './scopes';
import { issueTokenSet, tokenEntry, type TokenResponse } from './token-response';
import type { EmulatorContext } from './context';

export function tokenRoutes(ctx: EmulatorContext): Router {
  const router = express.Router();
  router.post('/v2/oauth2/token', express.urlencoded({ extended: false, limit: '64kb' }), (req, res, next) => {
    handleTokenRequest(ctx, req)
      .then((body) => {
        res.status(200).set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json(body);
      })
      .catch(next);
  });
  return router;
}

async function handleTokenRequest(ctx: EmulatorContext, req: Request): Promise<TokenResponse> {
  const form = (req.body ?? {}) as Record<string, unknown>;
  const grantType = form.grant_type;
  if (typeof grantType !== 'string' || grantType === '') {
    throw invalidRequest('grant_type is required (authorization_code, refresh_token or client_credentials), sent as an application/x-www-form-urlencoded body.');
  }
  if (grantType !== 'authorization_code' && grantType !== 'refresh_token' && grantType !== 'client_credentials') {
    throw new OAuthError(400, 'unsupported_grant_type', `grant_type "${grantType}" is not supported; use authorization_code, refresh_token or client_credentials.`);
  }
  const client = authenticateClient(req, ctx.directory, ctx.nativeClientId);
  ctx.counters.grants[grantType] += 1;
  switch (grantType) {
    case 'authorization_code':
      return authorizationCodeGrant(ctx, client, form);
    case 'refresh_token':
      return refreshTokenGrant(ctx, client, form);
    case 'client_credentials':
      return clientCredentialsGrant(ctx, client, form);
  }
}

async function authorizationCodeGrant(ctx: EmulatorContext, client: AuthenticatedClient, form: Record<string, unknown>): Promise<TokenResponse> {
  const { code, code_verifier: verifier, redirect_uri: redirectUri } = form;
  if (typeof code !== 'string' || code === '') throw invalidRequest('code is required.');
  const grant = ctx.codes.take(code);
  if (!grant) throw invalidGrant('The authorization code is invalid, expired or already used; sign in again.');
  if (grant.clientId !== client.clientId) throw invalidGrant('The authorization code was issued to another client.');
  if (redirectUri !== grant.redirectUri) throw invalidGrant('redirect_uri does not match the one of the authorization request.');
  if (typeof verifier !== 'string' || verifier === '') throw invalidGrant('code_verifier is required: this code was issued with a PKCE challenge.');
  if (!CODE_VERIFIER.test(verifier)) throw invalidRequest('code_verifier must be 43–128 characters of [A-Za-z0-9-._~].');
  if (s256Challenge(verifier) !== grant.codeChallenge) {
    throw invalidGrant('code_verifier does not match the code_challenge of the authorization request.');
  }
  return issueTokenSet(ctx, {
    sub: grant.sub,
    clientId: grant.clientId,
    scopes: grant.scopes,
    grant: 'authorization_code',
    offline: grant.offline,
    state: grant.state,
    idToken: { nonce: grant.nonce, authTime: grant.authTime },
  });
}

async function refreshTokenGrant(ctx: EmulatorContext, client: AuthenticatedClient, form: Record<string, unknown>): Promise<TokenResponse> {
  const token = form.refresh_token;
  if (typeof token !== 'string' || token === '') throw invalidRequest('refresh_token is required.');
  const refresh = ctx.tokens.activeRefreshToken(token);
  if (!refresh) throw invalidGrant('The refresh token is invalid or has been revoked; sign in again.');
  if (refresh.clientId !== client.clientId) throw invalidGrant('The refresh token was issued to another client.');
  let scopes = refresh.scopes;
  if (typeof form.scope === 'string' && form.scope.trim() !== '') {
    scopes = parseScopeParam(form.scope);
    const extra = scopes.filter((scope) => !refresh.scopes.includes(scope));
    if (extra.length > 0) throw invalidScope(`The refresh token does not cover: ${extra.join(' ')}.`);
  }
  const access = ctx.tokens.issueAccessToken(
    { sub: refresh.sub, clientId: refresh.clientId, resourceServer: refresh.resourceServer, scopes, grant: 'refresh_token', refreshToken: refresh.token },
    ctx.config.accessTokenTtlSeconds,
  );
  // Globus refresh tokens are not rotated: the response carries the same one.
  return { ...tokenEntry(access, refresh.token, undefined), other_tokens: [] };
}

async function clientCredentialsGrant(ctx: EmulatorContext, client: AuthenticatedClient, form: Record<string, unknown>): Promise<TokenResponse> {
  if (client.kind !== 'confidential') {
    throw new OAuthError(400, 'unauthorized_client', 'The native app client cannot use client_credentials; use a confidential client with its secret.');
  }
  const scopes = parseScopeParam(form.scope);
  groupScopes(scopes, ctx.resourceServers);
  return issueTokenSet(ctx, { sub: client.client.sub, clientId: client.clientId, scopes, grant: 'client_credentials', offline: false, state: undefined });
}

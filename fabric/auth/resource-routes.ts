/** Userinfo, token introspection and token revocation. */
import express, { type Request, type Router } from 'express';
import { GLOBUS_AUTH_RESOURCE_SERVER } from '../../lib/globus/constants';
import { authenticateClient, authenticateConfidentialClient } from './client-auth';
import { invalidRequest, invalidToken } from './oauth-error';
import type { EmulatorContext } from './context';

export function resourceRoutes(ctx: EmulatorContext): Router {
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: '64kb' });

  const userinfo: express.RequestHandler = (req, res) => {
    ctx.counters.userinfo += 1;
    const record = ctx.tokens.activeAccessToken(bearerToken(req));
    if (!record) throw invalidToken('The access token is invalid, expired or revoked.');
    if (record.resourceServer !== GLOBUS_AUTH_RESOURCE_SERVER || !record.scopes.includes('openid')) {
      throw invalidToken('userinfo needs the auth.globus.org access token with the "openid" scope.');
    }
    const identity = ctx.directory.identity(record.sub);
    const body: Record<string, unknown> = { sub: record.sub };
    if (identity) {
      body.identity_provider = identity.identityProvider;
      body.identity_provider_display_name = identity.identityProviderDisplayName;
      if (record.scopes.includes('profile')) {
        body.preferred_username = identity.preferredUsername;
        body.name = identity.name;
      }
      if (record.scopes.includes('email')) body.email = identity.email;
    }
    res.set('Cache-Control', 'no-store').json(body);
  };
  router.get('/v2/oauth2/userinfo', userinfo);
  router.post('/v2/oauth2/userinfo', userinfo);

  router.post('/v2/oauth2/token/introspect', form, (req, res) => {
    authenticateConfidentialClient(req, ctx.directory, ctx.nativeClientId);
    ctx.counters.introspections += 1;
    const record = ctx.tokens.activeAccessToken(requiredToken(req));
    if (!record) {
      res.set('Cache-Control', 'no-store').json({ active: false });
      return;
    }
    const identity = ctx.directory.identity(record.sub);
    const username = identity?.preferredUsername ?? record.sub;
    res.set('Cache-Control', 'no-store').json({
      active: true,
      token_type: 'Bearer',
      scope: record.scopes.join(' '),
      client_id: record.clientId,
      sub: record.sub,
      username,
      name: identity?.name ?? null,
      email: identity?.email ?? null,
      aud: [record.resourceServer],
      iss: ctx.issuer,
      exp: record.expiresAt,
      iat: record.issuedAt,
      nbf: record.issuedAt,
      identity_set: [record.sub],
    });
  });

  router.post('/v2/oauth2/token/revoke', form, (req, res) => {
    const client = authenticateClient(req, ctx.directory, ctx.nativeClientId);
    const token = requiredToken(req);
    const record = ctx.tokens.find(token);
    // RFC 7009: a client may revoke only its own tokens; unknown or foreign tokens still get a 200.
    if (record && record.clientId === client.clientId) {
      ctx.tokens.revoke(token);
      ctx.counters.revocations += 1;
    }
    res.set('Cache-Control', 'no-store').json({});
  });

  return router;
}

function bearerToken(req: Request): string {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!match) throw invalidToken('Send the access token as "Authorization: Bearer <token>".');
  return match[1];
}

function requiredToken(req: Request): string {
  const token = ((req.body ?? {}) as Record<string, unknown>).token;
  if (typeof token !== 'string' || token === '') throw invalidRequest('The "token" form parameter is required.');
  return token;
}

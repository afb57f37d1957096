/** /_fabric/* control routes for tests and the fabric CLI, behind HTTP Basic admin:<adminPassword>. */
import express, { type RequestHandler, type Router } from 'express';
import { OAuthError, invalidRequest } from './oauth-error';
import { secretsEqual } from './identities';
import type { EmulatorContext } from './context';

export function controlRoutes(ctx: EmulatorContext): Router {
  const router = express.Router();
  router.use('/_fabric', requireAdmin(ctx.adminPassword), express.json({ limit: '16kb' }));

  router.post('/_fabric/config', (req, res) => {
    const ttl = (req.body as Record<string, unknown> | undefined)?.accessTokenTtlSeconds;
    if (ttl !== undefined) {
      if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1) {
        throw invalidRequest('accessTokenTtlSeconds must be a positive whole number of seconds.');
      }
      ctx.config.accessTokenTtlSeconds = ttl;
    }
    res.json({ ...ctx.config });
  });

  router.post('/_fabric/revoke-all', (req, res) => {
    const sub = (req.body as Record<string, unknown> | undefined)?.sub;
    if (typeof sub !== 'string' || sub === '') throw invalidRequest('JSON body {"sub": "<subject>"} is required.');
    res.json({ sub, revoked: ctx.tokens.revokeSubject(sub) });
  });

  router.get('/_fabric/stats', (_req, res) => {
    const { accessTokensIssued, refreshTokensIssued, revoked } = ctx.tokens.stats;
    res.json({
      tokensIssued: accessTokensIssued,
      refreshTokensIssued,
      tokensRevoked: revoked,
      ...ctx.tokens.counts(),
      codesIssued: ctx.codes.issued,
      codesRedeemed: ctx.codes.redeemed,
      grants: { ...ctx.counters.grants },
      userinfoRequests: ctx.counters.userinfo,
      introspections: ctx.counters.introspections,
      revocations: ctx.counters.revocations,
      accessTokenTtlSeconds: ctx.config.accessTokenTtlSeconds,
    });
  });

  return router;
}

function requireAdmin(password: string): RequestHandler {
  const expected = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
  return (req, _res, next) => {
    if (!secretsEqual(expected, req.headers.authorization ?? '')) {
      next(new OAuthError(401, 'invalid_client', 'The /_fabric control routes need HTTP Basic admin:<admin password>.', {
        'WWW-Authenticate': 'Basic realm="auth-emulator-control"',
      }));
      return;
    }
    next();
  };
}

/** OAuth 2.0 error answers ({error, error_description}) and the Express handler that sends them. */
import type { ErrorRequestHandler } from 'express';

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_token'
  | 'access_denied'
  | 'server_error';

export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(`${error}: ${description}`);
    this.name = 'OAuthError';
  }
}

export const invalidRequest = (description: string): OAuthError =>
  new OAuthError(400, 'invalid_request', description);
export const invalidGrant = (description: string): OAuthError =>
  new OAuthError(400, 'invalid_grant', description);
export const invalidClient = (description: string): OAuthError =>
  new OAuthError(401, 'invalid_client', description);
export const invalidScope = (description: string): OAuthError =>
  new OAuthError(400, 'invalid_scope', description);

/** Bearer-token failure at a resource endpoint (RFC 6750 section 3: the challenge goes in WWW-Authenticate). */
export const invalidToken = (description: string): OAuthError =>
  new OAuthError(401, 'invalid_token', description, {
    'WWW-Authenticate': `Bearer realm="globus-auth-emulator", error="invalid_token", error_description="${description.replace(/["\\]/g, '')}"`,
  });

/** Express error handler: OAuthError → its JSON answer; body-parser errors → invalid_request; else server_error. */
export const oauthErrorHandler: ErrorRequestHandler = (err: unknown, _req, res, next) => {
  if (res.headersSent) {
    next(err);
    return;
  }
  const e = toOAuthError(err);
  res.status(e.status).set({ 'Cache-Control': 'no-store', ...e.headers });
  res.json({ error: e.error, error_description: e.description });
};

function toOAuthError(err: unknown): OAuthError {
  if (err instanceof OAuthError) return err;
  // body-parser marks its own failures (bad JSON, too large) with an HTTP status and `expose`.
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new OAuthError(status, 'invalid_request', `Malformed request body: ${(err as Error).message}`);
  }
  return new OAuthError(500, 'server_error', 'The auth emulator failed to handle the request');
}

/** Globus Auth failures, classified so a Node-RED user knows what to do; messages never hold a secret. */
import * as oidc from 'openid-client';

export type AuthErrorKind = 'revoked' | 'unreachable' | 'invalid_client' | 'invalid_code' | 'protocol';

/** Every failure of the Globus Auth client; `message` is written for a Node-RED user. */
export class AuthError extends Error {
  constructor(
    readonly kind: AuthErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

export type Grant = 'authorization_code' | 'refresh_token' | 'client_credentials' | 'discovery' | 'userinfo' | 'revocation';

interface OAuthErrorShape {
  error?: unknown;
  error_description?: unknown;
  status?: unknown;
  code?: unknown;
  cause?: unknown;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
  'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

function networkCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current; depth++) {
    const shape = current as OAuthErrorShape;
    if (typeof shape.code === 'string' && NETWORK_CODES.has(shape.code)) return shape.code;
    if (current instanceof Error && (current.name === 'TimeoutError' || current.name === 'AbortError')) return 'timeout';
    if (shape.code === 'OAUTH_TIMEOUT' || shape.code === 'OAUTH_ABORT') return 'timeout';
    current = shape.cause;
  }
  if (err instanceof TypeError && err.message === 'fetch failed') return 'fetch failed';
  return undefined;
}

const WHAT: Record<Grant, string> = {
  authorization_code: 'exchanging the sign-in code',
  refresh_token: 'refreshing the sign-in',
  client_credentials: 'requesting client-credentials tokens',
  discovery: 'reading its OpenID configuration',
  userinfo: 'reading the signed-in identity',
  revocation: 'revoking a token',
};

/** Maps openid-client / fetch failures to an AuthError with an actionable message. */
export function classify(err: unknown, grant: Grant, origin: string): AuthError {
  if (err instanceof AuthError) return err;
  const what = WHAT[grant];
  const net = networkCode(err);
  if (net) {
    const why = net === 'timeout' ? 'did not answer in time' : `could not be reached (${net})`;
    return new AuthError('unreachable', `Globus Auth at ${origin} ${why} while ${what}: check the auth URL and the network, then retry.`);
  }
  if (err instanceof oidc.ResponseBodyError) {
    const code = String(err.error).slice(0, 60);
    const said = typeof err.error_description === 'string' && err.error_description ? ` (Globus said: "${err.error_description.slice(0, 200)}")` : '';
    if (code === 'invalid_client' || code === 'unauthorized_client') {
      const what2 = grant === 'client_credentials' ? 'client id and secret' : 'client id';
      return new AuthError('invalid_client', `Globus Auth rejected the ${what2} while ${what}${said}: check the ${what2} in the Diaspora configuration.`);
    }
    if (code === 'invalid_grant' && grant === 'refresh_token') {
      return new AuthError('revoked', 'Globus refused the refresh token (revoked or expired): sign in again.');
    }
    if (code === 'invalid_grant' && grant === 'authorization_code') {
      return new AuthError('invalid_code', `Globus refused the authorization code: it was already used, has expired or belongs to another sign-in${said}. Start the sign-in again and paste the new code.`);
    }
    if (code === 'invalid_scope') {
      return new AuthError('protocol', `Globus Auth refused the requested scopes${said}: check the scope setting.`);
    }
    return new AuthError('protocol', `Globus Auth answered "${code}" (HTTP ${err.status}) while ${what}${said}.`);
  }
  if (err instanceof oidc.WWWAuthenticateChallengeError) {
    if (grant === 'userinfo') {
      return new AuthError('revoked', 'Globus Auth no longer accepts the sign-in token (HTTP 401): sign in again.');
    }
    return new AuthError('invalid_client', `Globus Auth rejected the client credentials (HTTP ${err.status}) while ${what}: check the client id and secret.`);
  }
  if (err instanceof oidc.AuthorizationResponseError) {
    return new AuthError('invalid_code', `Globus Auth returned an error instead of a code (${String(err.error)}): start the sign-in again.`);
  }
  const status = responseStatus(err);
  if (status === 401 && grant === 'revocation') {
    return new AuthError('invalid_client', `Globus Auth rejected the client while ${what}: check the client id.`);
  }
  const detail = err instanceof Error ? err.message : String(err);
  if (grant === 'discovery') {
    return new AuthError('protocol', `${origin} did not serve a usable OpenID configuration (${detail}): is the auth URL a Globus Auth server?`);
  }
  return new AuthError('protocol', `Unexpected answer from Globus Auth at ${origin} while ${what} (${detail}${status ? `, HTTP ${status}` : ''}).`);
}

function responseStatus(err: unknown): number | undefined {
  const cause = (err as OAuthErrorShape | null)?.cause;
  if (cause instanceof Response) return cause.status;
  return undefined;
}

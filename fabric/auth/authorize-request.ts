/** Validation of a GET /v2/oauth2/authorize request (and of the same fields echoed back by the login form). */
import { AUTH_CODE_PAGE_PATH } from '../../lib/globus/constants';
import { OAuthError } from './oauth-error';
import { S256_CHALLENGE } from './pkce';
import { groupScopes, parseScopeParam } from './scopes';
import type { EmulatorContext } from './context';

export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state: string | undefined;
  nonce: string | undefined;
  codeChallenge: string;
  offline: boolean;
}

/** Shown as an HTML page: authorize errors are for the person in the browser. */
export class AuthorizeError extends Error {
  constructor(readonly title: string, message: string) {
    super(message);
    this.name = 'AuthorizeError';
  }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function parseAuthorizationRequest(params: Record<string, unknown>, ctx: EmulatorContext): AuthorizationRequest {
  const get = (name: string): string | undefined => {
    const value = params[name];
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string') throw new AuthorizeError('Invalid request', `Parameter "${name}" was given more than once.`);
    return value;
  };
  const clientId = get('client_id');
  if (clientId !== ctx.nativeClientId) {
    throw new AuthorizeError(
      'Unknown client',
      clientId === undefined
        ? 'The "client_id" parameter is required.'
        : `Client "${clientId}" cannot use this sign-in flow; only the native app client ${ctx.nativeClientId} can.`,
    );
  }
  const redirectUri = get('redirect_uri');
  if (redirectUri === undefined) throw new AuthorizeError('Invalid redirect URI', 'The "redirect_uri" parameter is required.');
  checkRedirectUri(redirectUri, ctx.issuer);

  const responseType = get('response_type');
  if (responseType !== 'code') {
    throw new AuthorizeError('Unsupported response type', `response_type must be "code", got ${JSON.stringify(responseType ?? '')}.`);
  }
  const codeChallenge = get('code_challenge');
  const method = get('code_challenge_method');
  if (codeChallenge === undefined) {
    throw new AuthorizeError('PKCE required', 'Native apps must send code_challenge and code_challenge_method=S256 (PKCE).');
  }
  if (method !== 'S256') {
    throw new AuthorizeError('PKCE method not supported', `code_challenge_method must be "S256", got ${JSON.stringify(method ?? '(missing)')}; "plain" is not accepted.`);
  }
  if (!S256_CHALLENGE.test(codeChallenge)) {
    throw new AuthorizeError('Invalid PKCE challenge', 'code_challenge must be base64url(SHA-256(code_verifier)): 43 characters of [A-Za-z0-9_-].');
  }
  let scopes: string[];
  try {
    scopes = parseScopeParam(get('scope'));
    groupScopes(scopes, ctx.resourceServers);
  } catch (err) {
    if (err instanceof OAuthError) throw new AuthorizeError('Invalid scope', err.description);
    throw err;
  }
  const accessType = get('access_type') ?? 'online';
  if (accessType !== 'online' && accessType !== 'offline') {
    throw new AuthorizeError('Invalid request', `access_type must be "online" or "offline", got ${JSON.stringify(accessType)}.`);
  }
  return { clientId, redirectUri, scopes, state: get('state'), nonce: get('nonce'), codeChallenge, offline: accessType === 'offline' };
}

/** The request as hidden form fields, so the login POST carries it back. */
export function requestFormFields(request: AuthorizationRequest): Record<string, string> {
  const fields: Record<string, string> = {
    client_id: request.clientId,
    redirect_uri: request.redirectUri,
    response_type: 'code',
    scope: request.scopes.join(' '),
    code_challenge: request.codeChallenge,
    code_challenge_method: 'S256',
    access_type: request.offline ? 'offline' : 'online',
  };
  if (request.state !== undefined) fields.state = request.state;
  if (request.nonce !== undefined) fields.nonce = request.nonce;
  return fields;
}

/** Globus's auth-code page on this emulator, or an http loopback URL (a native app's local listener). */
function checkRedirectUri(redirectUri: string, issuer: string): void {
  if (redirectUri === `${issuer}${AUTH_CODE_PAGE_PATH}`) return;
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    throw new AuthorizeError('Invalid redirect URI', `redirect_uri ${JSON.stringify(redirectUri)} is not an absolute URL.`);
  }
  if (url.protocol !== 'http:' || !LOOPBACK_HOSTS.has(url.hostname) || url.hash !== '') {
    throw new AuthorizeError(
      'Invalid redirect URI',
      `redirect_uri must be ${issuer}${AUTH_CODE_PAGE_PATH} or an http loopback URL (127.0.0.1, localhost, [::1]) without a fragment; got ${JSON.stringify(redirectUri)}.`,
    );
  }
}

/**
 * Globus tokens as plain JSON, one entry per resource server (Globus issues a top-level token plus
 * `other_tokens`); serialisable so Node-RED can keep them in credentials.
 */
import { AuthError } from './auth-errors';
import { DIASPORA_RESOURCE_SERVER } from './constants';

/** One resource server's token. Plain JSON so it can be stored in Node-RED credentials. */
export interface ResourceToken {
  accessToken: string;
  refreshToken?: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  scope: string;
}

export interface TokenBundle {
  /** Keyed by Globus `resource_server`. */
  tokens: Record<string, ResourceToken>;
  sub?: string;
  username?: string;
}

/** RFC 6749 makes expires_in optional; assume an hour so such a token is still refreshed regularly. */
const ASSUMED_LIFETIME_S = 3600;

/** The Diaspora service's token, or a clear error when sign-in did not include its scope. */
export function diasporaToken(bundle: TokenBundle, resourceServer: string = DIASPORA_RESOURCE_SERVER): ResourceToken {
  assertBundle(bundle);
  const token = bundle.tokens[resourceServer];
  if (!token) {
    throw new AuthError(
      'protocol',
      `Signed in without the Diaspora scope (no token for resource server ${resourceServer}): sign in again and consent to the Diaspora scope.`,
    );
  }
  return token;
}

/** Reads a stored bundle (JSON from Node-RED credentials), or throws an AuthError asking to sign in again. */
export function parseTokenBundle(json: string): TokenBundle {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new AuthError('revoked', 'The stored sign-in is unreadable: sign in again.');
  }
  assertBundle(parsed);
  return parsed;
}

export function assertBundle(bundle: unknown): asserts bundle is TokenBundle {
  const tokens = record(record(bundle)?.tokens);
  const valid =
    tokens !== undefined &&
    Object.values(tokens).every((t) => {
      const token = record(t);
      return (
        typeof token?.accessToken === 'string' &&
        typeof token.expiresAt === 'number' &&
        (token.refreshToken === undefined || typeof token.refreshToken === 'string')
      );
    });
  if (!valid) throw new AuthError('revoked', 'The stored sign-in is incomplete or damaged: sign in again.');
}

export function keepIdentity(next: TokenBundle, previous: TokenBundle): TokenBundle {
  return {
    ...next,
    ...(next.sub ?? previous.sub ? { sub: next.sub ?? previous.sub } : {}),
    ...(next.username ?? previous.username ? { username: next.username ?? previous.username } : {}),
  };
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * Builds the per-resource-server bundle from a Globus token response (top level plus
 * `other_tokens`). `fallbackResourceServer` names a token that arrives without `resource_server`
 * (a refresh answer from a non-Globus server).
 */
export function bundleFromResponse(response: Record<string, unknown>, fallbackResourceServer: string | undefined): TokenBundle {
  const now = Date.now();
  const tokens: Record<string, ResourceToken> = {};
  const entries: unknown[] = [response, ...(Array.isArray(response.other_tokens) ? response.other_tokens : [])];
  for (const entry of entries) {
    const token = record(entry);
    if (!token || typeof token.access_token !== 'string' || token.access_token === '') {
      throw new AuthError('protocol', 'Globus Auth answered with a malformed token response (a token without access_token).');
    }
    const resourceServer = typeof token.resource_server === 'string' ? token.resource_server : fallbackResourceServer;
    if (!resourceServer) {
      throw new AuthError('protocol', 'The token response has no resource_server: is the auth URL a Globus Auth server?');
    }
    const lifetime = typeof token.expires_in === 'number' && Number.isFinite(token.expires_in) ? token.expires_in : ASSUMED_LIFETIME_S;
    tokens[resourceServer] = {
      accessToken: token.access_token,
      ...(typeof token.refresh_token === 'string' && token.refresh_token !== '' ? { refreshToken: token.refresh_token } : {}),
      expiresAt: now + lifetime * 1000,
      scope: typeof token.scope === 'string' ? token.scope : '',
    };
  }
  return { tokens };
}

/**
 * The real service's access-token check (SVC utils.AuthManager.validate_access_token), step for
 * step and message for message. Every call introspects: nothing is cached, so a revoked token is
 * refused on its very next use.
 */

export interface AuthFailure {
  status: 'error';
  reason: string;
}

export interface TokenCheckOptions {
  /** Issuer URL of Globus Auth (or its emulator), without a trailing slash. */
  authUrl: string;
  /** The service's own confidential client: it authenticates introspection and is the audience. */
  clientId: string;
  clientSecret: string;
  /** Bound on one introspection call (default 10 s). */
  timeoutMs?: number;
}

/** Resolves to undefined when the token is good for this subject, else the real service's answer. */
export type TokenCheck = (subject: string, authorization: string) => Promise<AuthFailure | undefined>;

interface Introspection {
  active?: unknown;
  sub?: unknown;
  aud?: unknown;
  scope?: unknown;
}

/** Thrown when Globus Auth cannot be asked; the real service answers HTTP 500 then. */
export class IntrospectionUnavailableError extends Error {}

const failure = (reason: string): AuthFailure => ({ status: 'error', reason });

/** Python's `uuid.UUID(value)` acceptance: optional urn:/uuid: prefix and braces, dashes anywhere. */
export function isPythonUuid(value: string): boolean {
  const hex = value.replace(/urn:/g, '').replace(/uuid:/g, '').replace(/^[{}]+|[{}]+$/g, '').replace(/-/g, '');
  return /^[0-9a-fA-F]{32}$/.test(hex);
}

/** 33–254 characters of Python's Unicode `\w` (letters, numbers, underscore). */
export function hasValidTokenFormat(token: string): boolean {
  return token.length > 32 && token.length < 255 && /^[\p{L}\p{N}_]+$/u.test(token);
}

/** Python's repr() of the introspected audience, as the real message prints it. */
function pythonRepr(value: unknown): string {
  if (value === undefined || value === null) return 'None';
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return String(value);
}

/** Python's `needle in haystack` for a list (membership) or a string (substring). */
function pythonContains(haystack: unknown, needle: string): boolean {
  if (Array.isArray(haystack)) return haystack.includes(needle);
  if (typeof haystack === 'string') return haystack.includes(needle);
  return false;
}

export function createTokenCheck(opts: TokenCheckOptions): TokenCheck {
  const introspectUrl = `${opts.authUrl.replace(/\/+$/, '')}/v2/oauth2/token/introspect`;
  const basic = Buffer.from(`${opts.clientId}:${opts.clientSecret}`).toString('base64');
  const actionScope = `https://auth.globus.org/scopes/${opts.clientId}/action_all`;
  const timeoutMs = opts.timeoutMs ?? 10_000;

  async function introspect(token: string): Promise<Introspection> {
    let response: Response;
    try {
      response = await fetch(introspectUrl, {
        method: 'POST',
        headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }).toString(),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new IntrospectionUnavailableError(`Token introspection at ${introspectUrl} failed: ${(err as Error).message}`);
    }
    if (!response.ok) {
      throw new IntrospectionUnavailableError(`Token introspection at ${introspectUrl} answered HTTP ${response.status}`);
    }
    const body: unknown = await response.json().catch(() => undefined);
    if (!body || typeof body !== 'object') {
      throw new IntrospectionUnavailableError(`Token introspection at ${introspectUrl} did not answer a JSON object`);
    }
    return body as Introspection;
  }

  return async (subject, authorization) => {
    if (!isPythonUuid(subject)) return failure('Invalid user ID; expected UUID.');
    if (!authorization.startsWith('Bearer ')) return failure('Auth token must start with "Bearer ".');
    // Python's token.split(' ')[1]: "Bearer  x" yields the empty string, as in the real service.
    const token = authorization.split(' ')[1];
    if (!hasValidTokenFormat(token)) return failure('Invalid token format.');

    const info = await introspect(token);
    if (!info.active) return failure('Token is inactive.');
    if (info.sub !== subject) return failure('Token does not belong to the user.');
    if (!pythonContains(info.aud, opts.clientId)) {
      return failure(
        `Not in the audience set. introspected = ${pythonRepr(info.aud)} server_client_id = ${opts.clientId}`,
      );
    }
    if (!pythonContains(info.scope ?? '', actionScope)) return failure('Token lacks the scope for action.');
    return undefined;
  };
}

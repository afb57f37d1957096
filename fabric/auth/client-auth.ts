/**
 * Who is calling the token, revoke and introspect endpoints: a confidential client (HTTP Basic
 * = client_secret_basic, or client_id + client_secret in the form = client_secret_post) or the
 * public native client (client_id alone).
 */
import type { Request } from 'express';
import { invalidClient, invalidRequest } from './oauth-error';
import { secretsEqual, type ConfidentialClient, type IdentityDirectory } from './identities';

export type AuthenticatedClient =
  | { kind: 'confidential'; clientId: string; client: ConfidentialClient }
  | { kind: 'public'; clientId: string };

interface ClaimedCredentials {
  clientId: string;
  /** undefined = no secret presented (a public client). */
  secret: string | undefined;
  /** Raw (not form-decoded) Basic credentials, for clients that skip RFC 6749's form-encoding. */
  raw?: { clientId: string; secret: string };
}

export function authenticateClient(req: Request, directory: IdentityDirectory, nativeClientId: string): AuthenticatedClient {
  const claimed = claimedCredentials(req);
  if (claimed.secret === undefined) {
    if (claimed.clientId === nativeClientId) return { kind: 'public', clientId: nativeClientId };
    if (directory.confidentialClient(claimed.clientId)) {
      throw invalidClient(`Client "${claimed.clientId}" is confidential and must authenticate with its secret (HTTP Basic).`);
    }
    throw invalidClient(`Unknown client "${claimed.clientId}".`);
  }
  for (const candidate of [claimed, claimed.raw]) {
    if (!candidate || candidate.secret === undefined) continue;
    const client = directory.confidentialClient(candidate.clientId);
    if (client && secretsEqual(client.clientSecret, candidate.secret)) {
      return { kind: 'confidential', clientId: client.clientId, client };
    }
  }
  if (claimed.clientId === nativeClientId) {
    throw invalidClient(`Client "${nativeClientId}" is a public native client and has no secret; send client_id alone.`);
  }
  throw invalidClient('Client authentication failed: unknown client id or wrong client secret.');
}

/** Requires a confidential client (introspection is for resource servers and confidential clients). */
export function authenticateConfidentialClient(req: Request, directory: IdentityDirectory, nativeClientId: string): ConfidentialClient {
  const client = authenticateClient(req, directory, nativeClientId);
  if (client.kind !== 'confidential') {
    throw invalidClient('This endpoint needs a confidential client authenticated with HTTP Basic (client id and secret).');
  }
  return client.client;
}

function claimedCredentials(req: Request): ClaimedCredentials {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!match) throw invalidClient('Unsupported Authorization header; use HTTP Basic with the client id and secret.');
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw invalidClient('Malformed HTTP Basic credentials.');
    const raw = { clientId: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
    if (typeof body.client_id === 'string' && body.client_id !== formDecode(raw.clientId)) {
      throw invalidRequest('client_id in the form differs from the HTTP Basic client id.');
    }
    return { clientId: formDecode(raw.clientId), secret: formDecode(raw.secret), raw };
  }
  if (typeof body.client_id !== 'string' || body.client_id === '') {
    throw invalidClient('Client authentication required: HTTP Basic for confidential clients, client_id for the native client.');
  }
  if (typeof body.client_secret === 'string') {
    return { clientId: body.client_id, secret: body.client_secret };
  }
  return { clientId: body.client_id, secret: undefined };
}

/** RFC 6749 2.3.1: Basic credentials are application/x-www-form-urlencoded before base64. */
function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

/** Which resource server each scope belongs to, as Globus Auth groups them into one token per server. */
import { OAuthError, invalidScope } from './oauth-error';
import { GLOBUS_AUTH_RESOURCE_SERVER } from '../../lib/globus/constants';

/** Scopes served by Globus Auth itself (its token is the one userinfo accepts). */
export const GLOBUS_AUTH_SCOPES: ReadonlySet<string> = new Set([
  'openid',
  'profile',
  'email',
  'urn:globus:auth:scope:auth.globus.org:view_identities',
]);

/** `https://auth.globus.org/scopes/<resource server client id>/<name>` */
const RESOURCE_SERVER_SCOPE = /^https:\/\/auth\.globus\.org\/scopes\/([^/\s]+)\/([^/\s]+)$/;

export interface ScopeGroup {
  resourceServer: string;
  scopes: string[];
}

export function parseScopeParam(scope: unknown): string[] {
  if (typeof scope !== 'string' || scope.trim() === '') {
    throw new OAuthError(400, 'invalid_scope', 'The "scope" parameter is required (space-separated scopes).');
  }
  return [...new Set(scope.trim().split(/\s+/))];
}

/**
 * Groups scopes by resource server in the order each server first appears, so the first group becomes
 * the top-level token and the rest go to `other_tokens`.
 * @param knownResourceServers client ids that may be named in `https://auth.globus.org/scopes/<id>/…`
 */
export function groupScopes(scopes: string[], knownResourceServers: ReadonlySet<string>): ScopeGroup[] {
  const groups = new Map<string, string[]>();
  for (const scope of scopes) {
    const server = resourceServerOf(scope, knownResourceServers);
    const list = groups.get(server) ?? [];
    list.push(scope);
    groups.set(server, list);
  }
  return [...groups].map(([resourceServer, list]) => ({ resourceServer, scopes: list }));
}

function resourceServerOf(scope: string, known: ReadonlySet<string>): string {
  if (GLOBUS_AUTH_SCOPES.has(scope)) return GLOBUS_AUTH_RESOURCE_SERVER;
  const match = RESOURCE_SERVER_SCOPE.exec(scope);
  if (match && known.has(match[1])) return match[1];
  throw invalidScope(
    `Unknown scope "${scope}". Known: ${[...GLOBUS_AUTH_SCOPES].join(', ')}, and ` +
      `https://auth.globus.org/scopes/<id>/<name> for the resource servers ${[...known].join(', ')}.`,
  );
}

/**
 * Node-RED's adminAuth permission rule, for the config node's admin routes: `*` grants all,
 * `read` / `*.read` grant every `<x>.read`, `write` / `*.write` every `<x>.write`, a list grants
 * what any of its entries grants. (Node-RED's own check answers 401 when a signed-in user lacks a
 * permission; these routes answer 403 then, so "not signed in" and "not allowed" stay apart.)
 */
export function hasPermission(scope: unknown, permission: string): boolean {
  if (Array.isArray(scope)) return scope.some((entry) => hasPermission(entry, permission));
  if (typeof scope !== 'string') return false;
  if (scope === '*' || scope === permission) return true;
  if (scope === 'read' || scope === '*.read') return /^((.+)\.)?read$/.test(permission);
  if (scope === 'write' || scope === '*.write') return /^((.+)\.)?write$/.test(permission);
  return false;
}

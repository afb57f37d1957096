/** Requests to a Node-RED runtime's admin API (no adminAuth), as the editor makes them; deploys are full deploys. */
export type AdminCall = (method: string, route: string, body?: unknown) => Promise<{ status: number; body: unknown }>;

/** A caller for the runtime at `url()` (a function: the runtime may start after the caller is made). */
export function adminApi(url: () => string): AdminCall {
  return async (method, route, body) => {
    const res = await fetch(`${url()}/${route}`, {
      method,
      headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    // Some routes answer plain text (the inject node's "OK").
    const json = !!text && !!res.headers.get('content-type')?.includes('json');
    return { status: res.status, body: json ? (JSON.parse(text) as unknown) : text || undefined };
  };
}

/**
 * Admin HTTP routes the editor uses: sign-in, sign-out, new key, state, spools, topics, and the local
 * fabric preset. Every route is behind Node-RED's authentication and a diaspora-config.read or
 * .write permission (401 without a valid token, 403 without the permission).
 */
import type { NodeAPI } from 'node-red';
import type { NextFunction, Request, Response } from 'express';
import { AuthError } from '../../lib/globus/auth';
import { DiasporaServiceError } from '../../lib/diaspora-service/service';
import { SessionError } from '../../lib/session/session';
import { isDiasporaConfigNode, type DiasporaConfigNode } from '../shared/config-node';
import { readFabricPreset } from './fabric-preset';
import { liveSnapshot } from '../shared/live-registry';
import { liveStatusEnabled } from '../shared/live-status';
import { spoolsOf } from '../shared/spool-registry';
import { hasPermission } from './permissions';

const READ = 'diaspora-config.read';
const WRITE = 'diaspora-config.write';

/** What Node-RED's authentication (passport) leaves on the request when adminAuth is on. */
type AuthenticatedRequest = Request & { user?: unknown; authInfo?: { scope?: unknown } };

export function registerAdminRoutes(RED: NodeAPI): void {
  const admin = RED.httpAdmin;
  const liveStatus = liveStatusEnabled(RED);
  const signedIn = RED.auth.needsPermission('');
  /**
   * Node-RED authenticates (401 without a valid token when adminAuth is on); a signed-in user
   * without the permission gets 403 with what is missing.
   */
  const guard =
    (permission: string) =>
    (req: Request, res: Response, next: NextFunction): void => {
      signedIn(req, res, () => {
        const { user, authInfo } = req as AuthenticatedRequest;
        // No user: adminAuth is off, and Node-RED let the request through.
        if (user === undefined || hasPermission(authInfo?.scope, permission)) {
          next();
          return;
        }
        res.status(403).json({ error: `this needs the "${permission}" permission in Node-RED's adminAuth settings` });
      });
    };

  admin.get('/diaspora/fabric-preset', guard(READ), (_req: Request, res: Response) => {
    const preset = readFabricPreset();
    if (preset) res.json(preset);
    else res.status(404).json({ error: 'no local fabric is running (start one with: npm run fabric -- start; DIASPORA_FABRIC_DIR names its folder)' });
  });

  const withNode =
    (handler: (node: DiasporaConfigNode, req: Request) => Promise<unknown>) =>
    (req: Request, res: Response): void => {
      const node = RED.nodes.getNode(String(req.params.id));
      if (!isDiasporaConfigNode(node)) {
        res.status(404).json({ error: 'this configuration is not deployed yet: deploy first, then sign in' });
        return;
      }
      handler(node, req).then(
        (body) => res.json(body ?? {}),
        (err: unknown) => res.status(httpStatusOf(err)).json({ error: err instanceof Error ? err.message : String(err) }),
      );
    };

  admin.get('/diaspora/live', guard(READ), (_req: Request, res: Response) => {
    res.json(liveSnapshot(liveStatus));
  });
  admin.get('/diaspora/:id/state', guard(READ), withNode(async (node) => node.session.state));
  admin.get('/diaspora/:id/spools', guard(READ), withNode(async (node) => ({ spools: spoolsOf(node.id) })));
  admin.post('/diaspora/:id/signin/start', guard(WRITE), withNode((node) => node.session.startSignIn()));
  admin.post(
    '/diaspora/:id/signin/finish',
    guard(WRITE),
    withNode((node, req) => node.session.finishSignIn(String((req.body as { code?: unknown } | undefined)?.code ?? ''))),
  );
  admin.post('/diaspora/:id/signout', guard(WRITE), withNode(async (node) => node.session.signOut()));
  admin.post('/diaspora/:id/newkey', guard(WRITE), withNode(async (node) => {
    if (node.session.transport === 'https') throw new SessionError('misconfigured', 'this configuration uses the HTTPS transport, which needs no Diaspora key');
    void node.session.newKey();
    return node.session.state;
  }));
  admin.get(
    '/diaspora/:id/topics',
    guard(READ),
    withNode(async (node) => ({ topics: await (await node.session.service()).listTopics() })),
  );
  admin.post(
    '/diaspora/:id/topics',
    guard(WRITE),
    withNode(async (node, req) => {
      const topic = String((req.body as { topic?: unknown } | undefined)?.topic ?? '').trim();
      if (!topic) throw new Error('name the topic to register');
      return (await node.session.service()).registerTopic(topic);
    }),
  );
  admin.delete(
    '/diaspora/:id/topics/:topic',
    guard(WRITE),
    withNode(async (node, req) => (await node.session.service()).unregisterTopic(String(req.params.topic))),
  );
}

/** 502 when Globus Auth or the Diaspora service could not be reached (not the caller's fault), else 400. */
function httpStatusOf(err: unknown): number {
  const kind = (err as { kind?: unknown } | null)?.kind;
  return (err instanceof AuthError || err instanceof DiasporaServiceError) && kind === 'unreachable' ? 502 : 400;
}

/** GET/POST /v2/oauth2/authorize (sign-in form) and GET /v2/web/auth-code (the page that shows the code). */
import express, { type Request, type Response, type Router } from 'express';
import { AUTH_CODE_PAGE_PATH } from '../../lib/globus/constants';
import { AuthorizeError, parseAuthorizationRequest, requestFormFields } from './authorize-request';
import { authCodePage, errorPage, loginPage } from './pages';
import { nowSeconds } from './token-store';
import type { EmulatorContext } from './context';

export function authorizeRoutes(ctx: EmulatorContext): Router {
  const router = express.Router();

  router.get('/v2/oauth2/authorize', (req, res) => {
    withAuthorizeErrors(res, () => {
      const request = parseAuthorizationRequest(req.query, ctx);
      sendHtml(res, 200, loginPage({ request: requestFormFields(request), usernames: ctx.directory.usernames() }));
    });
  });

  router.post('/v2/oauth2/authorize', express.urlencoded({ extended: false, limit: '64kb' }), (req: Request, res) => {
    withAuthorizeErrors(res, () => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const request = parseAuthorizationRequest(body, ctx);
      const username = typeof body.username === 'string' ? body.username : '';
      const password = typeof body.password === 'string' ? body.password : '';
      const user = ctx.directory.authenticateUser(username, password);
      if (!user) {
        sendHtml(res, 401, loginPage({
          request: requestFormFields(request),
          usernames: ctx.directory.usernames(),
          username,
          error: 'Wrong username or password.',
        }));
        return;
      }
      const code = ctx.codes.issue({
        clientId: request.clientId,
        redirectUri: request.redirectUri,
        scopes: request.scopes,
        codeChallenge: request.codeChallenge,
        sub: user.sub,
        state: request.state,
        nonce: request.nonce,
        offline: request.offline,
        authTime: nowSeconds(),
      });
      const target = new URL(request.redirectUri);
      target.searchParams.set('code', code);
      if (request.state !== undefined) target.searchParams.set('state', request.state);
      res.set('Cache-Control', 'no-store').redirect(302, target.href);
    });
  });

  router.get(AUTH_CODE_PAGE_PATH, (req, res) => {
    const { code, error, error_description: description } = req.query;
    if (typeof error === 'string') {
      sendHtml(res, 400, errorPage('Sign-in failed', `${error}${typeof description === 'string' ? `: ${description}` : ''}`));
    } else if (typeof code !== 'string' || code === '') {
      sendHtml(res, 400, errorPage('No authorization code', 'This page shows the code after a sign-in; start the sign-in again from the application.'));
    } else {
      sendHtml(res, 200, authCodePage(code));
    }
  });

  return router;
}

function withAuthorizeErrors(res: Response, handle: () => void): void {
  try {
    handle();
  } catch (err) {
    if (!(err instanceof AuthorizeError)) throw err;
    sendHtml(res, 400, errorPage(err.title, err.message));
  }
}

function sendHtml(res: Response, status: number, html: string): void {
  res.status(status).set({ 'Cache-Control': 'no-store', 'Content-Type': 'text/html; charset=utf-8' }).send(html);
}

import assert from 'node:assert/strict';
import { driveNativeLogin } from '../../../fabric/auth/drive-login';
import { AuthError, GlobusAuth, diasporaToken, parseTokenBundle, type TokenBundle } from '../../../lib/globus/auth';
import { DIASPORA_RESOURCE_SERVER, DIASPORA_SCOPE, GLOBUS_AUTH_RESOURCE_SERVER } from '../../../lib/globus/constants';
import { NATIVE_CLIENT_ID, closedPortUrl, startTestAuth, startTinyServer, type RunningAuth } from '../local-servers';

function isAuthError(kind: AuthError['kind'], ...forbidden: string[]): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof AuthError, `expected an AuthError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    for (const secret of forbidden) assert.ok(!err.message.includes(secret), 'no secret in the message');
    return true;
  };
}

describe('lib/globus-auth against the Globus Auth emulator', function () {
  let auth: RunningAuth;

  before(async () => {
    auth = await startTestAuth();
  });
  after(async () => {
    await auth?.close();
  });

  const alice = (): RunningAuth['identities']['users'][number] => auth.identities.users[0];
  const client = (): RunningAuth['identities']['clients'][number] => auth.identities.clients[0];
  const nativeAuth = (): GlobusAuth => new GlobusAuth({ authUrl: auth.url, clientId: NATIVE_CLIENT_ID });
  const confidentialAuth = (): GlobusAuth =>
    new GlobusAuth({ authUrl: auth.url, clientId: client().clientId, clientSecret: client().clientSecret });

  async function signIn(globus: GlobusAuth, who = alice()): Promise<TokenBundle> {
    const { authorizeUrl, pending } = await globus.startSignIn();
    const code = await driveNativeLogin({ authorizeUrl, username: who.username, password: who.password });
    return globus.exchangeCode(code, pending);
  }

  describe('user sign-in (native app, PKCE)', () => {
    it('builds the authorize URL the Python SDK builds', async () => {
      const { authorizeUrl, pending } = await nativeAuth().startSignIn('h3a-test-host');
      const url = new URL(authorizeUrl);
      assert.equal(`${url.origin}${url.pathname}`, `${auth.url}/v2/oauth2/authorize`);
      const q = url.searchParams;
      assert.equal(q.get('client_id'), NATIVE_CLIENT_ID);
      assert.equal(q.get('response_type'), 'code');
      assert.equal(q.get('redirect_uri'), `${auth.url}/v2/web/auth-code`);
      assert.equal(pending.redirectUri, `${auth.url}/v2/web/auth-code`);
      assert.equal(q.get('code_challenge_method'), 'S256');
      assert.match(q.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.match(pending.codeVerifier, /^[A-Za-z0-9\-._~]{43,128}$/);
      assert.notEqual(q.get('code_challenge'), pending.codeVerifier);
      assert.equal(q.get('access_type'), 'offline');
      assert.equal(q.get('prompt'), 'login');
      assert.equal(q.get('prefill_named_grant'), 'h3a-test-host');
      assert.equal(q.get('state'), pending.state);
      assert.deepEqual((q.get('scope') ?? '').split(' ').sort(), ['email', 'openid', 'profile', DIASPORA_SCOPE].sort());
      assert.deepEqual(JSON.parse(JSON.stringify(pending)), pending, 'pending sign-in is plain JSON');
    });

    it('exchanges the pasted code for per-resource-server tokens, the subject and refresh tokens', async () => {
      const globus = nativeAuth();
      const bundle = await signIn(globus);
      assert.equal(bundle.sub, alice().sub);
      assert.equal(bundle.username !== undefined, true);
      assert.deepEqual(Object.keys(bundle.tokens).sort(), [DIASPORA_RESOURCE_SERVER, GLOBUS_AUTH_RESOURCE_SERVER].sort());
      const diaspora = diasporaToken(bundle);
      assert.match(diaspora.accessToken, /^\w{33,254}$/);
      assert.ok(diaspora.refreshToken, 'access_type=offline gives a refresh token');
      assert.ok(diaspora.scope.includes(DIASPORA_SCOPE));
      assert.ok(diaspora.expiresAt > Date.now() + 60_000);
      assert.deepEqual(JSON.parse(JSON.stringify(bundle)), bundle, 'the bundle is plain JSON');
      const who = await globus.userinfo(bundle);
      assert.equal(who.sub, alice().sub);
      assert.equal(who.username, bundle.username);
    });

    it('refuses a code used twice, a wrong verifier and an empty code as invalid_code', async () => {
      const globus = nativeAuth();
      const { authorizeUrl, pending } = await globus.startSignIn();
      const code = await driveNativeLogin({ authorizeUrl, username: alice().username, password: alice().password });
      await assert.rejects(globus.exchangeCode(code, { ...pending, codeVerifier: `${pending.codeVerifier.slice(1)}x` }), isAuthError('invalid_code', code));

      const second = await globus.startSignIn();
      const code2 = await driveNativeLogin({ authorizeUrl: second.authorizeUrl, username: alice().username, password: alice().password });
      await globus.exchangeCode(code2, second.pending);
      await assert.rejects(globus.exchangeCode(code2, second.pending), isAuthError('invalid_code', code2));
      await assert.rejects(globus.exchangeCode('   ', second.pending), isAuthError('invalid_code'));
    });

    it('refreshes the tokens, and ensureFresh refreshes only when close to expiry', async () => {
      const globus = nativeAuth();
      const bundle = await signIn(globus);
      assert.equal(await globus.ensureFresh(bundle), bundle, 'nothing to do far from expiry');

      const refreshed = await globus.refresh(bundle);
      assert.notEqual(diasporaToken(refreshed).accessToken, diasporaToken(bundle).accessToken);
      assert.ok(diasporaToken(refreshed).refreshToken);
      assert.equal(refreshed.sub, bundle.sub);
      assert.equal((await globus.userinfo(refreshed)).sub, alice().sub, 'the new Globus Auth token works');

      const soon = await globus.ensureFresh(refreshed, 365 * 24 * 3600_000);
      assert.notEqual(diasporaToken(soon).accessToken, diasporaToken(refreshed).accessToken);
    });

    it('revokes access and refresh tokens; the refresh then fails as revoked, with an actionable message', async () => {
      const globus = nativeAuth();
      const bundle = await signIn(globus);
      await globus.revoke(bundle);
      const refresh = diasporaToken(bundle).refreshToken as string;
      await assert.rejects(globus.refresh(bundle), (err: unknown) => {
        isAuthError('revoked', refresh, diasporaToken(bundle).accessToken)(err);
        assert.match((err as Error).message, /sign in again/);
        return true;
      });
      await assert.rejects(globus.userinfo(bundle), isAuthError('revoked'));
    });

    it('says so clearly when signed in without the Diaspora scope', async () => {
      const globus = new GlobusAuth({ authUrl: auth.url, clientId: NATIVE_CLIENT_ID, scopes: ['openid', 'profile'] });
      const bundle = await signIn(globus);
      assert.equal(bundle.sub, alice().sub);
      assert.throws(() => diasporaToken(bundle), (err: unknown) => {
        assert.ok(err instanceof AuthError);
        assert.match(err.message, /signed in without the Diaspora scope/i);
        return true;
      });
    });
  });

  describe('client credentials', () => {
    it('gets the Diaspora token (picked by resource_server) and the client identity as subject', async () => {
      const globus = confidentialAuth();
      const bundle = await globus.clientCredentials();
      assert.equal(bundle.sub, client().sub);
      const diaspora = diasporaToken(bundle);
      assert.match(diaspora.accessToken, /^\w{33,254}$/);
      assert.equal(diaspora.refreshToken, undefined);
      assert.ok(bundle.tokens[GLOBUS_AUTH_RESOURCE_SERVER], 'the openid token for userinfo');
    });

    it('ensureFresh fetches new client credentials when the token is about to expire', async () => {
      const globus = confidentialAuth();
      const bundle = await globus.clientCredentials();
      const fresh = await globus.ensureFresh(bundle, 365 * 24 * 3600_000);
      assert.notEqual(diasporaToken(fresh).accessToken, diasporaToken(bundle).accessToken);
      assert.equal(fresh.sub, client().sub);
    });

    it('rejects a wrong secret as invalid_client without echoing it', async () => {
      const wrong = `${client().clientSecret}-wrong`;
      const globus = new GlobusAuth({ authUrl: auth.url, clientId: client().clientId, clientSecret: wrong });
      await assert.rejects(globus.clientCredentials(), isAuthError('invalid_client', wrong, client().clientSecret));
    });

    it('needs a secret', async () => {
      await assert.rejects(nativeAuth().clientCredentials(), isAuthError('invalid_client'));
    });
  });
});

describe('lib/globus-auth with a bad auth URL', () => {
  it('reads a stored bundle back, and asks to sign in again when it is damaged', () => {
    const bundle: TokenBundle = { tokens: { rs: { accessToken: 'a', refreshToken: 'r', expiresAt: 1, scope: 's' } }, sub: 'x' };
    assert.deepEqual(parseTokenBundle(JSON.stringify(bundle)), bundle);
    for (const damaged of ['not json', '{}', '{"tokens":{"rs":{"accessToken":1}}}', 'null']) {
      assert.throws(() => parseTokenBundle(damaged), isAuthError('revoked'));
    }
    assert.throws(() => diasporaToken({} as TokenBundle), isAuthError('revoked'));
  });

  it('refuses plain http except on a loopback host', () => {
    assert.throws(() => new GlobusAuth({ authUrl: 'http://auth.example.org', clientId: 'x' }), /Refusing plain http.*https/);
    assert.throws(() => new GlobusAuth({ authUrl: 'ftp://auth.example.org', clientId: 'x' }), /https/);
    assert.throws(() => new GlobusAuth({ authUrl: 'not a url', clientId: 'x' }), /not a valid URL/);
    assert.throws(() => new GlobusAuth({ authUrl: 'https://auth.globus.org', clientId: ' ' }), /client id is empty/);
    assert.doesNotThrow(() => new GlobusAuth({ authUrl: 'http://127.0.0.1:1', clientId: 'x' }));
    assert.doesNotThrow(() => new GlobusAuth({ authUrl: 'http://localhost:1', clientId: 'x' }));
    assert.doesNotThrow(() => new GlobusAuth({ authUrl: 'http://[::1]:1', clientId: 'x' }));
  });

  it('reports an unreachable auth server as unreachable, naming the URL', async () => {
    const url = await closedPortUrl();
    const globus = new GlobusAuth({ authUrl: url, clientId: NATIVE_CLIENT_ID });
    await assert.rejects(globus.startSignIn(), (err: unknown) => {
      isAuthError('unreachable')(err);
      assert.ok((err as Error).message.includes(url));
      return true;
    });
  });

  it('reports a server that is not an OIDC issuer (HTML, 500) as a protocol error', async () => {
    const html = await startTinyServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Welcome to nginx</body></html>');
    });
    const broken = await startTinyServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
    });
    try {
      for (const server of [html, broken]) {
        const globus = new GlobusAuth({ authUrl: server.url, clientId: NATIVE_CLIENT_ID });
        await assert.rejects(globus.startSignIn(), (err: unknown) => {
          isAuthError('protocol')(err);
          assert.match((err as Error).message, /OpenID configuration/);
          return true;
        });
      }
    } finally {
      await html.close();
      await broken.close();
    }
  });

  it('times out on a server that never answers', async () => {
    const silent = await startTinyServer(() => {
      /* never answers */
    });
    try {
      const globus = new GlobusAuth({ authUrl: silent.url, clientId: NATIVE_CLIENT_ID, fetchTimeoutMs: 300 });
      await assert.rejects(globus.startSignIn(), (err: unknown) => {
        isAuthError('unreachable')(err);
        assert.match((err as Error).message, /did not answer in time/);
        return true;
      });
    } finally {
      await silent.close();
    }
  });
});

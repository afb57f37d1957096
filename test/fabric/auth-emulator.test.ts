import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as oidc from 'openid-client';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { startAuthEmulator, type AuthEmulatorOptions, type RunningAuthEmulator } from '../../fabric/auth-emulator';
import { driveNativeLogin, driveNativeLoginRedirect } from '../../fabric/auth/drive-login';
import {
  AUTH_CODE_PAGE_PATH,
  DIASPORA_RESOURCE_SERVER,
  DIASPORA_SCOPE,
  GLOBUS_AUTH_RESOURCE_SERVER,
  SDK_NATIVE_CLIENT_ID,
} from '../../lib/globus/constants';

const TOKEN_FORMAT = /^\w{33,254}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const USER_SCOPES = `openid profile email ${DIASPORA_SCOPE}`;

const alice = { username: 'alice', password: 'alice-pass', sub: randomUUID() };
const bob = { username: 'bob', password: 'bob-pass', sub: randomUUID() };
const robotId = randomUUID();
const robot = { clientId: robotId, clientSecret: 'robot+secret/with:odd=chars', sub: robotId };
const serviceSecret = 'service-secret';
const adminPassword = 'h2a-admin';

function emulatorOptions(overrides: Partial<AuthEmulatorOptions> = {}): AuthEmulatorOptions {
  return {
    port: 0,
    users: [alice, bob],
    clients: [robot],
    nativeClientId: SDK_NATIVE_CLIENT_ID,
    resourceServer: { clientId: DIASPORA_RESOURCE_SERVER, clientSecret: serviceSecret },
    adminPassword,
    ...overrides,
  };
}

type TokenSet = oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
interface GlobusToken {
  access_token: string;
  scope: string;
  resource_server: string;
  expires_in: number;
  token_type: string;
  refresh_token?: string;
  id_token?: string;
}

function tokenFor(tokens: TokenSet, resourceServer: string): GlobusToken {
  const all = [tokens as unknown as GlobusToken, ...((tokens.other_tokens ?? []) as unknown as GlobusToken[])];
  const found = all.find((token) => token.resource_server === resourceServer);
  assert.ok(found, `no token for ${resourceServer} in ${all.map((t) => t.resource_server).join(', ')}`);
  return found;
}

async function expectOAuthError(promise: Promise<unknown>, error: string, status: number): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof oidc.ResponseBodyError, `expected a ResponseBodyError, got ${String(err)}`);
    assert.equal(err.error, error);
    assert.equal(err.status, status);
    return true;
  });
}

describe('Globus Auth emulator', function () {
  let emulator: RunningAuthEmulator;
  let stateDir: string;
  let native: oidc.Configuration;
  let service: oidc.Configuration;

  const discover = (clientId: string, auth: oidc.ClientAuth): Promise<oidc.Configuration> =>
    oidc.discovery(new URL(emulator.url), clientId, undefined, auth, { execute: [oidc.allowInsecureRequests] });

  /** The native-app flow as the config node runs it: authorize URL, browser sign-in, code exchange. */
  async function signIn(user: { username: string; password: string }, scope = USER_SCOPES) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const redirectUri = `${emulator.url}${AUTH_CODE_PAGE_PATH}`;
    const authorizeUrl = oidc.buildAuthorizationUrl(native, {
      redirect_uri: redirectUri,
      scope,
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      access_type: 'offline',
      prompt: 'login',
    });
    const code = await driveNativeLogin({ authorizeUrl, username: user.username, password: user.password });
    const callback = new URL(redirectUri);
    callback.searchParams.set('code', code);
    callback.searchParams.set('state', state);
    return { code, callback, verifier, state, nonce };
  }

  async function exchange(flow: Awaited<ReturnType<typeof signIn>>): Promise<TokenSet> {
    return oidc.authorizationCodeGrant(native, flow.callback, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
    });
  }

  async function admin(method: 'GET' | 'POST', route: string, body?: unknown, password = adminPassword): Promise<Response> {
    return fetch(`${emulator.url}${route}`, {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  before(async function () {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'h2a-auth-emulator-'));
    emulator = await startAuthEmulator(emulatorOptions({ statePath: path.join(stateDir, 'auth-state.json') }));
    native = await discover(SDK_NATIVE_CLIENT_ID, oidc.None());
    service = await discover(DIASPORA_RESOURCE_SERVER, oidc.ClientSecretBasic(serviceSecret));
  });

  after(async function () {
    await emulator?.close();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  describe('discovery', function () {
    it('publishes Globus-shaped OIDC metadata whose issuer is the emulator URL', async function () {
      assert.match(emulator.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const meta = native.serverMetadata();
      assert.equal(meta.issuer, emulator.url);
      assert.equal(meta.authorization_endpoint, `${emulator.url}/v2/oauth2/authorize`);
      assert.equal(meta.token_endpoint, `${emulator.url}/v2/oauth2/token`);
      assert.equal(meta.userinfo_endpoint, `${emulator.url}/v2/oauth2/userinfo`);
      assert.equal(meta.revocation_endpoint, `${emulator.url}/v2/oauth2/token/revoke`);
      assert.equal(meta.introspection_endpoint, `${emulator.url}/v2/oauth2/token/introspect`);
      assert.equal(meta.jwks_uri, `${emulator.url}/jwk.json`);
      assert.deepEqual(meta.id_token_signing_alg_values_supported, ['RS512']);
      assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
      assert.ok(meta.token_endpoint_auth_methods_supported?.includes('client_secret_basic'));
      assert.ok(meta.token_endpoint_auth_methods_supported?.includes('none'));
      assert.ok(meta.scopes_supported?.includes('openid'));
    });

    it('serves the id_token signing key at /jwk.json', async function () {
      const jwks = (await (await fetch(`${emulator.url}/jwk.json`)).json()) as JSONWebKeySet;
      assert.equal(jwks.keys.length, 1);
      assert.equal(jwks.keys[0].kty, 'RSA');
      assert.equal(jwks.keys[0].alg, 'RS512');
      assert.equal(jwks.keys[0].d, undefined, 'the private exponent must not be published');
    });
  });

  describe('native app sign-in (authorization code + PKCE)', function () {
    it('yields a Diaspora token in other_tokens and a valid RS512 id_token', async function () {
      const flow = await signIn(alice);
      const tokens = await exchange(flow);

      assert.equal(tokens.resource_server, GLOBUS_AUTH_RESOURCE_SERVER, 'openid comes first, so auth.globus.org is on top');
      assert.equal(tokens.scope, 'openid profile email');
      const diaspora = tokenFor(tokens, DIASPORA_RESOURCE_SERVER);
      assert.equal(diaspora.scope, DIASPORA_SCOPE);
      assert.equal(diaspora.token_type, 'Bearer');
      assert.equal(diaspora.expires_in, 3600);
      for (const token of [tokens.access_token, tokens.refresh_token, diaspora.access_token, diaspora.refresh_token]) {
        assert.match(token ?? '', TOKEN_FORMAT);
      }
      assert.notEqual(diaspora.access_token, tokens.access_token);

      const jwks = createLocalJWKSet((await (await fetch(`${emulator.url}/jwk.json`)).json()) as JSONWebKeySet);
      assert.ok(tokens.id_token);
      assert.equal(decodeProtectedHeader(tokens.id_token).alg, 'RS512');
      const { payload } = await jwtVerify(tokens.id_token, jwks, {
        issuer: emulator.url,
        audience: SDK_NATIVE_CLIENT_ID,
        algorithms: ['RS512'],
      });
      assert.equal(payload.sub, alice.sub);
      assert.equal(payload.nonce, flow.nonce);
      assert.equal(payload.preferred_username, 'alice');
      assert.equal(tokens.claims()?.sub, alice.sub);
    });

    it('shows the code on the auth-code page, as Globus does', async function () {
      const page = await fetch(`${emulator.url}${AUTH_CODE_PAGE_PATH}?code=Abc123&state=_default`);
      const html = await page.text();
      assert.equal(page.status, 200);
      assert.match(html, /Copy this code/);
      assert.match(html, /id="auth-code"[^>]*>Abc123</);
    });

    it('gives the subject (a UUID) from userinfo for the auth.globus.org token only', async function () {
      const tokens = await exchange(await signIn(bob));
      const info = await oidc.fetchUserInfo(native, tokens.access_token, bob.sub);
      assert.equal(info.sub, bob.sub);
      assert.match(info.sub, UUID);
      assert.equal(info.preferred_username, 'bob');
      assert.equal(info.email, 'bob@fabric.local');

      const diaspora = tokenFor(tokens, DIASPORA_RESOURCE_SERVER);
      for (const token of [diaspora.access_token, 'Ag' + 'x'.repeat(40)]) {
        const res = await fetch(`${emulator.url}/v2/oauth2/userinfo`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(res.status, 401);
        assert.equal(((await res.json()) as { error: string }).error, 'invalid_token');
      }
    });

    it('puts the Diaspora token on top when its scope is asked first', async function () {
      const tokens = await oidc.authorizationCodeGrant(
        native,
        (await signInWithoutNonce(`${DIASPORA_SCOPE} openid`)).callback,
        { pkceCodeVerifier: lastVerifier, expectedState: lastState },
      );
      assert.equal(tokens.resource_server, DIASPORA_RESOURCE_SERVER);
      const auth = tokenFor(tokens, GLOBUS_AUTH_RESOURCE_SERVER);
      assert.ok(auth.id_token, 'the id_token rides on the auth.globus.org token');
      assert.equal(tokens.id_token, undefined);
    });

    let lastVerifier = '';
    let lastState = '';
    async function signInWithoutNonce(scope: string): Promise<{ callback: URL }> {
      lastVerifier = oidc.randomPKCECodeVerifier();
      lastState = oidc.randomState();
      const authorizeUrl = oidc.buildAuthorizationUrl(native, {
        redirect_uri: 'http://127.0.0.1:1/callback',
        scope,
        state: lastState,
        code_challenge: await oidc.calculatePKCECodeChallenge(lastVerifier),
        code_challenge_method: 'S256',
      });
      const callback = await driveNativeLoginRedirect({ authorizeUrl, username: alice.username, password: alice.password });
      assert.equal(callback.origin + callback.pathname, 'http://127.0.0.1:1/callback');
      return { callback };
    }

    it('refuses a replayed code and a code exchanged with another session’s verifier', async function () {
      const first = await signIn(alice);
      await exchange(first);
      await expectOAuthError(exchange(first), 'invalid_grant', 400);

      const other = await signIn(alice);
      const third = await signIn(alice);
      await expectOAuthError(exchange({ ...third, verifier: other.verifier }), 'invalid_grant', 400);
      // The other session's own code still works with its own verifier.
      assert.match((await exchange(other)).access_token, TOKEN_FORMAT);
    });

    it('shows the form again on a wrong password', async function () {
      const verifier = oidc.randomPKCECodeVerifier();
      const authorizeUrl = oidc.buildAuthorizationUrl(native, {
        redirect_uri: `${emulator.url}${AUTH_CODE_PAGE_PATH}`,
        scope: USER_SCOPES,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      await assert.rejects(
        driveNativeLogin({ authorizeUrl, username: 'alice', password: 'wrong' }),
        /failed \(HTTP 401\): Wrong username or password/,
      );
      await assert.rejects(driveNativeLogin({ authorizeUrl, username: 'mallory', password: 'x' }), /Wrong username or password/);
    });

    it('refuses authorize requests without S256 PKCE, from another client, or to a foreign redirect', async function () {
      const challenge = await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier());
      const base = {
        client_id: SDK_NATIVE_CLIENT_ID,
        response_type: 'code',
        scope: USER_SCOPES,
        redirect_uri: `${emulator.url}${AUTH_CODE_PAGE_PATH}`,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      };
      const cases: [Record<string, string | undefined>, RegExp][] = [
        [{ code_challenge: undefined, code_challenge_method: undefined }, /PKCE/],
        [{ code_challenge_method: 'plain' }, /must be &#34;S256&#34;.*plain/],
        [{ client_id: robot.clientId }, /only the native app client/],
        [{ redirect_uri: 'https://evil.example/cb' }, /redirect_uri must be/],
        [{ scope: 'https://auth.globus.org/scopes/unknown/all' }, /Unknown scope/],
        [{ response_type: 'token' }, /response_type must be/],
      ];
      for (const [change, message] of cases) {
        const params = new URLSearchParams();
        for (const [key, value] of Object.entries({ ...base, ...change })) if (value !== undefined) params.set(key, value);
        const res = await fetch(`${emulator.url}/v2/oauth2/authorize?${params}`, { redirect: 'manual' });
        assert.equal(res.status, 400, JSON.stringify(change));
        assert.match(await res.text(), message);
      }
    });
  });

  describe('refresh and revocation', function () {
    it('refreshes the Diaspora token and stops after its refresh token is revoked', async function () {
      const tokens = await exchange(await signIn(alice));
      const diaspora = tokenFor(tokens, DIASPORA_RESOURCE_SERVER);
      assert.ok(diaspora.refresh_token);

      const refreshed = await oidc.refreshTokenGrant(native, diaspora.refresh_token);
      assert.equal(refreshed.resource_server, DIASPORA_RESOURCE_SERVER);
      assert.equal(refreshed.scope, DIASPORA_SCOPE);
      assert.match(refreshed.access_token, TOKEN_FORMAT);
      assert.notEqual(refreshed.access_token, diaspora.access_token);
      assert.equal((await oidc.tokenIntrospection(service, refreshed.access_token)).active, true);

      await oidc.tokenRevocation(native, diaspora.refresh_token);
      await expectOAuthError(oidc.refreshTokenGrant(native, diaspora.refresh_token), 'invalid_grant', 400);
      for (const access of [diaspora.access_token, refreshed.access_token]) {
        assert.equal((await oidc.tokenIntrospection(service, access)).active, false, 'access tokens go with their refresh token');
      }
      // The auth.globus.org token has its own refresh token, untouched.
      assert.equal((await oidc.tokenIntrospection(service, tokens.access_token)).active, true);
    });

    it('revokes a single access token', async function () {
      const tokens = await exchange(await signIn(bob));
      await oidc.tokenRevocation(native, tokens.access_token);
      await assert.rejects(oidc.fetchUserInfo(native, tokens.access_token, bob.sub));
      assert.equal((await oidc.tokenIntrospection(service, tokens.access_token)).active, false);
    });

    it('answers 200 for an unknown token', async function () {
      const res = await fetch(`${emulator.url}/v2/oauth2/token/revoke`, {
        method: 'POST',
        body: new URLSearchParams({ token: 'unknown-token', client_id: SDK_NATIVE_CLIENT_ID }),
      });
      assert.equal(res.status, 200);
    });
  });

  describe('client credentials', function () {
    it('issues tokens to a confidential client over HTTP Basic; its subject is its client id', async function () {
      const client = await discover(robot.clientId, oidc.ClientSecretBasic(robot.clientSecret));
      const tokens = await oidc.clientCredentialsGrant(client, { scope: `openid ${DIASPORA_SCOPE}` });
      assert.equal(tokens.resource_server, GLOBUS_AUTH_RESOURCE_SERVER);
      assert.equal(tokens.refresh_token, undefined);
      const diaspora = tokenFor(tokens, DIASPORA_RESOURCE_SERVER);
      assert.match(diaspora.access_token, TOKEN_FORMAT);

      const info = await oidc.fetchUserInfo(client, tokens.access_token, robot.clientId);
      assert.equal(info.sub, robot.clientId);
      const introspected = await oidc.tokenIntrospection(service, diaspora.access_token);
      assert.equal(introspected.sub, robot.clientId);
      assert.equal(introspected.client_id, robot.clientId);
    });

    it('accepts client_secret_post too', async function () {
      const client = await discover(robot.clientId, oidc.ClientSecretPost(robot.clientSecret));
      const tokens = await oidc.clientCredentialsGrant(client, { scope: DIASPORA_SCOPE });
      assert.equal(tokens.resource_server, DIASPORA_RESOURCE_SERVER);
      assert.deepEqual(tokens.other_tokens, []);
    });

    it('refuses a wrong secret (401 invalid_client), a missing scope, and the native client', async function () {
      const wrong = await discover(robot.clientId, oidc.ClientSecretBasic('not-the-secret'));
      await expectOAuthError(oidc.clientCredentialsGrant(wrong, { scope: DIASPORA_SCOPE }), 'invalid_client', 401);
      const right = await discover(robot.clientId, oidc.ClientSecretBasic(robot.clientSecret));
      await expectOAuthError(oidc.clientCredentialsGrant(right, {}), 'invalid_scope', 400);
      await expectOAuthError(oidc.clientCredentialsGrant(native, { scope: DIASPORA_SCOPE }), 'unauthorized_client', 400);
    });
  });

  describe('introspection', function () {
    it('reports an active token with sub, aud, scope, client_id, exp, iat, username', async function () {
      const tokens = await exchange(await signIn(alice));
      const diaspora = tokenFor(tokens, DIASPORA_RESOURCE_SERVER);
      const info = await oidc.tokenIntrospection(service, diaspora.access_token);
      assert.equal(info.active, true);
      assert.equal(info.sub, alice.sub);
      assert.ok(Array.isArray(info.aud) && info.aud.includes(DIASPORA_RESOURCE_SERVER));
      assert.equal(info.scope, DIASPORA_SCOPE);
      assert.equal(info.client_id, SDK_NATIVE_CLIENT_ID);
      assert.equal(info.username, 'alice');
      assert.equal((info.exp ?? 0) - (info.iat ?? 0), 3600);
    });

    it('reports unknown tokens as inactive and refuses the public client', async function () {
      assert.deepEqual(await oidc.tokenIntrospection(service, 'Ag' + 'y'.repeat(44)), { active: false });
      const res = await fetch(`${emulator.url}/v2/oauth2/token/introspect`, {
        method: 'POST',
        body: new URLSearchParams({ token: 'whatever', client_id: SDK_NATIVE_CLIENT_ID }),
      });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_client');
    });

    it('makes tokens expire after the configured lifetime', async function () {
      assert.equal((await admin('POST', '/_fabric/config', { accessTokenTtlSeconds: 1 })).status, 200);
      try {
        const tokens = await exchange(await signIn(alice));
        assert.equal(tokens.expires_in, 1);
        await new Promise((resolve) => setTimeout(resolve, 2100));
        assert.equal((await oidc.tokenIntrospection(service, tokens.access_token)).active, false);
        const res = await fetch(`${emulator.url}/v2/oauth2/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
        assert.equal(res.status, 401);
        // The refresh token outlives its access token.
        const refreshed = await oidc.refreshTokenGrant(native, tokens.refresh_token ?? '');
        assert.equal((await oidc.fetchUserInfo(native, refreshed.access_token, alice.sub)).sub, alice.sub);
      } finally {
        await admin('POST', '/_fabric/config', { accessTokenTtlSeconds: 3600 });
      }
    });
  });

  describe('control routes', function () {
    it('need the admin password', async function () {
      assert.equal((await admin('GET', '/_fabric/stats', undefined, 'wrong')).status, 401);
      assert.equal((await fetch(`${emulator.url}/_fabric/stats`)).status, 401);
    });

    it('revoke every token of a subject, so its refresh token stops working', async function () {
      const tokens = await exchange(await signIn(bob));
      const res = await admin('POST', '/_fabric/revoke-all', { sub: bob.sub });
      assert.equal(res.status, 200);
      assert.ok(((await res.json()) as { revoked: number }).revoked >= 4);
      await expectOAuthError(oidc.refreshTokenGrant(native, tokens.refresh_token ?? ''), 'invalid_grant', 400);
    });

    it('report statistics and reject bad config', async function () {
      const stats = (await (await admin('GET', '/_fabric/stats')).json()) as { tokensIssued: number; codesRedeemed: number };
      assert.ok(stats.tokensIssued > 10);
      assert.ok(stats.codesRedeemed > 5);
      const bad = await admin('POST', '/_fabric/config', { accessTokenTtlSeconds: -5 });
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as { error_description: string }).error_description, /positive whole number/);
    });
  });

  describe('persistence', function () {
    it('keeps tokens and the signing key across a restart with the same state file', async function () {
      const statePath = path.join(stateDir, 'restart-state.json');
      const first = await startAuthEmulator(emulatorOptions({ statePath }));
      let tokens: TokenSet;
      let kid: unknown;
      try {
        const client = await oidc.discovery(new URL(first.url), robot.clientId, undefined, oidc.ClientSecretBasic(robot.clientSecret), {
          execute: [oidc.allowInsecureRequests],
        });
        tokens = await oidc.clientCredentialsGrant(client, { scope: DIASPORA_SCOPE });
        kid = ((await (await fetch(`${first.url}/jwk.json`)).json()) as JSONWebKeySet).keys[0].kid;
      } finally {
        await first.close();
      }
      assert.equal(fs.statSync(statePath).mode & 0o077, 0, 'the state file holds live tokens: owner-only');
      assert.ok(!fs.readFileSync(statePath, 'utf8').includes(robot.clientSecret), 'no client secret in the state file');

      const second = await startAuthEmulator(emulatorOptions({ statePath }));
      try {
        const introspector = await oidc.discovery(new URL(second.url), DIASPORA_RESOURCE_SERVER, undefined, oidc.ClientSecretBasic(serviceSecret), {
          execute: [oidc.allowInsecureRequests],
        });
        assert.equal((await oidc.tokenIntrospection(introspector, tokens.access_token)).active, true);
        assert.equal(((await (await fetch(`${second.url}/jwk.json`)).json()) as JSONWebKeySet).keys[0].kid, kid);
      } finally {
        await second.close();
      }
    });
  });
});

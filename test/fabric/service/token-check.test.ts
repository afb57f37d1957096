import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  IntrospectionUnavailableError,
  createTokenCheck,
  hasValidTokenFormat,
  isPythonUuid,
  type TokenCheck,
} from '../../../fabric/service/token-check';

const SERVICE_CLIENT = '2b9d2f5c-fa32-45b5-875b-b24cd343b917';
const SERVICE_SECRET = 'service-secret';
const ACTION_SCOPE = `https://auth.globus.org/scopes/${SERVICE_CLIENT}/action_all`;
const SUBJECT = '11111111-2222-3333-4444-555555555555';
const TOKEN = 'A'.repeat(40);

interface Seen {
  authorization: string | undefined;
  form: URLSearchParams;
}

/** A stand-in for Globus Auth's introspection endpoint that answers what each test sets. */
async function startIntrospection(): Promise<{
  url: string;
  seen: Seen[];
  answer: { status: number; body: unknown };
  close(): Promise<void>;
}> {
  const seen: Seen[] = [];
  const answer = { status: 200, body: {} as unknown };
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      assert.equal(req.url, '/v2/oauth2/token/introspect');
      seen.push({ authorization: req.headers.authorization, form: new URLSearchParams(text) });
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    answer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('fabric/service/token-check (the real service\'s seven steps)', function () {
  let auth: Awaited<ReturnType<typeof startIntrospection>>;
  let check: TokenCheck;
  const good = { active: true, sub: SUBJECT, aud: [SERVICE_CLIENT, 'transfer.api.globus.org'], scope: `openid ${ACTION_SCOPE}` };

  before(async function () {
    auth = await startIntrospection();
    check = createTokenCheck({ authUrl: `${auth.url}/`, clientId: SERVICE_CLIENT, clientSecret: SERVICE_SECRET, timeoutMs: 2000 });
  });
  after(() => auth.close());
  beforeEach(function () {
    auth.seen.length = 0;
    auth.answer.status = 200;
    auth.answer.body = good;
  });

  it('accepts an active token of the subject, introspecting with the service\'s Basic credentials', async function () {
    assert.equal(await check(SUBJECT, `Bearer ${TOKEN}`), undefined);
    assert.equal(auth.seen.length, 1);
    assert.equal(auth.seen[0].authorization, `Basic ${Buffer.from(`${SERVICE_CLIENT}:${SERVICE_SECRET}`).toString('base64')}`);
    assert.equal(auth.seen[0].form.get('token'), TOKEN);
  });

  it('caches nothing: every call introspects again, so a revoked token fails at once', async function () {
    assert.equal(await check(SUBJECT, `Bearer ${TOKEN}`), undefined);
    auth.answer.body = { active: false };
    assert.deepEqual(await check(SUBJECT, `Bearer ${TOKEN}`), { status: 'error', reason: 'Token is inactive.' });
    assert.equal(auth.seen.length, 2);
  });

  const refusals: Array<[string, string, string, unknown, string]> = [
    ['a subject that is not a UUID', 'alice', `Bearer ${TOKEN}`, good, 'Invalid user ID; expected UUID.'],
    ['a header without "Bearer "', SUBJECT, `Token ${TOKEN}`, good, 'Auth token must start with "Bearer ".'],
    ['a lower-case "bearer "', SUBJECT, `bearer ${TOKEN}`, good, 'Auth token must start with "Bearer ".'],
    ['a 32-character token', SUBJECT, `Bearer ${'a'.repeat(32)}`, good, 'Invalid token format.'],
    ['a 255-character token', SUBJECT, `Bearer ${'a'.repeat(255)}`, good, 'Invalid token format.'],
    ['a token with a dash', SUBJECT, `Bearer ${'a'.repeat(40)}-x`, good, 'Invalid token format.'],
    ['two spaces after Bearer (Python split keeps an empty part)', SUBJECT, `Bearer  ${TOKEN}`, good, 'Invalid token format.'],
    ['an inactive token', SUBJECT, `Bearer ${TOKEN}`, { active: false }, 'Token is inactive.'],
    ['another subject\'s token', SUBJECT, `Bearer ${TOKEN}`, { ...good, sub: '99999999-2222-3333-4444-555555555555' }, 'Token does not belong to the user.'],
    [
      'a token for another audience',
      SUBJECT,
      `Bearer ${TOKEN}`,
      { ...good, aud: ['auth.globus.org'] },
      `Not in the audience set. introspected = ['auth.globus.org'] server_client_id = ${SERVICE_CLIENT}`,
    ],
    [
      'a token without an audience',
      SUBJECT,
      `Bearer ${TOKEN}`,
      { active: true, sub: SUBJECT, scope: ACTION_SCOPE },
      `Not in the audience set. introspected = None server_client_id = ${SERVICE_CLIENT}`,
    ],
    ['a token without the action scope', SUBJECT, `Bearer ${TOKEN}`, { ...good, scope: 'openid' }, 'Token lacks the scope for action.'],
  ];
  for (const [what, subject, authorization, introspection, reason] of refusals) {
    it(`refuses ${what}: "${reason.slice(0, 40)}…"`, async function () {
      auth.answer.body = introspection;
      assert.deepEqual(await check(subject, authorization), { status: 'error', reason });
    });
  }

  it('does not introspect when the request fails the local checks', async function () {
    await check('not-a-uuid', `Bearer ${TOKEN}`);
    await check(SUBJECT, 'Bearer short');
    assert.equal(auth.seen.length, 0);
  });

  it('reports an unreachable or failing introspection as IntrospectionUnavailableError, without the token', async function () {
    auth.answer.status = 503;
    await assert.rejects(check(SUBJECT, `Bearer ${TOKEN}`), (err: Error) => {
      assert.ok(err instanceof IntrospectionUnavailableError);
      assert.match(err.message, /HTTP 503/);
      assert.ok(!err.message.includes(TOKEN));
      return true;
    });
  });

  it('accepts the UUID spellings Python\'s uuid.UUID accepts', function () {
    assert.ok(isPythonUuid(SUBJECT));
    assert.ok(isPythonUuid(SUBJECT.toUpperCase()));
    assert.ok(isPythonUuid(`{${SUBJECT}}`));
    assert.ok(isPythonUuid(`urn:uuid:${SUBJECT}`));
    assert.ok(isPythonUuid(SUBJECT.replace(/-/g, '')));
    assert.ok(!isPythonUuid(`${SUBJECT}0`));
    assert.ok(!isPythonUuid('g'.repeat(32)));
    assert.ok(!isPythonUuid(''));
  });

  it('counts token length in characters, 33 to 254, of letters, digits and underscore', function () {
    assert.ok(hasValidTokenFormat('a'.repeat(33)));
    assert.ok(hasValidTokenFormat('a'.repeat(254)));
    assert.ok(hasValidTokenFormat(`${'a'.repeat(32)}_`));
    assert.ok(!hasValidTokenFormat(`${'a'.repeat(32)}.`));
  });
});

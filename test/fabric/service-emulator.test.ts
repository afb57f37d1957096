import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startServiceEmulator } from '../../fabric/service-emulator';
import { defaultNamespace } from '../../fabric/service/names';
import { DIASPORA_RESOURCE_SERVER } from '../../lib/globus/constants';
import { canLogIn, consume, produce, waitForLogin } from './kafka-probes';
import { KEY_DELAY_MS, ServiceHarness } from './service-harness';

const tag = `h2b-${crypto.randomBytes(3).toString('hex')}`;

describe('fabric/service-emulator against the real broker and the auth emulator', function () {
  this.timeout(120_000);
  const harness = new ServiceHarness(7);
  const [tokenUser, keyUser, owner, other, v3User, guardUser, spare] = harness.clients;
  const v1Topics = [`${tag}-owned`, `${tag}-body`];

  before(() => harness.start());
  after(async function () {
    if (harness.kafkaAdmin) {
      // Leave no usable credential or topic behind on a broker that outlives the test.
      for (const topic of v1Topics) await harness.kafkaAdmin.deleteTopic(topic).catch(() => undefined);
      for (const client of harness.clients) await harness.kafkaAdmin.deleteScramUser(client.sub).catch(() => undefined);
    }
    await harness.close();
  });

  describe('token check (the real service\'s answers, HTTP 200)', function () {
    it('accepts a client-credentials token for the Diaspora scope', async function () {
      const listed = await harness.callAs(tokenUser, 'GET', '/v1/list_topics');
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.body, { status: 'success', topics: [] });
      const namespaces = await harness.callAs(tokenUser, 'GET', '/api/v3/namespace');
      assert.deepEqual(namespaces.body, { status: 'success', message: `Found 0 namespaces for ${tokenUser.sub}`, namespaces: {} });
    });

    it('rejects a forged token as inactive', async function () {
      const forged = crypto.randomBytes(40).toString('hex');
      const answer = await harness.call('POST', '/v1/create_key', { subject: tokenUser.sub, token: forged });
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body, { status: 'error', reason: 'Token is inactive.' });
      const v3 = await harness.call('POST', '/api/v3/key', { subject: tokenUser.sub, token: forged });
      assert.deepEqual(v3.body, { status: 'error', reason: 'Token is inactive.' });
    });

    it('rejects a token on its first use after revocation (nothing cached)', async function () {
      const token = await harness.token(tokenUser);
      assert.equal((await harness.call('GET', '/v1/list_topics', { subject: tokenUser.sub, token })).body.status, 'success');
      await harness.revokeToken(tokenUser, token);
      const answer = await harness.call('GET', '/v1/list_topics', { subject: tokenUser.sub, token });
      assert.deepEqual(answer.body, { status: 'error', reason: 'Token is inactive.' });
    });

    it('rejects another identity\'s token, a token for another audience, and a token without the action scope', async function () {
      const mine = await harness.token(tokenUser);
      const stolen = await harness.call('GET', '/v1/list_topics', { subject: spare.sub, token: mine });
      assert.deepEqual(stolen.body, { status: 'error', reason: 'Token does not belong to the user.' });

      const openid = await harness.token(tokenUser, 'openid');
      const audience = await harness.call('GET', '/api/v3/namespace', { subject: tokenUser.sub, token: openid });
      assert.deepEqual(audience.body, {
        status: 'error',
        reason: `Not in the audience set. introspected = ['auth.globus.org'] server_client_id = ${DIASPORA_RESOURCE_SERVER}`,
      });

      const otherScope = await harness.token(tokenUser, `https://auth.globus.org/scopes/${DIASPORA_RESOURCE_SERVER}/view_only`);
      const scope = await harness.call('GET', '/api/v3/namespace', { subject: tokenUser.sub, token: otherScope });
      assert.deepEqual(scope.body, { status: 'error', reason: 'Token lacks the scope for action.' });
    });

    it('checks subject and header format before asking Globus Auth', async function () {
      const token = await harness.token(tokenUser);
      const notUuid = await harness.call('GET', '/v1/list_topics', { subject: 'alice', token });
      assert.deepEqual(notUuid.body, { status: 'error', reason: 'Invalid user ID; expected UUID.' });
      const noBearer = await harness.call('GET', '/v1/list_topics', { subject: tokenUser.sub, headers: { Authorization: token } });
      assert.deepEqual(noBearer.body, { status: 'error', reason: 'Auth token must start with "Bearer ".' });
      const short = await harness.call('GET', '/v1/list_topics', { subject: tokenUser.sub, token: 'abc' });
      assert.deepEqual(short.body, { status: 'error', reason: 'Invalid token format.' });
    });

    it('answers missing headers as FastAPI does: v1 HTTP 400, v3 HTTP 422', async function () {
      const token = await harness.token(tokenUser);
      const noSubject = await harness.call('POST', '/v1/create_key', { token });
      assert.equal(noSubject.status, 400);
      assert.deepEqual(noSubject.body, { detail: 'Subject must be provided either in header or body' });
      const noTopic = await harness.call('POST', '/v1/register_topic', { subject: tokenUser.sub, token });
      assert.deepEqual([noTopic.status, noTopic.body], [400, { detail: 'Topic must be provided either in header or body' }]);
      const noAuth = await harness.call('GET', '/v1/list_topics', { subject: tokenUser.sub });
      assert.deepEqual([noAuth.status, noAuth.body], [400, { detail: 'Authorization must be provided either in header or body' }]);

      const v3 = await harness.call('POST', '/api/v3/user', {});
      assert.equal(v3.status, 422);
      assert.deepEqual(v3.body, {
        detail: [
          { type: 'missing', loc: ['header', 'subject'], msg: 'Field required', input: null },
          { type: 'missing', loc: ['header', 'authorization'], msg: 'Field required', input: null },
        ],
      });
      const unknown = await harness.call('GET', '/api/v4/anything');
      assert.deepEqual([unknown.status, unknown.body], [404, { detail: 'Not Found' }]);
      const wrongMethod = await harness.call('GET', '/v1/create_key');
      assert.deepEqual([wrongMethod.status, wrongMethod.body], [405, { detail: 'Method Not Allowed' }]);
    });
  });

  describe('v1 keys become SCRAM-SHA-512 credentials after the propagation delay', function () {
    let firstSecret: string;

    it('create_key answers the seed era\'s fields, and the key only works after the delay', async function () {
      const before = await harness.control('GET', '/_fabric/stats');
      const started = Date.now();
      const answer = await harness.callAs(keyUser, 'POST', '/v1/create_key');
      assert.equal(answer.body.status, 'success');
      assert.equal(answer.body.username, keyUser.sub);
      assert.match(answer.body.access_key, /^AKIA[A-Z2-7]{16}$/);
      assert.match(answer.body.secret_key, /^[A-Za-z0-9+/]{40}$/);
      assert.equal(answer.body.endpoint, harness.brokers.join(','));
      firstSecret = answer.body.secret_key;

      assert.equal(await canLogIn(harness.userKafka(keyUser.sub, firstSecret)), false, 'the new key worked before the propagation delay');
      assert.ok(Date.now() - started < KEY_DELAY_MS, 'the early login attempt came too late to prove anything');
      await waitForLogin(() => harness.userKafka(keyUser.sub, firstSecret), 15_000);
      assert.ok(Date.now() - started >= KEY_DELAY_MS, 'the key worked before the propagation delay passed');

      const after = await harness.control('GET', '/_fabric/stats');
      assert.equal(after.body.createKeyCalls[keyUser.sub], 1);
      assert.equal(after.body.keyCreations, before.body.keyCreations + 1);
    });

    it('a second create_key rotates: the old secret is refused at once, the new one works after the delay', async function () {
      const answer = await harness.callAs(keyUser, 'POST', '/v1/create_key');
      const secondSecret: string = answer.body.secret_key;
      assert.notEqual(secondSecret, firstSecret);
      assert.equal(await canLogIn(harness.userKafka(keyUser.sub, firstSecret)), false, 'the rotated secret still logs in');
      assert.equal(await canLogIn(harness.userKafka(keyUser.sub, secondSecret)), false);
      await waitForLogin(() => harness.userKafka(keyUser.sub, secondSecret), 15_000);
      assert.equal(await canLogIn(harness.userKafka(keyUser.sub, firstSecret)), false, 'the rotated secret came back');
      assert.equal((await harness.control('GET', '/_fabric/stats')).body.createKeyCalls[keyUser.sub], 2);
    });
  });

  describe('v1 topics: first registrant owns, enforced by broker ACLs', function () {
    const topic = v1Topics[0];
    const secrets: Record<string, string> = {};
    const kafkaOf = (client: { sub: string }) => harness.userKafka(client.sub, secrets[client.sub]);

    before(async function () {
      for (const client of [owner, other]) secrets[client.sub] = (await harness.callAs(client, 'POST', '/v1/create_key')).body.secret_key;
      for (const client of [owner, other]) await waitForLogin(() => kafkaOf(client), 15_000);
    });

    it('registers a topic (success, then no-op) and lists it', async function () {
      const first = await harness.callAs(owner, 'POST', '/v1/register_topic', { Topic: topic });
      assert.deepEqual(first.body, { status: 'success', message: `Access granted to principal ${owner.sub}.` });
      const again = await harness.callAs(owner, 'POST', '/v1/register_topic', { Topic: topic });
      assert.deepEqual(again.body, { status: 'no-op', message: `Principal ${owner.sub} already has access.` });
      const listed = await harness.callAs(owner, 'GET', '/v1/list_topics');
      assert.deepEqual(listed.body, { status: 'success', topics: [topic] });
    });

    it('gives the v1 error answer when another user registers the topic', async function () {
      const answer = await harness.callAs(other, 'POST', '/v1/register_topic', { Topic: topic });
      assert.deepEqual(answer.body, { status: 'error', message: 'Topic already has ACLs.' });
      assert.deepEqual((await harness.callAs(other, 'GET', '/v1/list_topics')).body.topics, []);
    });

    it('refuses invalid v1 topic names with the real reason', async function () {
      const answer = await harness.callAs(owner, 'POST', '/v1/register_topic', { Topic: '_hidden' });
      assert.deepEqual(answer.body, {
        status: 'error',
        reason:
          'Invalid topic name. Must be 3-64 characters, including letters, digits, underscores, and hyphens, ' +
          'and must not start with a hyphen or underscore.',
      });
    });

    it('lets the owner produce and consume, and refuses the other user (TOPIC_AUTHORIZATION_FAILED)', async function () {
      const value = `hello-${tag}`;
      assert.equal(await produce(kafkaOf(owner), topic, value), 'ok');
      assert.equal(await consume(kafkaOf(owner), topic, value, `${tag}-owner`), 'ok');
      assert.equal(await produce(kafkaOf(other), topic, 'intruder'), 'TOPIC_AUTHORIZATION_FAILED');
      assert.equal(await consume(kafkaOf(other), topic, value, `${tag}-other`), 'TOPIC_AUTHORIZATION_FAILED');
    });

    it('takes Topic from a JSON body too', async function () {
      const token = await harness.token(owner);
      const answer = await harness.call('POST', '/v1/register_topic', { subject: owner.sub, token, json: { topic: v1Topics[1] } });
      assert.deepEqual(answer.body, { status: 'success', message: `Access granted to principal ${owner.sub}.` });
      assert.deepEqual((await harness.callAs(owner, 'GET', '/v1/list_topics')).body.topics, [...v1Topics].sort());
    });

    it('unregister removes access but keeps the topic; the next registrant then owns it', async function () {
      const removed = await harness.callAs(owner, 'POST', '/v1/unregister_topic', { Topic: topic });
      assert.deepEqual(removed.body, { status: 'success', message: `Access removed from principal ${owner.sub}.` });
      const again = await harness.callAs(owner, 'POST', '/v1/unregister_topic', { Topic: topic });
      assert.deepEqual(again.body, { status: 'no-op', message: `Principal ${owner.sub} has no access.` });
      assert.equal(await harness.kafkaAdmin.topicExists(topic), true);
      assert.equal(await produce(kafkaOf(owner), topic, 'after unregister'), 'TOPIC_AUTHORIZATION_FAILED');

      const taken = await harness.callAs(other, 'POST', '/v1/register_topic', { Topic: topic });
      assert.equal(taken.body.status, 'success');
      assert.equal(await produce(kafkaOf(other), topic, 'new owner'), 'ok');
    });
  });

  describe('v3: users, idempotent keys, namespaces and topics', function () {
    const ns = () => defaultNamespace(v3User.sub);
    const topic = `${tag}-t1`;
    let secret: string;

    it('creates the user with its default namespace, idempotently', async function () {
      for (let i = 0; i < 2; i += 1) {
        const answer = await harness.callAs(v3User, 'POST', '/api/v3/user');
        assert.deepEqual(answer.body, {
          status: 'success',
          message: `User ${v3User.sub} created with namespace ${ns()}`,
          subject: v3User.sub,
          namespace: ns(),
        });
      }
    });

    it('POST /key is idempotent: fresh true, then the same key with fresh false', async function () {
      const first = await harness.callAs(v3User, 'POST', '/api/v3/key');
      assert.equal(first.body.status, 'success');
      assert.equal(first.body.message, `Access key created for ${v3User.sub}`);
      assert.equal(first.body.fresh, true);
      assert.match(first.body.create_date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
      assert.equal(first.body.endpoint, harness.brokers.join(','));
      const second = await harness.callAs(v3User, 'POST', '/api/v3/key');
      assert.equal(second.body.fresh, false);
      assert.equal(second.body.message, `Access key already exists for ${v3User.sub}`);
      assert.deepEqual(
        [second.body.access_key, second.body.secret_key, second.body.create_date],
        [first.body.access_key, first.body.secret_key, first.body.create_date],
      );
      secret = first.body.secret_key;
      const stats = await harness.control('GET', '/_fabric/stats');
      assert.equal(stats.body.keyCreationsBySubject[v3User.sub], 1);
      assert.equal(stats.body.createKeyCalls[v3User.sub], 2);
    });

    it('refuses topic names outside the rules with the documented messages', async function () {
      const cases: Array<[string, string]> = [
        ['ab', 'Name must be between 3 and 32 characters'],
        ['x'.repeat(33), 'Name must be between 3 and 32 characters'],
        ['bad.name', 'Name can only contain letters, numbers, dash, and underscore'],
        ['-lead', 'Name cannot start or end with hyphen or underscore'],
        ['trail_', 'Name cannot start or end with hyphen or underscore'],
      ];
      for (const [name, message] of cases) {
        const answer = await harness.callAs(v3User, 'POST', `/api/v3/${ns()}/${encodeURIComponent(name)}`);
        assert.equal(answer.status, 200);
        assert.deepEqual(answer.body, { status: 'failure', message }, name);
      }
      const foreign = await harness.callAs(other, 'POST', `/api/v3/${ns()}/${topic}`);
      assert.deepEqual(foreign.body, { status: 'failure', message: `Namespace ${ns()} not found for ${other.sub}` });
    });

    it('creates a topic in the namespace, lists it, and only its owner can use "<ns>.<topic>"', async function () {
      const created = await harness.callAs(v3User, 'POST', `/api/v3/${ns()}/${topic}`);
      assert.deepEqual(created.body, { status: 'success', message: `Topic ${topic} created in ${ns()}`, topics: [topic] });
      const again = await harness.callAs(v3User, 'POST', `/api/v3/${ns()}/${topic}`);
      assert.deepEqual(again.body, { status: 'success', message: `Topic ${topic} already exists in ${ns()}`, topics: [topic] });
      const listed = await harness.callAs(v3User, 'GET', '/api/v3/namespace');
      assert.deepEqual(listed.body, { status: 'success', message: `Found 1 namespaces for ${v3User.sub}`, namespaces: { [ns()]: [topic] } });

      await waitForLogin(() => harness.userKafka(v3User.sub, secret), 15_000);
      const kafkaTopic = `${ns()}.${topic}`;
      assert.equal(await produce(harness.userKafka(v3User.sub, secret), kafkaTopic, `v3-${tag}`), 'ok');
      assert.equal(await consume(harness.userKafka(v3User.sub, secret), kafkaTopic, `v3-${tag}`, `${ns()}.reader`), 'ok');
      const otherSecret = (await harness.callAs(other, 'POST', '/api/v3/key')).body.secret_key as string;
      assert.equal(otherSecret.length, 40);
      await waitForLogin(() => harness.userKafka(other.sub, otherSecret), 15_000);
      assert.equal(await produce(harness.userKafka(other.sub, otherSecret), kafkaTopic, 'intruder'), 'TOPIC_AUTHORIZATION_FAILED');
    });

    it('recreates a topic after the configured pause', async function () {
      const missing = await harness.callAs(v3User, 'PUT', `/api/v3/${ns()}/nope-${tag}/recreate`);
      assert.deepEqual(missing.body, { status: 'failure', message: `Topic nope-${tag} not found in ${ns()}` });
      const started = Date.now();
      const answer = await harness.callAs(v3User, 'PUT', `/api/v3/${ns()}/${topic}/recreate`);
      assert.deepEqual(answer.body, { status: 'success', message: 'Topic recreated' });
      assert.ok(Date.now() - started >= 300);
      assert.equal(await harness.kafkaAdmin.topicExists(`${ns()}.${topic}`), true);
    });

    it('a v1 create_key replaces the v3 key (one key per subject)', async function () {
      const v1 = await harness.callAs(v3User, 'POST', '/v1/create_key');
      const v3 = await harness.callAs(v3User, 'POST', '/api/v3/key');
      assert.equal(v3.body.fresh, false);
      assert.equal(v3.body.secret_key, v1.body.secret_key);
      secret = v1.body.secret_key;
    });

    it('DELETE /key revokes the key at once; the next POST /key is fresh', async function () {
      const deleted = await harness.callAs(v3User, 'DELETE', '/api/v3/key');
      assert.deepEqual(deleted.body, { status: 'success', message: `Access key deleted for ${v3User.sub}` });
      const next = await harness.callAs(v3User, 'POST', '/api/v3/key');
      assert.equal(next.body.fresh, true);
      assert.notEqual(next.body.secret_key, secret);
      assert.equal(await canLogIn(harness.userKafka(v3User.sub, secret)), false);
      secret = next.body.secret_key;
    });

    it('deletes topics idempotently', async function () {
      const deleted = await harness.callAs(v3User, 'DELETE', `/api/v3/${ns()}/${topic}`);
      assert.deepEqual(deleted.body, { status: 'success', message: `Topic ${topic} deleted from ${ns()}`, topics: [] });
      const again = await harness.callAs(v3User, 'DELETE', `/api/v3/${ns()}/${topic}`);
      assert.deepEqual(again.body, { status: 'success', message: `Topic ${topic} not found in ${ns()}`, topics: [] });
      assert.equal(await harness.kafkaAdmin.topicExists(`${ns()}.${topic}`), false);
    });

    it('keeps namespaces globally unique and guards the deletion of a user with extra namespaces', async function () {
      await harness.callAs(guardUser, 'POST', '/api/v3/user');
      const taken = await harness.control('POST', '/_fabric/namespaces', { subject: guardUser.sub, namespace: ns() });
      assert.deepEqual(taken.body, { status: 'failure', message: `Namespace already taken: ${ns()}` });
      const extra = await harness.control('POST', '/_fabric/namespaces', { subject: guardUser.sub, namespace: `${tag}-extra` });
      assert.equal(extra.body.status, 'success');
      const refused = await harness.callAs(guardUser, 'DELETE', '/api/v3/user');
      assert.deepEqual(refused.body, {
        status: 'failure',
        message: `Cannot delete user ${guardUser.sub}: user has 1 additional namespace(s). Delete namespaces first.`,
      });
    });

    it('DELETE /user removes the namespace and the key', async function () {
      const answer = await harness.callAs(v3User, 'DELETE', '/api/v3/user');
      assert.deepEqual(answer.body, { status: 'success', message: `User ${v3User.sub} deleted` });
      const listed = await harness.callAs(v3User, 'GET', '/api/v3/namespace');
      assert.equal(listed.body.message, `Found 0 namespaces for ${v3User.sub}`);
      assert.equal(await canLogIn(harness.userKafka(v3User.sub, secret)), false);
    });
  });

  describe('control routes (/_fabric, HTTP Basic admin)', function () {
    afterEach(() => harness.control('POST', '/_fabric/fail', { mode: 'none' }));

    it('refuses callers without the admin password', async function () {
      const answer = await harness.control('GET', '/_fabric/stats', undefined, 'wrong');
      assert.equal(answer.status, 401);
      const health = await harness.call('GET', '/_fabric/health');
      assert.deepEqual([health.status, health.body], [200, { status: 'ok' }]);
    });

    it('changes the key propagation delay and rejects bad settings', async function () {
      const changed = await harness.control('POST', '/_fabric/config', { keyPropagationDelayMs: 0 });
      assert.equal(changed.body.keyPropagationDelayMs, 0);
      try {
        const answer = await harness.callAs(spare, 'POST', '/v1/create_key');
        // With no delay the key works as soon as create_key has answered.
        assert.equal(await canLogIn(harness.userKafka(spare.sub, answer.body.secret_key)), true);
      } finally {
        await harness.control('POST', '/_fabric/config', { keyPropagationDelayMs: KEY_DELAY_MS });
      }
      const bad = await harness.control('POST', '/_fabric/config', { keyPropagationDelayMs: -1 });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error, /keyPropagationDelayMs must be an integer/);
    });

    it('makes API routes answer HTML, a 500, or slowly, and then recovers', async function () {
      await harness.control('POST', '/_fabric/fail', { mode: 'html' });
      const html = await harness.callAs(tokenUser, 'GET', '/v1/list_topics');
      assert.equal(html.status, 200);
      assert.match(html.contentType, /text\/html/);
      assert.match(html.text, /<html>/);

      await harness.control('POST', '/_fabric/fail', { mode: '500' });
      const broken = await harness.callAs(tokenUser, 'GET', '/api/v3/namespace');
      assert.deepEqual([broken.status, broken.text], [500, 'Internal Server Error']);
      assert.equal((await harness.control('GET', '/_fabric/stats')).status, 200, 'control routes must keep working');

      await harness.control('POST', '/_fabric/fail', { mode: 'slow', delayMs: 800 });
      const token = await harness.token(tokenUser);
      const started = Date.now();
      const slow = await harness.call('GET', '/v1/list_topics', { subject: tokenUser.sub, token });
      assert.ok(Date.now() - started >= 800);
      assert.equal(slow.body.status, 'success');

      await harness.control('POST', '/_fabric/fail', { mode: 'none' });
      assert.equal((await harness.callAs(tokenUser, 'GET', '/v1/list_topics')).body.status, 'success');
      const bad = await harness.control('POST', '/_fabric/fail', { mode: 'explode' });
      assert.equal(bad.status, 400);
    });
  });

  describe('state survives a restart', function () {
    it('keeps keys and topics, and restores a credential the broker lost', async function () {
      const before = await harness.callAs(owner, 'POST', '/api/v3/key');
      assert.equal(before.body.fresh, false, 'owner should still hold its v1 key');
      await harness.service.close();
      // The broker loses the credential while the service is down (as when its data is wiped).
      await harness.kafkaAdmin.deleteScramUser(owner.sub);
      await harness.startService();

      const after = await harness.callAs(owner, 'POST', '/api/v3/key');
      assert.equal(after.body.fresh, false);
      assert.equal(after.body.secret_key, before.body.secret_key);
      assert.equal(await canLogIn(harness.userKafka(owner.sub, after.body.secret_key)), true);
      assert.deepEqual((await harness.callAs(owner, 'GET', '/v1/list_topics')).body.topics, [v1Topics[1]]);
      assert.deepEqual((await harness.callAs(other, 'GET', '/v1/list_topics')).body.topics, [v1Topics[0]]);
      assert.deepEqual(harness.logLines, []);
    });
  });

  describe('failure handling of a separate instance', function () {
    /** A loopback port on which nothing listens any more. */
    async function closedPort(): Promise<number> {
      const server = http.createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      return port;
    }

    it('answers a plain 500 when Globus Auth is unreachable, logging why but not the token', async function () {
      const lines: string[] = [];
      const service = await startServiceEmulator({
        port: 0,
        authUrl: `http://127.0.0.1:${await closedPort()}`,
        resourceServer: { clientId: DIASPORA_RESOURCE_SERVER, clientSecret: harness.resourceSecret },
        kafka: harness.kafkaAdmin,
        endpoint: harness.brokers.join(','),
        keyPropagationDelayMs: 0,
        adminPassword: harness.adminPassword,
        log: (line) => lines.push(line),
      });
      try {
        const token = crypto.randomBytes(24).toString('hex');
        const response = await fetch(`${service.url}/v1/list_topics`, { headers: { Subject: spare.sub, Authorization: `Bearer ${token}` } });
        assert.equal(response.status, 500);
        assert.equal(await response.text(), 'Internal Server Error');
        assert.equal(lines.length, 1);
        assert.match(lines[0], /Token introspection at .* failed/);
        assert.ok(!lines[0].includes(token));
      } finally {
        await service.close();
      }
    });

    it('close() cuts a slow request short instead of waiting for it', async function () {
      const service = await startServiceEmulator(harness.separateServiceOptions());
      const basic = `Basic ${Buffer.from(`admin:${harness.adminPassword}`).toString('base64')}`;
      const set = await fetch(`${service.url}/_fabric/fail`, {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/json' },
        body: JSON.stringify({ mode: 'slow', delayMs: 60_000 }),
      });
      assert.equal(set.status, 200);
      const pending = fetch(`${service.url}/v1/list_topics`).then(
        (response) => response.status,
        () => 'connection closed',
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      const started = Date.now();
      await service.close();
      // Far below the 60 s the answer would take (room for a loaded machine).
      assert.ok(Date.now() - started < 15_000, `close took ${Date.now() - started} ms`);
      assert.equal(await pending, 'connection closed');
    });
  });
});

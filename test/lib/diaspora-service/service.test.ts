import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { driveNativeLogin } from '../../../fabric/auth/drive-login';
import { createFabricKafkaAdmin } from '../../../fabric/kafka-admin';
import type { FabricKafkaAdmin } from '../../../fabric/kafka-admin-api';
import { startServiceEmulator, type RunningServiceEmulator } from '../../../fabric/service-emulator';
import { GlobusAuth, diasporaToken, type TokenBundle } from '../../../lib/globus/auth';
import { DIASPORA_RESOURCE_SERVER } from '../../../lib/globus/constants';
import {
  DiasporaServiceError,
  createDiasporaService,
  kafkaTopicName,
  namespaceForSubject,
  type DiasporaApi,
  type DiasporaService,
} from '../../../lib/diaspora-service/service';
import { NATIVE_CLIENT_ID, brokerTarget, closedPortUrl, startTestAuth, startTinyServer, type RunningAuth } from '../local-servers';

/** Topics created here start with "h3a"; the broker may be shared with other tests. */
const BROKER = brokerTarget();
const ENDPOINT = BROKER.brokers.join(',');

interface Identity {
  sub: string;
  token: () => Promise<string>;
  /** Every token this identity handed out, to check that none leaks into an error message. */
  issued: Set<string>;
}

function isServiceError(kind: DiasporaServiceError['kind'], secrets: Iterable<string>, pattern?: RegExp): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof DiasporaServiceError, `expected a DiasporaServiceError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    if (pattern) assert.match(err.message, pattern);
    for (const secret of secrets) assert.ok(!err.message.includes(secret), 'no token or key in the message');
    return true;
  };
}

const uniqueTopic = (): string => `h3a-${crypto.randomBytes(4).toString('hex')}`;

describe('lib/diaspora-service against the service emulator, the auth emulator and the real broker', function () {
  let auth: RunningAuth;
  let kafka: FabricKafkaAdmin;
  let service: RunningServiceEmulator;
  let user: Identity;
  let machine: Identity;
  const v1Topics = new Set<string>();

  async function identityFrom(globus: GlobusAuth, first: TokenBundle): Promise<Identity> {
    let bundle = first;
    const issued = new Set<string>([diasporaToken(bundle).accessToken]);
    return {
      sub: bundle.sub as string,
      issued,
      token: async () => {
        bundle = await globus.ensureFresh(bundle);
        const token = diasporaToken(bundle).accessToken;
        issued.add(token);
        return token;
      },
    };
  }

  before(async () => {
    auth = await startTestAuth();
    kafka = await createFabricKafkaAdmin({ brokers: BROKER.brokers, ...BROKER.admin });
    service = await startServiceEmulator({
      port: 0,
      authUrl: auth.url,
      resourceServer: { clientId: DIASPORA_RESOURCE_SERVER, clientSecret: auth.identities.resourceServerSecret },
      kafka,
      endpoint: ENDPOINT,
      keyPropagationDelayMs: 0,
      adminPassword: auth.identities.adminPassword,
      log: () => undefined,
    });

    const alice = auth.identities.users[0];
    const native = new GlobusAuth({ authUrl: auth.url, clientId: NATIVE_CLIENT_ID });
    const { authorizeUrl, pending } = await native.startSignIn();
    const code = await driveNativeLogin({ authorizeUrl, username: alice.username, password: alice.password });
    user = await identityFrom(native, await native.exchangeCode(code, pending));

    const client = auth.identities.clients[0];
    const confidential = new GlobusAuth({ authUrl: auth.url, clientId: client.clientId, clientSecret: client.clientSecret });
    machine = await identityFrom(confidential, await confidential.clientCredentials());
  });

  after(async () => {
    // Leave the shared broker as we found it: v3 users (their namespace topics and credentials)
    // through the service's own DELETE /api/v3/user, v1 topics and credentials through the admin.
    for (const who of [user, machine].filter(Boolean)) {
      await fetch(`${service.url}/api/v3/user`, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${await who.token()}`, Subject: who.sub },
      }).catch(() => undefined);
    }
    await service?.close();
    if (kafka) {
      for (const topic of v1Topics) await kafka.deleteTopic(topic).catch(() => undefined);
      for (const who of [user, machine].filter(Boolean)) await kafka.deleteScramUser(who.sub).catch(() => undefined);
      await kafka.close();
    }
    await auth?.close();
  });

  const serviceFor = (api: DiasporaApi, who: Identity, serviceUrl = service.url, timeoutMs?: number): DiasporaService =>
    createDiasporaService({ api, serviceUrl, subject: who.sub, accessToken: who.token, ...(timeoutMs ? { timeoutMs } : {}) });

  const allSecrets = (): string[] => [...user.issued, ...machine.issued];

  async function setFailMode(mode: 'none' | 'html' | '500' | 'slow', extra: Record<string, number> = {}): Promise<void> {
    const response = await fetch(`${service.url}/_fabric/fail`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`admin:${auth.identities.adminPassword}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ mode, ...extra }),
    });
    assert.equal(response.status, 200, await response.text());
  }

  describe('API v1 (the seed)', () => {
    it('create_key returns a key for the local broker, and every call rotates it', async () => {
      const v1 = serviceFor('v1', user);
      assert.equal(v1.api, 'v1');
      const first = await v1.createKey();
      assert.ok(first.secretKey.length > 0);
      assert.equal(first.endpoint, ENDPOINT);
      assert.equal(first.fresh, true);
      assert.ok(!Number.isNaN(Date.parse(first.createdAt)));
      const second = await v1.rotateKey();
      assert.notEqual(second.secretKey, first.secretKey);
    });

    it('registers, lists and unregisters a topic (success, then no-op)', async () => {
      const v1 = serviceFor('v1', user);
      const topic = uniqueTopic();
      v1Topics.add(topic);
      assert.equal(v1.kafkaTopic(topic), topic, 'v1 topics are global names');

      const registered = await v1.registerTopic(topic);
      assert.equal(registered.status, 'success');
      assert.ok(registered.message.length > 0);
      assert.equal((await v1.registerTopic(topic)).status, 'no-op');
      assert.ok((await v1.listTopics()).includes(topic));
      assert.equal(await kafka.topicExists(topic), true, 'the topic exists on the broker');

      assert.equal((await v1.unregisterTopic(topic)).status, 'success');
      assert.equal((await v1.unregisterTopic(topic)).status, 'no-op');
      assert.ok(!(await v1.listTopics()).includes(topic));
    });

    it("refuses another identity's topic with the service's reason", async () => {
      const topic = uniqueTopic();
      v1Topics.add(topic);
      await serviceFor('v1', user).registerTopic(topic);
      await assert.rejects(serviceFor('v1', machine).registerTopic(topic), isServiceError('refused', allSecrets(), /Topic already has ACLs/));
      assert.ok(!(await serviceFor('v1', machine).listTopics()).includes(topic));
      await serviceFor('v1', user).unregisterTopic(topic);
    });

    it('refuses a topic name that cannot travel in a header before calling the service', async () => {
      const v1 = serviceFor('v1', user);
      await assert.rejects(v1.registerTopic('bad topic'), isServiceError('invalid', [], /spaces, control or non-ASCII/));
      await assert.rejects(v1.registerTopic('héllo'), isServiceError('invalid', []));
      await assert.rejects(v1.registerTopic(''), isServiceError('invalid', [], /No topic name/));
    });
  });

  describe('API v3 (production today)', () => {
    it('creates the user and key idempotently (fresh once), and rotates on demand', async () => {
      const v3 = serviceFor('v3', machine);
      assert.equal(v3.api, 'v3');
      const first = await v3.createKey();
      assert.equal(first.fresh, true);
      assert.ok(first.accessKey.length > 0 && first.secretKey.length > 0);
      assert.equal(first.endpoint, ENDPOINT);
      const again = await v3.createKey();
      assert.equal(again.fresh, false, 'POST /key is idempotent');
      assert.equal(again.secretKey, first.secretKey);
      assert.equal(again.createdAt, first.createdAt);
      const rotated = await v3.rotateKey();
      assert.equal(rotated.fresh, true);
      assert.notEqual(rotated.secretKey, first.secretKey);
    });

    it('registers, lists and unregisters topics in the namespace derived from the subject', async () => {
      const v3 = serviceFor('v3', user);
      await v3.createKey();
      const ns = namespaceForSubject(user.sub);
      assert.match(ns, /^ns-[0-9a-f]{12}$/);
      assert.equal(ns, `ns-${user.sub.replace(/-/g, '').slice(-12)}`);
      const topic = uniqueTopic();
      assert.equal(v3.kafkaTopic(topic), `${ns}.${topic}`);
      assert.equal(v3.kafkaTopic(`${ns}.${topic}`), `${ns}.${topic}`, 'a full Kafka name is kept');
      assert.equal(kafkaTopicName('v3', user.sub, topic), `${ns}.${topic}`);

      const created = await v3.registerTopic(topic);
      assert.equal(created.status, 'success');
      assert.ok(created.topics?.includes(topic), 'the answer lists the namespace topics by user-facing name');
      assert.equal(await kafka.topicExists(`${ns}.${topic}`), true);
      assert.equal((await v3.registerTopic(`${ns}.${topic}`)).status, 'success', 'the full name means the same topic');
      assert.ok((await v3.listTopics()).includes(topic));

      const deleted = await v3.unregisterTopic(topic);
      assert.equal(deleted.status, 'success');
      assert.ok(!deleted.topics?.includes(topic));
      assert.ok(!(await v3.listTopics()).includes(topic));
      assert.equal(await kafka.topicExists(`${ns}.${topic}`), false);
    });

    it("passes the service's name rules through as a refusal with its message", async () => {
      const v3 = serviceFor('v3', user);
      await v3.createKey();
      await assert.rejects(v3.registerTopic('ab'), isServiceError('refused', allSecrets(), /Name must be between 3 and 32 characters/));
      await assert.rejects(v3.registerTopic('-abc'), isServiceError('refused', allSecrets(), /cannot start or end with hyphen or underscore/));
    });

    it("refuses a topic in another identity's namespace", async () => {
      const theirs = `${namespaceForSubject(user.sub)}.${uniqueTopic()}`;
      const v3 = serviceFor('v3', machine);
      await v3.createKey();
      assert.equal(v3.kafkaTopic(theirs), `${namespaceForSubject(machine.sub)}.${theirs}`, 'never maps into their namespace');
      await assert.rejects(v3.registerTopic(theirs), isServiceError('refused', allSecrets(), /Name can only contain/));
    });
  });

  describe('failures', () => {
    for (const api of ['v1', 'v3'] as const) {
      it(`${api}: a token the service rejects is an auth error carrying the service's reason`, async () => {
        const forged = `Ag${crypto.randomBytes(30).toString('hex')}`;
        const bad = createDiasporaService({ api, serviceUrl: service.url, subject: user.sub, accessToken: async () => forged });
        await assert.rejects(bad.listTopics(), isServiceError('auth', [forged], /inactive|Token/));
        await assert.rejects(bad.createKey(), isServiceError('auth', [forged]));
      });

      it(`${api}: an unreachable service names the URL`, async () => {
        const url = await closedPortUrl();
        await assert.rejects(serviceFor(api, user, url).listTopics(), (err: unknown) => {
          isServiceError('unreachable', allSecrets(), /Could not reach the Diaspora service .*\(ECONNREFUSED\)/)(err);
          assert.ok((err as Error).message.includes(url));
          return true;
        });
      });

      it(`${api}: an HTML page, a 500 and a slow answer give clear errors`, async () => {
        // A generous timeout where an answer comes (a loaded machine can take a while), a short one
        // where it never does.
        const svc = serviceFor(api, user, service.url, 15_000);
        const impatient = serviceFor(api, user, service.url, 400);
        try {
          await setFailMode('html');
          await assert.rejects(svc.listTopics(), isServiceError('protocol', allSecrets(), /HTML page instead of JSON/));
          await setFailMode('html', { status: 502 });
          await assert.rejects(svc.listTopics(), isServiceError('unreachable', allSecrets(), /HTTP 502.*an HTML page/));
          await setFailMode('500');
          await assert.rejects(svc.createKey(), isServiceError('unreachable', allSecrets(), /HTTP 500/));
          await setFailMode('slow', { delayMs: 2000 });
          await assert.rejects(impatient.listTopics(), isServiceError('unreachable', allSecrets(), /did not answer within 0.4 s/));
        } finally {
          await setFailMode('none');
        }
      });
    }

    it('reports JSON that is not a Diaspora answer, and non-JSON text, as protocol errors', async () => {
      const tiny = await startTinyServer((req, res) => {
        if (req.url?.includes('list')) res.writeHead(200, { 'content-type': 'application/json' }).end('{"hello":"world"}');
        else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
      try {
        await assert.rejects(serviceFor('v1', user, tiny.url).listTopics(), isServiceError('protocol', allSecrets(), /without a "status" field/));
        await assert.rejects(serviceFor('v1', user, tiny.url).createKey(), isServiceError('protocol', allSecrets(), /not JSON/));
      } finally {
        await tiny.close();
      }
    });

    it('refuses bad settings before any call', () => {
      const base = { api: 'v3' as const, serviceUrl: 'https://example.org', subject: 'x', accessToken: async () => 't' };
      assert.throws(() => createDiasporaService({ ...base, serviceUrl: 'http://diaspora.example.org' }), /Refusing plain http/);
      assert.throws(() => createDiasporaService({ ...base, serviceUrl: 'nope' }), /not a valid URL/);
      assert.throws(() => createDiasporaService({ ...base, subject: '' }), /subject/);
      assert.throws(() => createDiasporaService({ ...base, api: 'v2' as DiasporaApi }), /Unknown Diaspora API version/);
      assert.throws(() => kafkaTopicName('v3', '', 'abc'), /sign in first/);
    });
  });
});

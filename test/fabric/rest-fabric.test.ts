/** The local fabric's own service (the emulators daemon) serves the REST data plane on its broker. */
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import type { FabricDescription } from '../../fabric/contract';
import { defaultNamespace } from '../../fabric/service/names';
import { DIASPORA_SCOPE } from '../../lib/globus/constants';
import { loadFabric } from '../fixtures/fabric';
import { fabricControl } from '../fixtures/fabric-control';
import { kcatConsumeAll } from '../fixtures/kcat';

describe('local fabric: the service daemon serves the REST data plane', function () {
  this.timeout(60_000);
  let fabric: FabricDescription;
  const topic = `rf-${crypto.randomBytes(3).toString('hex')}`;
  let headers: Record<string, string>;
  let namespace: string;

  before(async () => {
    fabric = loadFabric();
    const client = fabric.clients[0];
    const response = await fetch(`${fabric.authUrl}/v2/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: DIASPORA_SCOPE }).toString(),
    });
    const { access_token: token } = (await response.json()) as { access_token: string };
    headers = { Subject: client.sub, Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
    namespace = defaultNamespace(client.sub);
    await fetch(`${fabric.serviceUrl}/api/v3/user`, { method: 'POST', headers });
    const created = await fetch(`${fabric.serviceUrl}/api/v3/${namespace}/${topic}`, { method: 'POST', headers });
    assert.equal(((await created.json()) as { status: string }).status, 'success');
  });
  after(async () => {
    await fetch(`${fabric.serviceUrl}/api/v3/${namespace}/${topic}`, { method: 'DELETE', headers }).catch(() => undefined);
  });

  it('produces through the daemon with its broker login, and its control routes refuse and drop on demand', async function () {
    const control = fabricControl(fabric);
    const url = `${fabric.serviceUrl}/api/v3/${namespace}/topics/${topic}/records`;
    const body = JSON.stringify({ value: { type: 'JSON', data: { via: 'daemon' } } });
    const written = await fetch(url, { method: 'POST', headers, body });
    assert.equal(written.status, 200, await written.clone().text());
    const [record] = await kcatConsumeAll({ brokers: fabric.brokers, ...fabric.admin }, `${namespace}.${topic}`);
    assert.equal(record.payload, '{"via":"daemon"}');

    await control.refuseProduce({ status: 503, requests: 1 });
    assert.equal((await fetch(url, { method: 'POST', headers, body })).status, 503);
    assert.equal((await fetch(url, { method: 'POST', headers, body })).status, 200);

    const consumer = await fetch(`${fabric.serviceUrl}/api/v2/consumers/rf-group`, { method: 'POST', headers, body: '{}' });
    const { base_uri: base } = (await consumer.json()) as { base_uri: string };
    assert.equal(await control.dropConsumerInstances(), 1);
    const gone = await fetch(`${base}/subscription`, { headers });
    assert.equal(((await gone.json()) as { error_code: number }).error_code, 40403);
    const before = await control.setConsumerIdle(1_000);
    assert.equal(before, 300_000);
    await control.setConsumerIdle(before);
  });
});

import assert from 'node:assert/strict';
import { PRODUCTION_AUTH_URL, PRODUCTION_SERVICE_URL, SDK_NATIVE_CLIENT_ID } from '../../../../lib/globus/constants';
import { inertSettings, parseBrokers, readConfigDef } from '../../../../nodes/diaspora-config/settings';

describe('unit: diaspora-config settings', function () {
  it('reads an empty flow node as the Production preset', function () {
    assert.deepEqual(readConfigDef({}, 'cfg-1'), {
      api: 'v3',
      transport: 'kafka',
      serviceUrl: PRODUCTION_SERVICE_URL,
      authUrl: PRODUCTION_AUTH_URL,
      clientId: SDK_NATIVE_CLIENT_ID,
      authMode: 'user',
      brokers: [],
      kafkaAuth: 'msk-iam',
      tls: true,
      readyTimeoutMs: 300_000,
      label: 'cfg-1',
    });
  });

  it('reads the Local fabric settings, trimming text and the URLs\' trailing slashes', function () {
    const settings = readConfigDef(
      { name: ' lab ', api: 'v1', serviceUrl: 'http://127.0.0.1:19090/', authUrl: 'http://127.0.0.1:19091', brokers: '127.0.0.1:19092, [::1]:19093', kafkaAuth: 'scram-sha-512', tls: false, readyTimeout: '2.5', clientId: ' ' },
      'cfg-1',
    );
    assert.equal(settings.serviceUrl, 'http://127.0.0.1:19090');
    assert.deepEqual(settings.brokers, ['127.0.0.1:19092', '[::1]:19093']);
    assert.equal(settings.tls, false);
    assert.equal(settings.readyTimeoutMs, 2500);
    assert.equal(settings.clientId, SDK_NATIVE_CLIENT_ID, 'an empty client id is the SDK client');
    assert.equal(settings.label, 'lab');
  });

  it('takes tls as the text "true" too (hand-written flows)', function () {
    assert.equal(readConfigDef({ tls: 'true' }, 'c').tls, true);
    assert.equal(readConfigDef({ tls: 'false' }, 'c').tls, false);
  });

  it('refuses bad values naming the property and the value', function () {
    const refused: Array<[object, RegExp]> = [
      [{ api: 'v2' }, /api must be one of v1, v3, not "v2"/],
      [{ authMode: 'device' }, /authMode must be one of user, client/],
      [{ kafkaAuth: 'plain' }, /kafkaAuth must be one of scram-sha-512, msk-iam/],
      [{ serviceUrl: 'not a url' }, /serviceUrl is not a valid URL: "not a url"/],
      [{ authUrl: 'ftp://example.org' }, /authUrl must be an http\(s\) URL/],
      [{ brokers: 'kafka-without-port' }, /brokers must be host:port separated by commas; "kafka-without-port" is not/],
      [{ readyTimeout: -5 }, /readyTimeout must be a positive number of seconds, not "-5"/],
      [{ readyTimeout: 'soon' }, /readyTimeout must be a positive number/],
    ];
    for (const [def, message] of refused) assert.throws(() => readConfigDef(def, 'c'), message, JSON.stringify(def));
  });

  it('parses broker lists: empty is none, host:port and [v6]:port', function () {
    assert.deepEqual(parseBrokers(''), []);
    assert.deepEqual(parseBrokers(' a.example:9092 ,, b_2:1 '), ['a.example:9092', 'b_2:1']);
    assert.throws(() => parseBrokers('a:1, b'), /"b" is not/);
  });

  it('gives an unusable node inert settings that contact nothing outside this machine', function () {
    const inert = inertSettings('cfg-9');
    assert.deepEqual([inert.serviceUrl, inert.authUrl, inert.brokers, inert.label], ['http://127.0.0.1', 'http://127.0.0.1', [], 'cfg-9']);
  });

  it('takes the https transport with API v3 only', function () {
    assert.equal(readConfigDef({ transport: 'https' }, 'c').transport, 'https');
    assert.throws(() => readConfigDef({ transport: 'https', api: 'v1' }, 'c'), /the https transport needs API v3/);
    assert.throws(() => readConfigDef({ transport: 'mqtt' }, 'c'), /transport must be one of kafka, https, not "mqtt"/);
  });
});

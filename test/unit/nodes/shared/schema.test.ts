import assert from 'node:assert/strict';
import { CONFIG_CREDENTIALS, CONFIG_SCHEMA } from '../../../../nodes/diaspora-config/schema';
import { RUNTIME_FIELDS } from '../../../../nodes/diaspora-config/secret-file';
import { SDK_NATIVE_CLIENT_ID } from '../../../../lib/globus/constants';
import { IN_SCHEMA } from '../../../../nodes/diaspora-in/schema';
import { OUT_SCHEMA } from '../../../../nodes/diaspora-out/schema';
import { problemOf, valueOf } from '../../../../nodes/shared/schema';

describe('unit: property schema', function () {
  it('gives the default for a property the flow lacks or has as null, and the flow\'s value otherwise', function () {
    assert.equal(valueOf(OUT_SCHEMA, {}, 'queueSize'), 1000);
    assert.equal(valueOf(OUT_SCHEMA, { queueSize: null }, 'queueSize'), 1000);
    assert.equal(valueOf(OUT_SCHEMA, { queueSize: 0 }, 'queueSize'), 0);
    assert.throws(() => valueOf(OUT_SCHEMA, {}, 'nope'), /no property "nope"/);
  });

  it('names the allowed values of an option', function () {
    assert.deepEqual(problemOf(OUT_SCHEMA, 'mode', 'sync', {}), { code: 'invalid-option', params: { options: 'ack, fire' } });
    assert.equal(problemOf(OUT_SCHEMA, 'mode', 'fire', {}), undefined);
  });

  it('checks a property against the others: client credentials need a confidential client id', function () {
    assert.deepEqual(problemOf(CONFIG_SCHEMA, 'clientId', '', { authMode: 'client' }), { code: 'client-id-required' });
    assert.deepEqual(problemOf(CONFIG_SCHEMA, 'clientId', SDK_NATIVE_CLIENT_ID, { authMode: 'client' }), { code: 'native-client-in-client-mode' });
    assert.equal(problemOf(CONFIG_SCHEMA, 'clientId', '', { authMode: 'user' }), undefined);
  });

  it('names the first bad item of a list', function () {
    assert.deepEqual(problemOf(IN_SCHEMA, 'topics', 'ok, not ok', {}), { code: 'invalid-topic', params: { topic: 'not ok' } });
    assert.deepEqual(problemOf(IN_SCHEMA, 'topics', ' , ', {}), { code: 'no-topics' });
    assert.deepEqual(problemOf(CONFIG_SCHEMA, 'brokers', 'a:1, b', {}), { code: 'invalid-brokers', params: { broker: 'b' } });
  });

  it('keeps in the secret file exactly the credentials the runtime writes (those without a dialog field)', function () {
    const runtimeWritten = Object.entries(CONFIG_CREDENTIALS).filter(([, spec]) => !spec.userInput).map(([name]) => name);
    assert.deepEqual([...RUNTIME_FIELDS].sort(), runtimeWritten.sort());
  });
});

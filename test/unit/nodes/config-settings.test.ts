import { strict as assert } from 'node:assert';
import { readConfigDef } from '../../../nodes/diaspora-config/settings';

const BASE = { serviceUrl: 'https://svc.example', authUrl: 'https://auth.example' };

describe('diaspora-config settings: transport', function () {
  it('defaults to kafka, as before the property existed', function () {
    assert.equal(readConfigDef({ ...BASE }, 'n1').transport, 'kafka');
    assert.equal(readConfigDef({ ...BASE, transport: '' }, 'n1').transport, 'kafka');
  });

  it('takes https with API v3, and refuses it with v1 (no HTTPS data plane there)', function () {
    assert.equal(readConfigDef({ ...BASE, api: 'v3', transport: 'https' }, 'n1').transport, 'https');
    assert.throws(() => readConfigDef({ ...BASE, api: 'v1', transport: 'https' }, 'n1'), /the https transport needs API v3/);
  });

  it('refuses anything else, naming the choices', function () {
    assert.throws(() => readConfigDef({ ...BASE, transport: 'mqtt' }, 'n1'), /transport must be one of kafka, https, not "mqtt"/);
  });
});

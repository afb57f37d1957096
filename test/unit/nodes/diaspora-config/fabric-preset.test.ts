import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { localFabricFile, readFabricPreset } from '../../../../nodes/diaspora-config/fabric-preset';

describe('unit: the Local fabric preset', function () {
  let dir: string;
  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diaspora-preset-'));
  });
  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is found through DIASPORA_FABRIC_DIR, else in the package\'s .fabric folder', function () {
    assert.equal(localFabricFile({ DIASPORA_FABRIC_DIR: dir }), path.join(dir, 'fabric.json'));
    assert.match(localFabricFile({}), /[/\\]\.fabric[/\\]fabric\.json$/);
  });

  it('gives the editor the public half of fabric.json, never a password or client secret', function () {
    const file = path.join(dir, 'fabric.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        serviceUrl: 'http://127.0.0.1:1',
        authUrl: 'http://127.0.0.1:2',
        brokers: ['127.0.0.1:3'],
        clientId: 'native',
        users: [{ username: 'alice', password: 'pw-alice', sub: 's1' }],
        clients: [{ clientId: 'c1', clientSecret: 'cs-1', sub: 's2' }],
      }),
    );
    const preset = readFabricPreset(file);
    assert.deepEqual(preset, {
      serviceUrl: 'http://127.0.0.1:1',
      authUrl: 'http://127.0.0.1:2',
      brokers: ['127.0.0.1:3'],
      clientId: 'native',
      users: [{ username: 'alice' }],
      clients: [{ clientId: 'c1' }],
    });
    assert.doesNotMatch(JSON.stringify(preset), /pw-alice|cs-1/);
  });

  it('is absent when no fabric runs there', function () {
    assert.equal(readFabricPreset(path.join(dir, 'none.json')), undefined);
  });
});

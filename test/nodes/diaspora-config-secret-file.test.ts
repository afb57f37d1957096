import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mergeSecrets, openSecretFile } from '../../nodes/diaspora-config/secret-file';

describe('diaspora-config secret file (run-time secrets kept for the next restart)', function () {
  let userDir: string;
  const secrets = {
    clientSecret: 'client-secret-entered-in-the-editor',
    tokens: '{"tokens":{"rs":{"accessToken":"AccessToken0123456789abcdefghijklmnop"}}}',
    accessKey: 'AKIAEXAMPLE',
    secretKey: 'secret-key-0123456789',
    endpoint: '127.0.0.1:9092',
    keyCreatedAt: '2026-01-01T00:00:00.000Z',
  };

  beforeEach(function () {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'h7-secret-file-'));
  });

  afterEach(function () {
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('round-trips the run-time fields encrypted, never the editor-entered client secret', function () {
    const file = openSecretFile(userDir, 'abc.123', 'node-red-credential-secret');
    file.write(secrets);
    const text = fs.readFileSync(file.file, 'utf8');
    for (const value of Object.values(secrets)) assert.ok(!text.includes(value), `${value} is in the file in plain text`);
    assert.equal(fs.statSync(file.file).mode & 0o077, 0, 'the file is readable by others');
    const { clientSecret: _editorOnly, ...runtime } = secrets;
    assert.deepEqual(file.read(), runtime);
  });

  it('reads nothing with another credential secret, and nothing once removed', function () {
    openSecretFile(userDir, 'n1', 'first-secret').write(secrets);
    assert.equal(openSecretFile(userDir, 'n1', 'changed-secret').read(), undefined);
    const file = openSecretFile(userDir, 'n1', 'first-secret');
    file.remove();
    assert.equal(file.read(), undefined);
  });

  it('is plain JSON when Node-RED credential encryption is off (credentialSecret: false)', function () {
    const file = openSecretFile(userDir, 'n2', false);
    file.write(secrets);
    assert.ok(fs.readFileSync(file.file, 'utf8').includes(secrets.secretKey));
    assert.equal(file.read()?.secretKey, secrets.secretKey);
  });

  it('merges: run-time fields from the file (newest), editor fields from the node credentials', function () {
    const fromDeploy = { clientSecret: 'edited', ca: 'PEM', tokens: 'old-tokens', secretKey: 'old-key', accessKey: 'old' };
    const merged = mergeSecrets(fromDeploy, { tokens: 'new-tokens', secretKey: 'new-key', accessKey: 'new' });
    assert.deepEqual(merged, { clientSecret: 'edited', ca: 'PEM', tokens: 'new-tokens', secretKey: 'new-key', accessKey: 'new' });
    // A sign-out recorded in the file (no tokens, no key) wins over older deployed credentials.
    assert.deepEqual(mergeSecrets(fromDeploy, {}), { clientSecret: 'edited', ca: 'PEM' });
  });
});

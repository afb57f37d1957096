import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StateStore } from '../../../fabric/service/state-store';

describe('fabric/service/state-store', function () {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h2b-state-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('round-trips keys, namespaces and v1 owners through the file, readable by its owner only', function () {
    const file = path.join(dir, 'nested', 'service.json');
    const store = StateStore.open(file);
    store.setKey('s1', { accessKey: 'AKIA', secretKey: 'secret', createDate: 'd', activeAt: 1 });
    store.addNamespace('s1', 'ns-1');
    store.addTopic('ns-1', 'zeta');
    store.addTopic('ns-1', 'alpha');
    store.addV1Owner('t1', 's1');
    store.addV1Owner('t0', 's1');
    store.save();
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);

    const again = StateStore.open(file);
    assert.equal(again.key('s1')?.secretKey, 'secret');
    assert.deepEqual(again.namespacesOf('s1'), ['ns-1']);
    assert.equal(again.namespaceOwner('ns-1'), 's1');
    assert.deepEqual(again.topicsOf('ns-1'), ['alpha', 'zeta']);
    assert.deepEqual(again.v1TopicsOf('s1'), ['t0', 't1']);
  });

  it('forgets a v1 topic once its last owner unregisters', function () {
    const store = StateStore.open(undefined);
    store.addV1Owner('t', 'a');
    store.addV1Owner('t', 'b');
    store.removeV1Owner('t', 'a');
    assert.deepEqual(store.v1Owners('t'), ['b']);
    store.removeV1Owner('t', 'b');
    assert.deepEqual(store.state.v1Topics, {});
  });

  it('refuses a corrupt state file with a message that says what to do', function () {
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, '{not json');
    assert.throws(() => StateStore.open(file), /not valid JSON .*fix or delete it/);
    fs.writeFileSync(file, JSON.stringify({ version: 7 }));
    assert.throws(() => StateStore.open(file), /unknown format/);
  });
});

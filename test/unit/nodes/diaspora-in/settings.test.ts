import assert from 'node:assert/strict';
import { defaultGroupId, readInSettings, splitTopics } from '../../../../nodes/diaspora-in/settings';

describe('unit: diaspora-in settings', function () {
  it('reads a node without properties with the defaults', function () {
    assert.deepEqual(readInSettings({ fabric: 'c' }), { topics: [], start: 'latest', groupId: '', format: 'auto', commit: 'auto' });
  });

  it('splits topics in order, without empties or duplicates', function () {
    assert.deepEqual(splitTopics(' b, a,,b , c '), ['b', 'a', 'c']);
    assert.deepEqual(readInSettings({ fabric: 'c', topics: 'x,y', start: 'earliest', commit: 'manual', format: 'json' }), {
      topics: ['x', 'y'],
      start: 'earliest',
      groupId: '',
      format: 'json',
      commit: 'manual',
    });
  });

  it('refuses values outside the schema', function () {
    assert.throws(() => readInSettings({ fabric: 'c', start: 'beginning' }), /start must be one of earliest, latest, not "beginning"/);
    assert.throws(() => readInSettings({ fabric: 'c', format: 'xml' }), /format must be one of auto, json, string, buffer/);
    assert.throws(() => readInSettings({ fabric: 'c', commit: 'sometimes' }), /commit must be one of auto, manual/);
  });

  it('derives a stable, safe default group id per identity and node', function () {
    assert.equal(defaultGroupId('alice@example.org', 'n.1'), 'node-red-alice_example.org-n.1');
    assert.equal(defaultGroupId('', 'ab/c'), 'node-red-diaspora-ab_c');
  });
});

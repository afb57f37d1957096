import assert from 'node:assert/strict';
import { DEFAULT_WINDOW } from '../../../../lib/commits/window';
import { MAX_WINDOW } from '../../../../nodes/diaspora-in/schema';
import { defaultGroupId, readInSettings, readWindow, splitTopics } from '../../../../nodes/diaspora-in/settings';

describe('unit: diaspora-in settings', function () {
  it('reads a node without properties with the defaults', function () {
    assert.deepEqual(readInSettings({ fabric: 'c' }), { topics: [], start: 'latest', groupId: '', format: 'auto', commit: 'auto', window: DEFAULT_WINDOW });
  });

  it('splits topics in order, without empties or duplicates', function () {
    assert.deepEqual(splitTopics(' b, a,,b , c '), ['b', 'a', 'c']);
    assert.deepEqual(readInSettings({ fabric: 'c', topics: 'x,y', start: 'earliest', commit: 'manual', format: 'json' }), {
      topics: ['x', 'y'],
      start: 'earliest',
      groupId: '',
      format: 'json',
      commit: 'manual',
      window: DEFAULT_WINDOW,
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

describe('unit: diaspora-in settings: window', () => {
  it('empty or absent gives the default', () => {
    assert.equal(readWindow(undefined), DEFAULT_WINDOW);
    assert.equal(readWindow(''), DEFAULT_WINDOW);
    assert.equal(readWindow('  '), DEFAULT_WINDOW);
    assert.equal(readInSettings({ fabric: 'f' }).window, DEFAULT_WINDOW);
  });

  it('takes a whole number from 1 to the maximum, as text or number', () => {
    assert.equal(readWindow('1'), 1);
    assert.equal(readWindow(' 64 '), 64);
    assert.equal(readWindow(500), 500);
    assert.equal(readWindow(String(MAX_WINDOW)), MAX_WINDOW);
  });

  it('rejects anything else with a message naming the range', () => {
    for (const bad of ['0', '-5', '2.5', 'many', String(MAX_WINDOW + 1), '1e3']) {
      assert.throws(() => readWindow(bad), new RegExp(`window must be a whole number of events from 1 to ${MAX_WINDOW}, not "${bad.replace('.', '\\.')}"`));
    }
  });
});

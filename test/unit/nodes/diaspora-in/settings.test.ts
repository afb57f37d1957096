/** diaspora-in's properties as read at deploy time: the window. */
import assert from 'node:assert/strict';
import { DEFAULT_WINDOW } from '../../../../lib/commit-window';
import { MAX_WINDOW, readInSettings, readWindow } from '../../../../nodes/diaspora-in/settings';

describe('nodes/diaspora-in/settings: window', () => {
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

import assert from 'node:assert/strict';
import { readTopicSettings } from '../../../../nodes/diaspora-topic/settings';

describe('unit: diaspora-topic settings', function () {
  it('reads a node without properties as register, topic from msg.topic', function () {
    assert.deepEqual(readTopicSettings({}), { action: 'register', topic: '' });
  });

  it('trims and keeps an unknown action for the input-time error', function () {
    assert.deepEqual(readTopicSettings({ action: ' delete ', topic: ' t ' }), { action: 'delete', topic: 't' });
  });
});

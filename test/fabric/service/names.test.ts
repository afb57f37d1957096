import assert from 'node:assert/strict';
import {
  V1_INVALID_TOPIC_REASON,
  defaultNamespace,
  kafkaTopicName,
  namespacePrefix,
  v1TopicNameError,
  v3NameError,
} from '../../../fabric/service/names';

describe('fabric/service/names', function () {
  describe('v1 topic names (^[^\\W_\\-][\\w\\-]*$, 3–54 characters)', function () {
    for (const good of ['abc', 'topic-1', 'a_b-c', '9lives', 'x'.repeat(54)]) {
      it(`accepts ${JSON.stringify(good.length > 20 ? `${good.length} chars` : good)}`, function () {
        assert.equal(v1TopicNameError(good), undefined);
      });
    }
    for (const bad of ['ab', 'x'.repeat(55), '_abc', '-abc', 'a.b', 'a b', 'a/b', '', 'tópico', '__connection_test']) {
      it(`refuses ${JSON.stringify(bad.length > 20 ? `${bad.length} chars` : bad)} with the real service's reason`, function () {
        assert.equal(v1TopicNameError(bad), V1_INVALID_TOPIC_REASON);
      });
    }
    it('keeps the real message, which says 3-64 although the limit is 54', function () {
      assert.match(V1_INVALID_TOPIC_REASON, /^Invalid topic name\. Must be 3-64 characters/);
    });
  });

  describe('v3 names (3–32 of [A-Za-z0-9_-], no leading or trailing - or _)', function () {
    const cases: Array<[string, string | undefined]> = [
      ['abc', undefined],
      ['Topic_1-x', undefined],
      ['x'.repeat(32), undefined],
      ['ab', 'Name must be between 3 and 32 characters'],
      ['x'.repeat(33), 'Name must be between 3 and 32 characters'],
      ['a.b.c', 'Name can only contain letters, numbers, dash, and underscore'],
      ['a b c', 'Name can only contain letters, numbers, dash, and underscore'],
      ['-abc', 'Name cannot start or end with hyphen or underscore'],
      ['abc_', 'Name cannot start or end with hyphen or underscore'],
      // Length is checked first, then characters, as in the real service.
      ['-.', 'Name must be between 3 and 32 characters'],
      ['_a.', 'Name can only contain letters, numbers, dash, and underscore'],
    ];
    for (const [name, expected] of cases) {
      it(`${JSON.stringify(name.length > 20 ? `${name.length} chars` : name)} → ${expected ?? 'valid'}`, function () {
        assert.equal(v3NameError(name), expected);
      });
    }
  });

  it('derives the default namespace as the SDK does (last 12 hex digits without dashes)', function () {
    assert.equal(defaultNamespace('e2a8169b-0000-1111-2222-ab12747bee03'), 'ns-ab12747bee03');
    assert.equal(kafkaTopicName('ns-ab12747bee03', 'topic-b7f6c'), 'ns-ab12747bee03.topic-b7f6c');
    assert.equal(namespacePrefix('ns-ab12747bee03'), 'ns-ab12747bee03.');
  });
});

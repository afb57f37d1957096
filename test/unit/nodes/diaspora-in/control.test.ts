import assert from 'node:assert/strict';
import { ControlError, readControl } from '../../../../nodes/diaspora-in/control';

/** Returns the key and parameters, so the test sees which message was chosen. */
const t = (key: string, subs?: Record<string, string | number>): string => `${key}${subs ? ' ' + JSON.stringify(subs) : ''}`;

describe('unit: diaspora-in control messages', function () {
  it('reads pause and resume, in any case and with spaces', function () {
    assert.deepEqual(readControl({ action: ' Pause ' }, t), { action: 'pause' });
    assert.deepEqual(readControl({ action: 'resume' }, t), { action: 'resume' });
  });

  it('reads subscribe/unsubscribe with one topic or a list, trimmed and without duplicates', function () {
    assert.deepEqual(readControl({ action: 'subscribe', topic: ' a ' }, t), { action: 'subscribe', topics: ['a'] });
    assert.deepEqual(readControl({ action: 'unsubscribe', topic: ['a', 'b', 'a', ' '] }, t), { action: 'unsubscribe', topics: ['a', 'b'] });
  });

  it('reads commit with the msg.diaspora diaspora-in sent, the offset as text', function () {
    assert.deepEqual(readControl({ action: 'commit', diaspora: { topic: 't', partition: 0, offset: 41 } }, t), {
      action: 'commit',
      origin: { topic: 't', partition: 0, offset: '41' },
    });
  });

  it('refuses a missing or unknown action, and what an action lacks, with a ControlError', function () {
    const refused: Array<[object, RegExp]> = [
      [{}, /^errors\.no-action$/],
      [{ action: '' }, /^errors\.no-action$/],
      [{ action: 'explode' }, /^errors\.bad-action \{"action":"explode"\}$/],
      [{ action: { do: 'pause' } }, /^errors\.bad-action \{"action":"object"\}$/],
      [{ action: 'subscribe' }, /^errors\.no-action-topic \{"action":"subscribe"\}$/],
      [{ action: 'subscribe', topic: [' ', ''] }, /^errors\.no-action-topic/],
      [{ action: 'subscribe', topic: ['a', 3] }, /^errors\.no-action-topic/],
      [{ action: 'commit' }, /^errors\.commit-no-offset$/],
      [{ action: 'commit', diaspora: { topic: 't', partition: -1, offset: '1' } }, /^errors\.commit-no-offset$/],
      [{ action: 'commit', diaspora: { topic: 't', partition: 0, offset: 'last' } }, /^errors\.commit-no-offset$/],
      [{ action: 'commit', diaspora: { topic: '', partition: 0, offset: '1' } }, /^errors\.commit-no-offset$/],
    ];
    for (const [msg, message] of refused) {
      assert.throws(() => readControl(msg, t), (err: unknown) => err instanceof ControlError && message.test(err.message), JSON.stringify(msg));
    }
  });
});

import assert from 'node:assert/strict';
import { decodeSpooledEvent, encodeSpooledEvent } from '../../../../nodes/diaspora-out/spooled-event';
import type { OutgoingEvent } from '../../../../nodes/diaspora-out/record';

describe('diaspora-out: spooled events', function () {
  const cases: Array<[string, OutgoingEvent]> = [
    ['a bare event', { topic: 't', key: null, value: Buffer.from('{"a":1}') }],
    ['a null value (tombstone)', { topic: 'ns.topic', key: Buffer.from('k'), value: null }],
    [
      'key, headers (single and repeated), partition, timestamp',
      {
        topic: 'τόπος',
        key: Buffer.from([0, 255, 7]),
        value: Buffer.alloc(70_000, 3),
        headers: { single: Buffer.from('one'), repeated: [Buffer.from('a'), Buffer.alloc(0)], empty: [] },
        partition: 2,
        timestamp: 1_700_000_000_123,
      },
    ],
    ['partition 0 and timestamp 0', { topic: 't', key: null, value: Buffer.alloc(0), partition: 0, timestamp: 0 }],
  ];
  for (const [name, event] of cases) {
    it(`round-trips ${name}`, function () {
      assert.deepEqual(decodeSpooledEvent(encodeSpooledEvent(event)), event);
    });
  }

  it('a cut-short or foreign record is an error, not a wrong event', function () {
    const bytes = encodeSpooledEvent({ topic: 'topic', key: null, value: Buffer.from('value') });
    assert.throws(() => decodeSpooledEvent(bytes.subarray(0, bytes.length - 3)), /cut short/);
    const foreign = Buffer.from(bytes);
    foreign[0] = 9;
    assert.throws(() => decodeSpooledEvent(foreign), /version 9/);
  });
});

import assert from 'node:assert/strict';
import { formatRate, RateMeter } from '../../lib/rate-meter';

describe('RateMeter', function () {
  it('gives the events per second since the previous sample, and keeps the last samples', function () {
    let now = 10_000;
    const meter = new RateMeter(3, () => now);
    meter.mark(50);
    now += 500;
    assert.equal(meter.sample().rate, 100);
    for (let i = 0; i < 30; i++) meter.mark();
    now += 1_000;
    assert.equal(meter.sample().rate, 30);
    now += 1_000;
    assert.equal(meter.sample().rate, 0, 'nothing counted since the last sample');
    now += 1_000;
    meter.mark(7);
    meter.sample();
    assert.deepEqual(meter.history().map((s) => s.rate), [30, 0, 7], 'the oldest sample is dropped');
    assert.equal(meter.total, 87);
  });

  it('reports 0, not Infinity, when no time passed', function () {
    const meter = new RateMeter(10, () => 5);
    meter.mark(3);
    assert.equal(meter.sample().rate, 0);
  });
});

describe('formatRate', function () {
  for (const [rate, text] of [
    [0, '0'],
    [0.5, '0.5'],
    [1.4, '1'],
    [839.6, '840'],
    [9_999, '9999'],
    [12_345, '12.3k'],
    [123_456, '123k'],
    [-1, '0'],
    [Number.NaN, '0'],
  ] as const) {
    it(`${rate} → "${text}"`, function () {
      assert.equal(formatRate(rate), text);
    });
  }
});

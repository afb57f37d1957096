import assert from 'node:assert/strict';
import { lagOf, LagPoller, type PartitionOffsets } from '../../lib/kafka/consumer-lag';

const p = (partition: number, high: number, committed: number): PartitionOffsets => ({ topic: 't', partition, high, committed });

describe('lagOf', function () {
  it('sums high watermark minus committed offset over the partitions', function () {
    assert.equal(lagOf([p(0, 100, 88), p(1, 40, 40), p(2, 7, 0)]), 19);
  });

  it('counts a partition without a commit as 0 and never goes below 0', function () {
    assert.equal(lagOf([p(0, 100, -1), p(1, 5, 9)]), 0);
    assert.equal(lagOf([]), 0);
  });
});

describe('LagPoller', function () {
  it('reads at once and then every interval; one reading at a time; stale answers show as unknown', async function () {
    let now = 0;
    let reads = 0;
    let release: (() => void) | undefined;
    const poller = new LagPoller({
      intervalMs: 1_000,
      now: () => now,
      read: () => {
        reads++;
        return new Promise<PartitionOffsets[]>((resolve) => {
          release = () => resolve([p(0, 10 * reads, 0)]);
        });
      },
    });
    assert.equal(poller.lag, undefined, 'nothing read yet');
    poller.start();
    assert.equal(reads, 1, 'the first reading starts at once');
    await poller.poll();
    assert.equal(reads, 1, 'no second reading while the first is under way');
    release?.();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(poller.lag, 10);
    now += 2_001;
    assert.equal(poller.lag, undefined, 'a reading older than two intervals is not shown');
    const second = poller.poll();
    release?.();
    await second;
    assert.equal(poller.lag, 20);
    assert.deepEqual(poller.history().map((s) => s.lag), [10, 20]);
    poller.stop();
  });

  it('survives a reader that throws at once (the node it reads is not built yet)', async function () {
    const poller = new LagPoller({
      read: () => {
        throw new ReferenceError('not initialised');
      },
    });
    poller.start();
    await poller.poll();
    assert.equal(poller.lag, undefined);
    poller.stop();
  });

  it('shows nothing while there is nothing to read, and survives a failing read', async function () {
    let consuming = false;
    const poller = new LagPoller({ read: () => (consuming ? Promise.reject(new Error('broker down')) : undefined) });
    poller.start();
    await poller.poll();
    assert.equal(poller.lag, undefined);
    consuming = true;
    await poller.poll();
    assert.equal(poller.lag, undefined);
    poller.stop();
  });
});

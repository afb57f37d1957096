/** The per-partition window: in-order tickets, out-of-order finishes, the finished prefix, back-pressure. */
import assert from 'node:assert/strict';
import { CommitWindow } from '../../../../lib/commits/window';

/** Admits the offsets in order and returns their tickets. */
function admitAll(window: CommitWindow, offsets: string[]): number[] {
  return offsets.map((offset) => window.admit(offset));
}

describe('lib/commit-window', () => {
  it('moves the finished prefix only as far as the first unfinished event, whatever the finishing order', () => {
    const window = new CommitWindow(5);
    const [t0, t1, t2, t3] = admitAll(window, ['10', '11', '12', '13']);
    assert.equal(window.finish(t2), 0);
    assert.equal(window.finish(t3), 0);
    assert.equal(window.finishedThrough, undefined, 'nothing is committable while the first event is unfinished');
    assert.equal(window.inFlight, 4);
    assert.equal(window.finish(t0), 1);
    assert.equal(window.finishedThrough, '10');
    assert.equal(window.inFlight, 3);
    assert.equal(window.finish(t1), 3, 'the prefix jumps over the events finished earlier');
    assert.equal(window.finishedThrough, '13');
    assert.equal(window.inFlight, 0);
  });

  it('keeps offsets as Kafka gives them, gaps included (compacted topics, transaction markers)', () => {
    const window = new CommitWindow(3);
    const tickets = admitAll(window, ['7', '9', '9007199254740993']);
    for (const ticket of tickets) window.finish(ticket);
    assert.equal(window.finishedThrough, '9007199254740993', 'beyond JavaScript integers, unchanged');
  });

  it('is full at its capacity and refuses a further admit', () => {
    const window = new CommitWindow(2);
    admitAll(window, ['0', '1']);
    assert.equal(window.full, true);
    assert.throws(() => window.admit('2'), /window is full/);
  });

  it('space() waits while full and resolves true once the first event finishes', async () => {
    const window = new CommitWindow(2);
    const [t0, t1] = admitAll(window, ['0', '1']);
    let settled: boolean | undefined;
    const waiting = window.space(5_000).then((ok) => (settled = ok));
    await new Promise((resolve) => setImmediate(resolve));
    window.finish(t1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, undefined, 'a later event finishing first makes no room');
    window.finish(t0);
    assert.equal(await waiting, true);
    assert.equal(await window.space(5_000), true, 'at once when there is room');
  });

  it('a full window wakes its waiter once a quarter of it is free, not at every finish', async () => {
    const window = new CommitWindow(8);
    const tickets = admitAll(window, ['0', '1', '2', '3', '4', '5', '6', '7']);
    let settled = false;
    const waiting = window.space(5_000).then((ok) => {
      settled = ok;
      return ok;
    });
    window.finish(tickets[0]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, 'one free slot of eight');
    window.finish(tickets[1]);
    assert.equal(await waiting, true);
    assert.equal(window.inFlight, 6);
  });

  it('space() resolves false after its timeout while still full', async () => {
    const window = new CommitWindow(1);
    window.admit('0');
    assert.equal(await window.space(20), false);
  });

  it('close() freezes the prefix: later finishes are ignored and a waiting space() resolves false', async () => {
    const window = new CommitWindow(3);
    const [t0, t1] = admitAll(window, ['0', '1', '2']);
    window.finish(t0);
    window.admit('3');
    const waiting = window.space(5_000);
    window.close();
    assert.equal(await waiting, false);
    assert.equal(window.finish(t1), 0);
    assert.equal(window.finishedThrough, '0');
    assert.equal(window.closed, true);
    assert.equal(await window.space(5_000), false);
  });

  it('ignores a ticket finished twice or never handed out', () => {
    const window = new CommitWindow(2);
    const [t0] = admitAll(window, ['0']);
    assert.equal(window.finish(t0), 1);
    assert.equal(window.finish(t0), 0);
    assert.equal(window.finish(5), 0);
    assert.equal(window.finishedThrough, '0');
  });

  it('reuses its slots: many events through a small window keep order and count', () => {
    const window = new CommitWindow(3);
    const pending: number[] = [];
    for (let offset = 0; offset < 1000; offset += 1) {
      if (window.full) {
        // Finish the newest first, then the oldest: the prefix moves only with the oldest.
        window.finish(pending.pop() as number);
        window.finish(pending.shift() as number);
      }
      pending.push(window.admit(String(offset)));
    }
    for (const ticket of pending.reverse()) window.finish(ticket);
    assert.equal(window.finishedThrough, '999');
    assert.equal(window.inFlight, 0);
  });

  it('rejects a capacity that is not a whole number of at least 1', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => new CommitWindow(bad), RangeError);
  });
});

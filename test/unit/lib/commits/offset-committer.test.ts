/** Paced, coalesced commits of the finished prefixes, with a fake commit function. */
import assert from 'node:assert/strict';
import { OffsetCommitter, type CommitPacing, type CommitSource, type CommittedOffset } from '../../../../lib/commits/offset-committer';

class Source implements CommitSource {
  finishedThrough: string | undefined;
  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}
}

/** A commit function that records each request and resolves only when told to. */
function fakeBroker(): { requests: CommittedOffset[][]; answer(err?: Error): void; commit(offsets: CommittedOffset[]): Promise<void> } {
  const requests: CommittedOffset[][] = [];
  const answers: ((err?: Error) => void)[] = [];
  return {
    requests,
    answer(err) {
      const next = answers.shift();
      assert.ok(next, 'a commit request is waiting for an answer');
      next(err);
    },
    commit(offsets) {
      requests.push(offsets);
      return new Promise((resolve, reject) => answers.push((err) => (err ? reject(err) : resolve())));
    },
  };
}

const unexpected = (err: unknown): void => assert.fail(`unexpected commit failure: ${String(err)}`);
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Never by time within a test: only the event count or a flush sends a request. */
const byCount = (everyEvents: number): CommitPacing => ({ everyEvents, maxDelayMs: 60_000 });

describe('lib/offset-committer', () => {
  it('sends one request, with every advanced partition, once enough events have finished', async () => {
    const broker = fakeBroker();
    const committer = new OffsetCommitter(broker.commit, unexpected, byCount(3));
    const a = new Source('t', 0);
    const b = new Source('t', 1);
    a.finishedThrough = '4';
    committer.advanced(a);
    b.finishedThrough = '9';
    committer.advanced(b);
    assert.equal(broker.requests.length, 0, 'two finished events are fewer than the threshold');
    a.finishedThrough = '5';
    committer.advanced(a);
    assert.deepEqual(broker.requests, [
      [
        { topic: 't', partition: 0, offset: '6' },
        { topic: 't', partition: 1, offset: '10' },
      ],
    ]);
    broker.answer();
    await committer.flush();
  });

  it('commits a few finished events after the delay when no more come', async () => {
    const broker = fakeBroker();
    const committer = new OffsetCommitter(broker.commit, unexpected, { everyEvents: 100, maxDelayMs: 20 });
    const a = new Source('t', 0);
    a.finishedThrough = '0';
    committer.advanced(a);
    await turn();
    assert.equal(broker.requests.length, 0);
    await sleep(60);
    assert.deepEqual(broker.requests, [[{ topic: 't', partition: 0, offset: '1' }]]);
    broker.answer();
    await committer.flush();
  });

  it('keeps one request in flight; what finished meanwhile goes into the next, at its latest', async () => {
    const broker = fakeBroker();
    const committer = new OffsetCommitter(broker.commit, unexpected, byCount(1));
    const a = new Source('t', 0);
    a.finishedThrough = '0';
    committer.advanced(a);
    for (const through of ['1', '2', '3']) {
      a.finishedThrough = through;
      committer.advanced(a);
    }
    assert.equal(broker.requests.length, 1, 'no second request while the first is unanswered');
    broker.answer();
    await turn();
    assert.deepEqual(broker.requests[1], [{ topic: 't', partition: 0, offset: '4' }]);
    broker.answer();
    await committer.flush();
    assert.equal(broker.requests.length, 2);
  });

  it('flush() commits at once what is pending and resolves when the broker answered; an offset is not committed twice', async () => {
    const broker = fakeBroker();
    const committer = new OffsetCommitter(broker.commit, unexpected, byCount(100));
    const a = new Source('t', 0);
    a.finishedThrough = '7';
    committer.advanced(a);
    let flushed = false;
    const flushing = committer.flush().then(() => (flushed = true));
    await turn();
    assert.equal(broker.requests.length, 1);
    assert.equal(flushed, false);
    broker.answer();
    await flushing;
    committer.advanced(a);
    await committer.flush();
    assert.equal(broker.requests.length, 1);
  });

  it('reports a failed commit, and commits again with the next advance', async () => {
    const broker = fakeBroker();
    const failures: unknown[] = [];
    const committer = new OffsetCommitter(broker.commit, (err) => failures.push(err), byCount(1));
    const a = new Source('t', 0);
    a.finishedThrough = '1';
    committer.advanced(a);
    broker.answer(new Error('coordinator moved'));
    await committer.flush();
    assert.equal((failures[0] as Error).message, 'coordinator moved');
    a.finishedThrough = '2';
    committer.advanced(a);
    assert.deepEqual(broker.requests[1], [{ topic: 't', partition: 0, offset: '3' }]);
    broker.answer();
    await committer.flush();
  });

  it('commits nothing for a partition with no finished event, and forgets on a new generation', async () => {
    const broker = fakeBroker();
    const committer = new OffsetCommitter(broker.commit, unexpected, byCount(1));
    const a = new Source('t', 0);
    committer.advanced(a);
    await committer.flush();
    assert.equal(broker.requests.length, 0);
    a.finishedThrough = '3';
    committer.advanced(a);
    broker.answer();
    await committer.flush();
    committer.forget();
    committer.advanced(a);
    assert.equal(broker.requests.length, 2, 'after forget() the same offset is committed again (the new generation may lack it)');
    broker.answer();
    await committer.flush();
  });
});

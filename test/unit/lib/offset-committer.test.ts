/** Coalesced commits of the finished prefixes, with a fake commit function. */
import assert from 'node:assert/strict';
import { OffsetCommitter, type CommitSource, type CommittedOffset } from '../../../lib/offset-committer';

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

describe('lib/offset-committer', () => {
  it('commits the offset after the last finished event, advances in one turn sharing one request', async () => {
    const broker = fakeBroker();
    const committer = new OffsetCommitter(broker.commit, unexpected);
    const a = new Source('t', 0);
    const b = new Source('t', 1);
    a.finishedThrough = '4';
    committer.advanced(a);
    b.finishedThrough = '9';
    committer.advanced(b);
    a.finishedThrough = '5';
    committer.advanced(a);
    await turn();
    assert.deepEqual(broker.requests, [
      [
        { topic: 't', partition: 0, offset: '6' },
        { topic: 't', partition: 1, offset: '10' },
      ],
    ]);
    broker.answer();
    await committer.flush();
  });

  it('keeps one request in flight; what advanced meanwhile goes into the next, at its latest', async () => {
    const broker = fakeBroker();
    const committer = new OffsetCommitter(broker.commit, unexpected);
    const a = new Source('t', 0);
    a.finishedThrough = '0';
    committer.advanced(a);
    await turn();
    for (const through of ['1', '2', '3']) {
      a.finishedThrough = through;
      committer.advanced(a);
      await turn();
    }
    assert.equal(broker.requests.length, 1, 'no second request while the first is unanswered');
    broker.answer();
    await turn();
    assert.deepEqual(broker.requests[1], [{ topic: 't', partition: 0, offset: '4' }]);
    const flushed = committer.flush();
    broker.answer();
    await flushed;
  });

  it('flush() resolves once everything advanced is committed; it does not commit an offset again', async () => {
    const broker = fakeBroker();
    const committer = new OffsetCommitter(broker.commit, unexpected);
    const a = new Source('t', 0);
    a.finishedThrough = '7';
    committer.advanced(a);
    let flushed = false;
    const flushing = committer.flush().then(() => (flushed = true));
    await turn();
    assert.equal(flushed, false);
    broker.answer();
    await flushing;
    committer.advanced(a);
    await turn();
    await committer.flush();
    assert.equal(broker.requests.length, 1);
  });

  it('reports a failed commit, and commits again with the next advance', async () => {
    const broker = fakeBroker();
    const failures: unknown[] = [];
    const committer = new OffsetCommitter(broker.commit, (err) => failures.push(err));
    const a = new Source('t', 0);
    a.finishedThrough = '1';
    committer.advanced(a);
    await turn();
    broker.answer(new Error('coordinator moved'));
    await committer.flush();
    assert.equal((failures[0] as Error).message, 'coordinator moved');
    a.finishedThrough = '2';
    committer.advanced(a);
    await turn();
    assert.deepEqual(broker.requests[1], [{ topic: 't', partition: 0, offset: '3' }]);
    broker.answer();
    await committer.flush();
  });

  it('commits nothing for a partition with no finished event, and forgets on a new generation', async () => {
    const broker = fakeBroker();
    const committer = new OffsetCommitter(broker.commit, unexpected);
    const a = new Source('t', 0);
    committer.advanced(a);
    await committer.flush();
    assert.equal(broker.requests.length, 0);
    a.finishedThrough = '3';
    committer.advanced(a);
    await turn();
    broker.answer();
    await committer.flush();
    committer.forget();
    committer.advanced(a);
    await turn();
    assert.equal(broker.requests.length, 2, 'after forget() the same offset is committed again (the new generation may lack it)');
    broker.answer();
    await committer.flush();
  });
});

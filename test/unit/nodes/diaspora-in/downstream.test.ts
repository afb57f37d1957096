/**
 * DownstreamCompletion with a fake of Node-RED's hooks registry: one pair of hooks per runtime,
 * installed only while a message is tracked, O(1) for messages it does not track.
 */
import assert from 'node:assert/strict';
import type { NodeAPI, NodeMessage } from 'node-red';
import * as sinon from 'sinon';
import { DownstreamCompletion } from '../../../../nodes/diaspora-in/downstream';

type HookFn = (event: object) => void;

/** The part of RED that DownstreamCompletion uses: hooks.add/remove and util.generateId. */
class FakeRuntime {
  readonly hooks = new Map<string, HookFn>();
  adds = 0;
  private nextId = 0;
  readonly api = {
    hooks: {
      add: (name: string, fn: HookFn) => {
        assert.ok(!this.hooks.has(name), `hook ${name} added twice`);
        this.adds += 1;
        this.hooks.set(name, fn);
      },
      remove: (name: string) => {
        this.hooks.delete(name);
      },
    },
    util: { generateId: () => `m${++this.nextId}` },
  } as unknown as NodeAPI;

  /** A node that calls done() has finished with the message. */
  complete(msg: NodeMessage, nodeId: string): void {
    this.hooks.get('onComplete.diaspora-in')?.({ msg, node: { id: nodeId } });
  }

  /** The message was handed to the node's input handler. */
  received(msg: NodeMessage, nodeId: string, callsDone: boolean): void {
    this.hooks.get('postReceive.diaspora-in')?.({ msg, destination: { id: nodeId, node: { _expectedDoneCount: callsDone ? 1 : 0 } } });
  }
}

/** Sends one message; resolves to the message and whether its completion has resolved so far. */
function sendOne(downstream: DownstreamCompletion): { msg: NodeMessage; finished: () => boolean; done: Promise<void> } {
  let sent: NodeMessage | undefined;
  let finished = false;
  const done = downstream.send({ payload: 1 }, (m) => (sent = m)).then(() => {
    finished = true;
  });
  assert.ok(sent, 'the message was sent at once');
  return { msg: sent, finished: () => finished, done };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('nodes/diaspora-in/downstream', () => {
  it('installs no hook until a message is tracked, and one pair for all diaspora-in nodes of a runtime', async () => {
    const runtime = new FakeRuntime();
    const a = new DownstreamCompletion(runtime.api, ['fn'], assert.fail);
    const b = new DownstreamCompletion(runtime.api, ['other'], assert.fail);
    assert.equal(runtime.hooks.size, 0, 'a deployed but idle diaspora-in costs the runtime nothing');
    const first = sendOne(a);
    const second = sendOne(b);
    assert.deepEqual([...runtime.hooks.keys()].sort(), ['onComplete.diaspora-in', 'postReceive.diaspora-in']);
    assert.equal(runtime.adds, 2);
    runtime.complete(first.msg, 'fn');
    runtime.complete(second.msg, 'other');
    await Promise.all([first.done, second.done]);
    a.close();
    assert.equal(runtime.hooks.size, 2, 'the hooks stay while another diaspora-in is deployed');
    b.close();
    assert.equal(runtime.hooks.size, 0, 'the last close removes them');
  });

  it('resolves when the wired node calls done, not when another node does', async () => {
    const runtime = new FakeRuntime();
    const downstream = new DownstreamCompletion(runtime.api, ['fn'], assert.fail);
    const one = sendOne(downstream);
    runtime.complete(one.msg, 'somewhere-else');
    runtime.received(one.msg, 'fn', true);
    await turn();
    assert.equal(one.finished(), false, 'a node that calls done has not finished when it merely received the message');
    runtime.complete(one.msg, 'fn');
    await one.done;
    downstream.close();
  });

  it('a node that never calls done has finished once it received the message', async () => {
    const runtime = new FakeRuntime();
    const downstream = new DownstreamCompletion(runtime.api, ['debug'], assert.fail);
    const one = sendOne(downstream);
    runtime.received(one.msg, 'debug', false);
    await one.done;
    downstream.close();
  });

  it('with several wired nodes, waits for all of them', async () => {
    const runtime = new FakeRuntime();
    const downstream = new DownstreamCompletion(runtime.api, ['a', 'b'], assert.fail);
    const one = sendOne(downstream);
    runtime.complete(one.msg, 'a');
    runtime.complete(one.msg, 'a');
    await turn();
    assert.equal(one.finished(), false);
    runtime.complete(one.msg, 'b');
    await one.done;
    downstream.close();
  });

  it('returns at once for messages it does not track, leaving the tracked ones waiting', async () => {
    const runtime = new FakeRuntime();
    const downstream = new DownstreamCompletion(runtime.api, ['fn'], assert.fail);
    const one = sendOne(downstream);
    for (let i = 0; i < 1000; i += 1) {
      runtime.complete({ _msgid: `unrelated-${i}` } as NodeMessage, 'fn');
      runtime.received({} as NodeMessage, 'core-node', false);
    }
    await turn();
    assert.equal(one.finished(), false);
    runtime.complete(one.msg, 'fn');
    await one.done;
    downstream.close();
  });

  it('release() ends every wait of its node only; close() ends the rest', async () => {
    const runtime = new FakeRuntime();
    const a = new DownstreamCompletion(runtime.api, ['fn'], assert.fail);
    const b = new DownstreamCompletion(runtime.api, ['fn2'], assert.fail);
    const ofA = sendOne(a);
    const ofB = sendOne(b);
    a.release();
    await ofA.done;
    await turn();
    assert.equal(ofB.finished(), false);
    b.close();
    await ofB.done;
    a.close();
  });

  it('without wired nodes or without hooks (test runtimes), resolves on the next turn', async () => {
    const runtime = new FakeRuntime();
    const unwired = new DownstreamCompletion(runtime.api, [], assert.fail);
    await sendOne(unwired).done;
    const noHooks = new DownstreamCompletion({ util: runtime.api.util } as unknown as NodeAPI, ['fn'], assert.fail);
    await sendOne(noHooks).done;
    assert.equal(runtime.hooks.size, 0);
    unwired.close();
    noHooks.close();
  });

  it('after closing, sends without waiting', async () => {
    const runtime = new FakeRuntime();
    const downstream = new DownstreamCompletion(runtime.api, ['fn'], assert.fail);
    downstream.close();
    await sendOne(downstream).done;
    assert.equal(runtime.hooks.size, 0);
  });

  it('stops waiting for a node that does not finish within 10 s (warned once), and removes idle hooks', async () => {
    const clock = sinon.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    const runtime = new FakeRuntime();
    const warnings: string[] = [];
    const downstream = new DownstreamCompletion(runtime.api, ['slow'], (w) => warnings.push(w));
    try {
      const one = sendOne(downstream);
      clock.tick(9_000);
      await turn();
      assert.equal(one.finished(), false);
      clock.tick(2_000);
      await one.done;
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], /node slow did not finish a message within 10 s/);
      await sendOne(downstream).done;
      assert.equal(warnings.length, 1, 'the node is not waited for again');
      clock.tick(3_000);
      assert.equal(runtime.hooks.size, 0, 'with nothing tracked the hooks are removed after a sweep or two');
    } finally {
      clock.restore();
      downstream.close();
    }
  });
});

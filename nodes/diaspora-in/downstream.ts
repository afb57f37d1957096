/**
 * Waits until the nodes wired to diaspora-in have finished with a message, so the consumer commits
 * an event's offset only after the flow took it: when Node-RED stops in between, the event is
 * delivered again on the next start instead of being lost. A node whose input handler takes
 * `done` has finished when it calls done (Node-RED's `onComplete` hook); any other node has
 * finished once its input handler has run (`postReceive`).
 */
import type { NodeAPI, NodeMessage } from 'node-red';

/** A wired node that does not finish in this long is not waited for again. */
const FINISH_TIMEOUT_MS = 10_000;

interface HookEvent {
  msg?: { _msgid?: string };
  /** onComplete */
  node?: { id?: string };
  /** postReceive */
  destination?: { id?: string; node?: unknown };
}

interface Waiter {
  pending: Set<string>;
  resolve: () => void;
  timer: NodeJS.Timeout;
}

/** Node-RED counts the input handlers that take `done`; a node with none never reports completion. */
function callsDone(node: unknown): boolean {
  const expected = (node as { _expectedDoneCount?: unknown } | undefined)?._expectedDoneCount;
  return typeof expected === 'number' && expected > 0;
}

export class DownstreamCompletion {
  private readonly hookLabel: string;
  private readonly waiters = new Map<string, Waiter>();
  private readonly notFinishing = new Set<string>();
  private closed = false;
  /** Node-RED's hooks; absent in node-red-node-test-helper's runtime API, where nothing is waited for. */
  private readonly hooks: NodeAPI['hooks'] | undefined;

  constructor(
    private readonly RED: NodeAPI,
    ownerId: string,
    private readonly wired: string[],
    private readonly warn: (message: string) => void,
  ) {
    this.hookLabel = `diaspora-in-${ownerId.replace(/[^\w-]/g, '_')}`;
    this.hooks = (RED as { hooks?: NodeAPI['hooks'] }).hooks;
    if (this.hooks && wired.length > 0) {
      this.hooks.add(`onComplete.${this.hookLabel}`, (event: HookEvent) => this.finished(event.msg?._msgid, event.node?.id));
      this.hooks.add(`postReceive.${this.hookLabel}`, (event: HookEvent) => {
        if (!callsDone(event.destination?.node)) this.finished(event.msg?._msgid, event.destination?.id);
      });
    }
  }

  /** Sends the message and resolves when every wired node has finished with it (bounded). */
  send(msg: NodeMessage, send: (msg: NodeMessage) => void): Promise<void> {
    const waitFor = this.wired.filter((id) => !this.notFinishing.has(id));
    if (this.closed || !this.hooks || waitFor.length === 0) {
      send(msg);
      // Node-RED delivers asynchronously: let the next node receive it before the next record comes.
      return new Promise((resolve) => setImmediate(resolve));
    }
    const id = this.RED.util.generateId();
    msg._msgid = id;
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.timedOut(id), FINISH_TIMEOUT_MS);
      this.waiters.set(id, { pending: new Set(waitFor), resolve, timer });
    });
    send(msg);
    return done;
  }

  /** Stops every wait: the consumer is stopping and will not commit these events. */
  release(): void {
    for (const [id, waiter] of this.waiters) {
      clearTimeout(waiter.timer);
      this.waiters.delete(id);
      waiter.resolve();
    }
  }

  /** Stops every wait and removes the hooks (the node is closed). */
  close(): void {
    this.closed = true;
    this.release();
    if (this.hooks && this.wired.length > 0) {
      this.hooks.remove(`onComplete.${this.hookLabel}`);
      this.hooks.remove(`postReceive.${this.hookLabel}`);
    }
  }

  private finished(msgId: string | undefined, nodeId: string | undefined): void {
    if (!msgId || !nodeId) return;
    const waiter = this.waiters.get(msgId);
    if (!waiter || !waiter.pending.delete(nodeId)) return;
    if (waiter.pending.size === 0) {
      clearTimeout(waiter.timer);
      this.waiters.delete(msgId);
      waiter.resolve();
    }
  }

  private timedOut(msgId: string): void {
    const waiter = this.waiters.get(msgId);
    if (!waiter) return;
    for (const nodeId of waiter.pending) {
      this.notFinishing.add(nodeId);
      this.warn(
        `node ${nodeId} did not finish a message within ${FINISH_TIMEOUT_MS / 1000} s: ` +
          'offsets are committed without waiting for it from now on',
      );
    }
    this.waiters.delete(msgId);
    waiter.resolve();
  }
}

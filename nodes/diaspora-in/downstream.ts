/**
 * Learns when the nodes wired to diaspora-in have finished with a message, so the consumer commits
 * an event's offset only after the flow took it: when Node-RED stops in between, the event is
 * delivered again on the next start instead of being lost. A node whose input handler takes
 * `done` has finished when it calls done (Node-RED's `onComplete` hook); any other node has
 * finished once its input handler has run (`postReceive`).
 *
 * Flows that have nothing to do with Diaspora pay nothing: the two hooks are installed once per
 * runtime, only while some diaspora-in has a message in the flow (and a moment after), and they
 * return at once for a message they do not track (one Map lookup by message id).
 */
import type { NodeAPI, NodeMessage } from 'node-red';
import { inputHandlersTakingDone } from '../shared/node-red-internals';

/** A wired node that does not finish in this long is not waited for again. */
const FINISH_TIMEOUT_MS = 10_000;
/** How often timeouts are checked, and how long the hooks stay installed with nothing tracked. */
const SWEEP_MS = 1000;
const HOOK_LABEL = 'diaspora-in';

type Hooks = NodeAPI['hooks'];

interface HookEvent {
  msg?: { _msgid?: string };
  /** onComplete */
  node?: { id?: string };
  /** postReceive */
  destination?: { id?: string; node?: unknown };
}

interface Waiter {
  owner: DownstreamCompletion;
  /** The wired node still to finish, or the set of them when several are wired. */
  pending: string | Set<string>;
  resolve: () => void;
  sentAt: number;
}

/** A node with no input handler taking `done` never reports completion through `onComplete`. */
function callsDone(node: unknown): boolean {
  return (inputHandlersTakingDone(node) ?? 0) > 0;
}

/** The messages waited for in one Node-RED runtime, and the hooks that see them finish. */
export class RuntimeCompletions {
  /** By message id, in the order sent (so the oldest come first when timeouts are checked). */
  private readonly waiting = new Map<string, Waiter>();
  private installed = false;
  private sweep: NodeJS.Timeout | undefined;
  private idleSweeps = 0;

  constructor(private readonly hooks: Hooks) {}

  get tracked(): number {
    return this.waiting.size;
  }

  get hooksInstalled(): boolean {
    return this.installed;
  }

  track(msgId: string, waiter: Waiter): void {
    this.waiting.set(msgId, waiter);
    this.idleSweeps = 0;
    if (!this.installed) this.install();
  }

  /** Resolves (and forgets) every wait of `owner`. */
  releaseAll(owner: DownstreamCompletion): void {
    for (const [id, waiter] of this.waiting) {
      if (waiter.owner !== owner) continue;
      this.waiting.delete(id);
      waiter.resolve();
    }
  }

  /** Removes the hooks now (no diaspora-in is left in the runtime). */
  uninstall(): void {
    if (this.sweep) clearInterval(this.sweep);
    this.sweep = undefined;
    if (!this.installed) return;
    this.installed = false;
    this.hooks.remove(`onComplete.${HOOK_LABEL}`);
    this.hooks.remove(`postReceive.${HOOK_LABEL}`);
  }

  private install(): void {
    this.installed = true;
    this.hooks.add(`onComplete.${HOOK_LABEL}`, (event: HookEvent) => {
      if (this.waiting.size === 0) return;
      this.finished(event.msg?._msgid, event.node?.id, undefined);
    });
    this.hooks.add(`postReceive.${HOOK_LABEL}`, (event: HookEvent) => {
      if (this.waiting.size === 0) return;
      this.finished(event.msg?._msgid, event.destination?.id, event.destination?.node);
    });
    this.sweep = setInterval(() => this.check(Date.now()), SWEEP_MS);
    this.sweep.unref();
  }

  /** `receiver` is set for postReceive: only a node that never calls done has finished then. */
  private finished(msgId: string | undefined, nodeId: string | undefined, receiver: unknown): void {
    if (msgId === undefined || nodeId === undefined) return;
    const waiter = this.waiting.get(msgId);
    if (!waiter || (receiver !== undefined && callsDone(receiver))) return;
    if (typeof waiter.pending === 'string') {
      if (waiter.pending !== nodeId) return;
    } else if (!waiter.pending.delete(nodeId) || waiter.pending.size > 0) {
      return;
    }
    this.waiting.delete(msgId);
    waiter.resolve();
  }

  /** Times out the waits older than FINISH_TIMEOUT_MS; removes the hooks after an idle sweep. */
  check(now: number): void {
    for (const [id, waiter] of this.waiting) {
      if (now - waiter.sentAt < FINISH_TIMEOUT_MS) break;
      this.waiting.delete(id);
      waiter.owner.timedOut(waiter.pending);
      waiter.resolve();
    }
    if (this.waiting.size > 0) return;
    this.idleSweeps += 1;
    if (this.idleSweeps >= 2) this.uninstall();
  }
}

const perRuntime = new WeakMap<Hooks, RuntimeCompletions>();
const users = new WeakMap<RuntimeCompletions, number>();

function completionsFor(hooks: Hooks): RuntimeCompletions {
  let completions = perRuntime.get(hooks);
  if (!completions) {
    completions = new RuntimeCompletions(hooks);
    perRuntime.set(hooks, completions);
  }
  return completions;
}

export class DownstreamCompletion {
  private readonly notFinishing = new Set<string>();
  private closed = false;
  /** Node-RED's hooks; absent in node-red-node-test-helper's runtime API, where nothing is waited for. */
  private readonly completions: RuntimeCompletions | undefined;

  constructor(
    private readonly RED: NodeAPI,
    private readonly wired: string[],
    private readonly warn: (message: string) => void,
  ) {
    const hooks = (RED as { hooks?: Hooks }).hooks;
    if (hooks && wired.length > 0) {
      this.completions = completionsFor(hooks);
      users.set(this.completions, (users.get(this.completions) ?? 0) + 1);
    }
  }

  /** Sends the message and resolves when every wired node has finished with it (bounded). */
  send(msg: NodeMessage, send: (msg: NodeMessage) => void): Promise<void> {
    const completions = this.completions;
    const waitFor = this.notFinishing.size === 0 ? this.wired : this.wired.filter((id) => !this.notFinishing.has(id));
    if (this.closed || !completions || waitFor.length === 0) {
      send(msg);
      // Node-RED delivers asynchronously: the next node has received it by the next turn.
      return new Promise((resolve) => setImmediate(resolve));
    }
    const id = this.RED.util.generateId();
    msg._msgid = id;
    const done = new Promise<void>((resolve) => {
      completions.track(id, {
        owner: this,
        pending: waitFor.length === 1 ? waitFor[0] : new Set(waitFor),
        resolve,
        sentAt: Date.now(),
      });
    });
    send(msg);
    return done;
  }

  /** Stops every wait: the consumer is stopping and will not commit these events. */
  release(): void {
    this.completions?.releaseAll(this);
  }

  /** Stops every wait; the last diaspora-in of the runtime removes the hooks. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const completions = this.completions;
    if (!completions) return;
    completions.releaseAll(this);
    const left = (users.get(completions) ?? 1) - 1;
    users.set(completions, left);
    if (left === 0) completions.uninstall();
  }

  /** Called by the runtime's sweep for a message some wired node did not finish in time. */
  timedOut(pending: string | Set<string>): void {
    for (const nodeId of typeof pending === 'string' ? [pending] : pending) {
      if (this.notFinishing.has(nodeId)) continue;
      this.notFinishing.add(nodeId);
      this.warn(
        `node ${nodeId} did not finish a message within ${FINISH_TIMEOUT_MS / 1000} s: ` +
          'offsets are committed without waiting for it from now on',
      );
    }
  }
}

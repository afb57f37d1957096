/**
 * Node types that only the benchmark's Node-RED loads: `bench-source` feeds messages into a flow
 * (as fast as the next node accepts them, within a window of unfinished messages, or at a fixed
 * rate), `bench-counter` counts what comes out (and end-to-end latency when the payload carries
 * its send time). Admin routes under /bench drive them and report process statistics, so the
 * measuring happens inside the Node-RED process and the benchmark only reads the results.
 */
import * as net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { Request, Response } from 'express';
import { readingFactory } from '../payload';
import { latencySummary } from '../lib/stats';
import { monotonicMicros } from '../lib/cpuprofile';
import type { ProcessStats, RunResult, SourceParams } from './protocol';

class Run {
  completed = 0;
  errors = 0;
  firstError: string | undefined;
  startedAt: number | undefined;
  firstAt: number | undefined;
  lastAt: number | undefined;
  readonly latencies: number[] | undefined;
  /** process.cpuUsage() at the start (source started, else first message) and when complete. */
  private cpuAtStart: NodeJS.CpuUsage | undefined;
  private cpuAtEnd: NodeJS.CpuUsage | undefined;
  private readonly waiters = new Set<() => void>();
  /** Called after every counted message (the windowed source refills). */
  onProgress: (() => void) | undefined;

  constructor(
    readonly expected: number,
    latency: boolean,
  ) {
    this.latencies = latency ? [] : undefined;
  }

  /** `error`: the failure's message when the message ended in an error. */
  count(msg: NodeMessageInFlow, error?: string): void {
    const now = performance.now();
    this.completed += 1;
    if (this.firstAt === undefined) {
      this.firstAt = now;
      this.cpuAtStart ??= process.cpuUsage();
    }
    this.lastAt = now;
    if (error !== undefined) {
      this.errors += 1;
      this.firstError ??= error;
    }
    if (this.latencies) {
      const sentAt = (msg.payload as { sentAt?: unknown } | null)?.sentAt;
      if (typeof sentAt === 'number') this.latencies.push(now - sentAt);
    }
    if (this.completed === this.expected) {
      this.cpuAtEnd = process.cpuUsage();
      for (const wake of [...this.waiters]) wake();
    }
    this.onProgress?.();
  }

  /** The source starts: CPU is counted from here. */
  begin(): void {
    this.startedAt = performance.now();
    this.cpuAtStart = process.cpuUsage();
  }

  wait(timeoutMs: number): Promise<void> {
    if (this.completed >= this.expected) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      this.waiters.add(wake);
    });
  }

  result(): RunResult {
    return {
      expected: this.expected,
      completed: this.completed,
      errors: this.errors,
      ...(this.firstError !== undefined ? { firstError: this.firstError } : {}),
      ...(this.startedAt !== undefined ? { startedAt: this.startedAt } : {}),
      ...(this.firstAt !== undefined ? { firstAt: this.firstAt } : {}),
      ...(this.lastAt !== undefined ? { lastAt: this.lastAt } : {}),
      ...(this.latencies ? { latency: latencySummary(this.latencies) } : {}),
      eventLoopDelayMs: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
      ...(this.cpuAtStart && this.cpuAtEnd
        ? { cpuUs: this.cpuAtEnd.user - this.cpuAtStart.user + this.cpuAtEnd.system - this.cpuAtStart.system }
        : {}),
      ...(this.lastAt !== undefined && (this.startedAt ?? this.firstAt) !== undefined
        ? { windowUs: [monotonicMicros((this.startedAt ?? this.firstAt)!), monotonicMicros(this.lastAt)] as [number, number] }
        : {}),
    };
  }
}

interface Source {
  start(params: SourceParams, run: Run): void;
  stop(): void;
}

let current: Run | undefined;
/** Event-loop delay of this Node-RED process, reset when a run is armed. */
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
/** Node ids whose done() a bench-done-watch counts. */
const doneWatched = new Set<string>();

interface CompleteEvent {
  msg: NodeMessageInFlow;
  error?: unknown;
  node: { id: string };
}
const sources = new Map<string, Source>();

type SourceDef = NodeDef & { outputs?: number | string };
type CounterDef = NodeDef & { role?: string };

export = function register(RED: NodeAPI): void {
  function BenchSource(this: Node, def: SourceDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const outputs = Math.max(1, Number(def.outputs ?? 1));
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;

    const sendOne = (params: SourceParams, make: ReturnType<typeof readingFactory>, seq: number): void => {
      const payload = make(seq);
      if (params.latency) payload.sentAt = performance.now();
      const body = params.serialized ? JSON.stringify(payload) : payload;
      const msg: NodeMessage = params.topic ? { payload: body, topic: params.topic } : { payload: body };
      if (outputs === 1) {
        node.send(msg);
      } else {
        const out: Array<NodeMessage | null> = new Array<NodeMessage | null>(outputs).fill(null);
        out[seq % outputs] = msg;
        node.send(out);
      }
    };

    sources.set(node.id, {
      start(params, run) {
        const make = readingFactory(params.payloadBytes);
        let sent = 0;
        run.begin();
        if (params.rate > 0) {
          const begin = performance.now();
          timer = setInterval(() => {
            const due = Math.min(params.count, Math.floor(((performance.now() - begin) * params.rate) / 1000) + 1);
            while (sent < due) sendOne(params, make, sent++);
            if (sent >= params.count && timer) clearInterval(timer);
          }, 1);
          return;
        }
        const pump = (): void => {
          while (!stopped && sent < params.count && sent - run.completed < params.window) sendOne(params, make, sent++);
        };
        run.onProgress = pump;
        pump();
      },
      stop() {
        stopped = true;
        if (timer) clearInterval(timer);
      },
    });
    node.on('close', () => {
      sources.get(node.id)?.stop();
      sources.delete(node.id);
    });
  }

  function BenchCounter(this: Node, def: CounterDef): void {
    RED.nodes.createNode(this, def);
    const isError = def.role === 'error';
    this.on('input', (msg: NodeMessageInFlow, _send: unknown, done: () => void) => {
      current?.count(msg, isError ? String((msg as { error?: { message?: unknown } }).error?.message ?? 'error') : undefined);
      done();
    });
  }

  /**
   * Counts every done() of the nodes in its scope, through Node-RED's onComplete hook: the cheapest
   * way to see when a node without an output (diaspora-out in fire mode) has finished a message.
   */
  function BenchDoneWatch(this: Node, def: NodeDef & { scope?: string[] }): void {
    RED.nodes.createNode(this, def);
    const scope = def.scope ?? [];
    for (const id of scope) doneWatched.add(id);
    this.on('close', () => {
      for (const id of scope) doneWatched.delete(id);
    });
  }
  const hooks = (RED as unknown as { hooks: { add(name: string, hook: (event: CompleteEvent) => void): void } }).hooks;
  hooks.add('onComplete.diasporaBench', (event) => {
    if (!doneWatched.has(event.node.id)) return;
    current?.count(event.msg, event.error === undefined || event.error === null ? undefined : String((event.error as Error).message ?? event.error));
  });

  RED.nodes.registerType('bench-done-watch', BenchDoneWatch as unknown as Parameters<typeof RED.nodes.registerType>[1]);
  RED.nodes.registerType('bench-source', BenchSource as unknown as Parameters<typeof RED.nodes.registerType>[1]);
  RED.nodes.registerType('bench-counter', BenchCounter as unknown as Parameters<typeof RED.nodes.registerType>[1]);

  const admin = RED.httpAdmin;
  const body = (req: Request): Record<string, unknown> => (req.body ?? {}) as Record<string, unknown>;
  const num = (value: unknown, fallback: number): number => (value === undefined || value === '' ? fallback : Number(value));

  admin.post('/bench/arm', (req: Request, res: Response) => {
    const b = body(req);
    current = new Run(num(b.expected, 0), b.latency === true);
    loopDelay.reset();
    res.json({ ok: true });
  });

  admin.post('/bench/source/:id', (req: Request, res: Response) => {
    const source = sources.get(String(req.params.id));
    if (!source || !current) {
      res.status(404).json({ error: source ? 'arm a run first' : `no bench-source ${req.params.id}` });
      return;
    }
    const b = body(req);
    source.start(
      {
        count: num(b.count, 0),
        window: num(b.window, 1000),
        rate: num(b.rate, 0),
        payloadBytes: num(b.payloadBytes, 1024),
        latency: b.latency === true,
        serialized: b.serialized === true,
        ...(typeof b.topic === 'string' && b.topic ? { topic: b.topic } : {}),
      },
      current,
    );
    res.json({ ok: true });
  });

  admin.get('/bench/result', (req: Request, res: Response) => {
    const run = current;
    if (!run) {
      res.status(404).json({ error: 'no run armed' });
      return;
    }
    void run.wait(num(req.query.timeoutMs, 0)).then(() => res.json(run.result()));
  });

  admin.get('/bench/stats', (req: Request, res: Response) => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (req.query.gc === '1' && gc) {
      gc();
      gc();
    }
    res.json(processStats());
  });

  /** Ready states seen per config node object, so a wait after a redeploy ignores the old node. */
  const stale = new WeakSet<object>();
  admin.post('/bench/ready-arm/:id', (req: Request, res: Response) => {
    const node = RED.nodes.getNode(String(req.params.id));
    if (node) stale.add(node);
    res.json({ ok: true });
  });

  admin.get('/bench/ready/:id', (req: Request, res: Response) => {
    const id = String(req.params.id);
    const notKey = typeof req.query.notKey === 'string' ? req.query.notKey : undefined;
    const deadline = Date.now() + num(req.query.timeoutMs, 30_000);
    const poll = setInterval(() => {
      const node = RED.nodes.getNode(id) as (Node & { session?: { state: { state: string; keyCreatedAt?: string; message?: string } } }) | null;
      const state = node && !stale.has(node) ? node.session?.state : undefined;
      if (state?.state === 'ready' && (notKey === undefined || state.keyCreatedAt !== notKey)) {
        clearInterval(poll);
        res.json({ at: Date.now(), state });
      } else if (state?.state === 'error' || Date.now() > deadline) {
        clearInterval(poll);
        res.status(500).json({ error: state ? `${state.state}: ${state.message ?? ''}` : `no ready ${id} in time` });
      }
    }, 2);
  });
};

function processStats(): ProcessStats {
  const mem = process.memoryUsage();
  const resources: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) resources[kind] = (resources[kind] ?? 0) + 1;
  // Node's own (undocumented but stable) handle list: the only way to see kafkajs's sockets.
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  const sockets: Record<string, number> = {};
  for (const h of handles) {
    if (h instanceof net.Socket && !h.destroyed) {
      const port = String(h.remotePort ?? 0);
      sockets[port] = (sockets[port] ?? 0) + 1;
    }
  }
  return {
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    heapTotal: mem.heapTotal,
    external: mem.external,
    arrayBuffers: mem.arrayBuffers,
    resources,
    activeHandles: handles.length,
    sockets,
  };
}

/**
 * One benchmark Node-RED with its config node: full deploys of [tab, config, ...nodes] (the client
 * secret only on the first, as the editor does), waiting for the config node to be ready, and
 * measured runs of a bench-source.
 */
import type { FabricClient, FabricDescription } from '../../fabric/contract';
import type { FlowNode, NodeRedHost } from '../node-red/child';
import { CONFIG, configNode, tab, type Transport } from '../node-red/flows';
import type { RunResult, SourceParams } from '../node-red/protocol';

export class NodeRedSession {
  private deployed = false;

  constructor(
    readonly host: NodeRedHost,
    private readonly fabric: FabricDescription,
    private readonly client: FabricClient,
    private readonly configName = 'bench',
    private readonly transport: Transport = 'kafka',
  ) {}

  /** The runtime already has the config node's credentials (a restarted Node-RED with its user directory). */
  markDeployed(): void {
    this.deployed = true;
  }

  /** Full deploy; resolves once the (new) config node is ready. Returns deploy → ready in ms. */
  async deploy(nodes: FlowNode[], configName = this.configName): Promise<number> {
    await this.host.readyArm(CONFIG);
    const started = Date.now();
    await this.host.deploy([tab(), configNode(this.fabric, this.client, !this.deployed, CONFIG, configName, this.transport), ...nodes], 'full');
    this.deployed = true;
    const ready = await this.host.waitReady(CONFIG, 60_000);
    return ready.at - started;
  }

  /** Deploys only what changed (the config node keeps running). */
  async deployChanged(nodes: FlowNode[], configName = this.configName): Promise<void> {
    await this.host.deploy([tab(), configNode(this.fabric, this.client, !this.deployed, CONFIG, configName, this.transport), ...nodes], 'nodes');
    this.deployed = true;
  }

  /**
   * A full garbage collection before a measured run, so that no run pays for the garbage of the
   * previous one (the raw kafkajs worker starts each run as a new process).
   */
  private async collect(): Promise<void> {
    await this.host.stats(true);
  }

  /** Arms the counter for `expected` messages, starts the source, waits for them; fails on errors or a timeout. */
  async run(sourceId: string, params: SourceParams, expected = params.count, timeoutMs = 600_000): Promise<RunResult> {
    await this.collect();
    await this.host.arm(expected, params.latency);
    await this.host.startSource(sourceId, params);
    const result = await this.host.result(timeoutMs);
    checkRun(result, `Node-RED run of ${params.count} messages`);
    return result;
  }

  /** Arms the counter and waits, for runs driven by something else (a consumer deployed after arming). */
  async waitFor(expected: number, start: () => Promise<unknown>, timeoutMs = 600_000, what = 'Node-RED run'): Promise<RunResult> {
    await this.collect();
    await this.host.arm(expected);
    await start();
    const result = await this.host.result(timeoutMs);
    checkRun(result, what);
    return result;
  }
}

export function checkRun(result: RunResult, what: string): void {
  if (result.errors > 0) throw new Error(`${what}: ${result.errors} errors, the first: ${result.firstError}`);
  if (result.completed < result.expected) throw new Error(`${what}: only ${result.completed} of ${result.expected} messages in time`);
}

/** Messages per second of a producer run: from the source's start to the last acknowledgement. */
export function producedPerSecond(result: RunResult): number {
  if (result.startedAt === undefined || result.lastAt === undefined) return NaN;
  return (result.completed / (result.lastAt - result.startedAt)) * 1000;
}

/** Messages per second of a consumer run: from the first message to the last. */
export function consumedPerSecond(result: RunResult): number {
  if (result.firstAt === undefined || result.lastAt === undefined || result.completed < 2) return NaN;
  return ((result.completed - 1) / (result.lastAt - result.firstAt)) * 1000;
}

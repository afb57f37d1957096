/**
 * The redeploy soak, shared by the CI test (test/faults/redeploy-soak.test.ts, 30 + 30) and the
 * long form (bench/soak-redeploy.ts, 100 + 100): a flow with all four Diaspora nodes is redeployed
 * (full deploy) and removed and re-added, on the real Node-RED runtime. Every few rounds an event
 * makes the round trip diaspora-out → broker → diaspora-in; the others redeploy while connections
 * are still being made. Then resources are counted: sockets, timers, listeners, group members.
 * No mocha globals here, so the bench script can use it.
 */
import type { Kafka } from 'kafkajs';
import nodeRedUtil = require('@node-red/util');
import type { FabricDescription } from '../../../fabric/contract';
import type { DiasporaConfigNode } from '../../../nodes/shared/config-node';
import { brokerSockets, eventually, type FlowNode, type NodeModule, type NodeRedTestHelper } from '../../fixtures/node-red';
import { catchNode, inject, Sink, sinkNode, tab, type Msg } from '../../nodes/flow-support';
import { faultConfig, inNode, outNode, topicNode } from './flows';

export interface ResourceCounts {
  /** Open sockets of this process to the brokers. */
  brokerSockets: number;
  /** Node's active resources by type (process.getActiveResourcesInfo): TCPSocketWrap, Timeout, ... */
  resources: Record<string, number>;
  /** Listeners on `process` and on Node-RED's runtime event bus. */
  processListeners: number;
  runtimeListeners: number;
}

export interface SoakOptions {
  helper: NodeRedTestHelper;
  nodes: NodeModule[];
  fabric: FabricDescription;
  /** A client of the broker's super user, for describeGroups. */
  admin: Kafka;
  redeploys: number;
  removals: number;
  /** A round trip out → in every this many rounds (default 5). */
  roundTripEvery?: number;
  topic: string;
  log?: (line: string) => void;
}

export interface SoakFigures {
  rounds: number;
  elapsedMs: number;
  /** Longest deploy (old nodes closed, new ones started), in ms. */
  slowestDeployMs: number;
  roundTrips: number;
  before: ResourceCounts;
  after: ResourceCounts;
  peakBrokerSockets: number;
  peakGroupMembers: number;
  groupMembersAtEnd: number;
  caughtErrors: string[];
}

interface RuntimeEvents {
  eventNames(): Array<string | symbol>;
  listenerCount(name: string | symbol): number;
}

export function countResources(brokers: string[]): ResourceCounts {
  const resources: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) resources[type] = (resources[type] ?? 0) + 1;
  // Node-RED's runtime event bus (RED.events), shared by every node; its type declarations omit it.
  const events = (nodeRedUtil as unknown as { events: RuntimeEvents }).events;
  const sum = (emitter: RuntimeEvents): number => emitter.eventNames().reduce((n, name) => n + emitter.listenerCount(name), 0);
  return {
    brokerSockets: brokerSockets(brokers).length,
    resources,
    processListeners: sum(process),
    runtimeListeners: sum(events),
  };
}

async function groupMembers(admin: Kafka, groupId: string): Promise<number> {
  const client = admin.admin();
  await client.connect();
  try {
    const { groups } = await client.describeGroups([groupId]);
    return groups[0]?.members.length ?? 0;
  } finally {
    await client.disconnect();
  }
}

export async function runSoak(opts: SoakOptions): Promise<SoakFigures> {
  const { helper, fabric } = opts;
  const log = opts.log ?? ((): void => undefined);
  const every = opts.roundTripEvery ?? 5;
  const brokers = [...fabric.brokers, ...(fabric.tls?.brokers ?? [])];
  const groupId = `h10-soak-${opts.topic}`;
  const config = faultConfig('cfg', fabric, 'v3', fabric.clients[1]);
  const base: FlowNode[] = [tab(), sinkNode('received'), sinkNode('registered'), sinkNode('caught'), catchNode('catch', 'caught')];
  const full: FlowNode[] = [
    ...base,
    config.node,
    topicNode('topics', 'cfg', { action: 'register', topic: opts.topic }, [['registered']]),
    outNode('pub', 'cfg', { topic: opts.topic, mode: 'fire' }),
    inNode('sub', 'cfg', opts.topic, { groupId, start: 'earliest' }, [['received']]),
  ];
  const caughtErrors: string[] = [];
  let sinks: { received: Sink; caught: Sink } | undefined;
  const watch = (): void => {
    sinks = { received: new Sink(helper, 'received'), caught: new Sink(helper, 'caught') };
    helper.getNode('caught')?.on('input', (msg: unknown) => caughtErrors.push((msg as Msg).error?.message ?? '?'));
  };

  await helper.load(opts.nodes, base);
  const before = countResources(brokers);
  await helper.setFlows(full, 'full', config.credentials);
  watch();
  const registered = new Sink(helper, 'registered');
  inject(helper, 'topics', { tag: 'register' });
  await eventually('the topic to be registered', () => (registered.messages.length > 0 || caughtErrors.length > 0 ? true : undefined), 30_000);
  if (caughtErrors.length > 0) throw new Error(`registering ${opts.topic}: ${caughtErrors.join('; ')}`);

  let credentials: Record<string, object> = config.credentials;
  let roundTrips = 0;
  let peakBrokerSockets = 0;
  let peakGroupMembers = 0;
  let slowestDeployMs = 0;
  const started = Date.now();
  const rounds = opts.redeploys + opts.removals;
  for (let round = 0; round < rounds; round++) {
    if (round % every === 0) {
      // A round trip on the current deployment: every node works, the group has its one member.
      const cfg = helper.getNode('cfg') as unknown as DiasporaConfigNode;
      await cfg.session.whenReady(30_000);
      const tag = `rt-${round}`;
      inject(helper, 'pub', { tag, payload: { round } });
      await eventually(`round ${round}: the event to come back through diaspora-in`, () => sinks?.received.messages.find((m) => (m.payload as { round?: number }).round === round), 45_000, 20);
      roundTrips += 1;
      peakBrokerSockets = Math.max(peakBrokerSockets, countResources(brokers).brokerSockets);
      peakGroupMembers = Math.max(peakGroupMembers, await groupMembers(opts.admin, groupId));
      credentials = { cfg: { ...(helper.credentials.get('cfg') ?? {}) } };
    }
    const deployStarted = Date.now();
    if (round < opts.redeploys) {
      await helper.setFlows(full, 'full', credentials);
    } else {
      await helper.setFlows(base, 'full');
      await helper.setFlows(full, 'full', credentials);
    }
    slowestDeployMs = Math.max(slowestDeployMs, Date.now() - deployStarted);
    watch();
    if ((round + 1) % 10 === 0) log(`round ${round + 1}/${rounds}: ${countResources(brokers).brokerSockets} broker sockets`);
  }
  const cfg = helper.getNode('cfg') as unknown as DiasporaConfigNode;
  await cfg.session.whenReady(30_000);
  await helper.setFlows(base, 'full');
  const after = await eventually('every broker socket to close', () => {
    const counts = countResources(brokers);
    return counts.brokerSockets === 0 ? counts : undefined;
  }, 20_000, 100);
  const groupMembersAtEnd = await eventually('the consumer group to be empty', async () => {
    const members = await groupMembers(opts.admin, groupId);
    return members === 0 ? members : undefined;
  }, 20_000, 250);
  return {
    rounds,
    elapsedMs: Date.now() - started,
    slowestDeployMs,
    roundTrips,
    before,
    after,
    peakBrokerSockets,
    peakGroupMembers,
    groupMembersAtEnd,
    caughtErrors,
  };
}

/** What a flow node may use of its `diaspora-config` node (the `fabric` property). */
import type { Node, NodeStatus } from 'node-red';
import type { DiasporaSession } from '../../lib/session/session';
import type { SessionState } from '../../lib/session/types';

export interface DiasporaConfigNode extends Node {
  readonly session: DiasporaSession;
  /** Subscribes a flow node to the shared status; returns the current one. */
  register(user: Node): void;
  /** Unsubscribes; the session keeps running for the other users. */
  deregister(user: Node): void;
  /** The translated status for a session state, as every node shows it. */
  statusFor(state: SessionState): NodeStatus;
  /** The Kafka name of a user-facing topic (v3: `<namespace>.<topic>`). */
  kafkaTopic(topic: string): string;
  readonly api: 'v1' | 'v3';
}

export function isDiasporaConfigNode(node: Node | null | undefined): node is DiasporaConfigNode {
  return !!node && node.type === 'diaspora-config' && 'session' in node;
}

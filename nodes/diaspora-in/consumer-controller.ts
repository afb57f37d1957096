/**
 * The consumer behind one diaspora-in node: started when the session is ready, re-created when
 * the session gets a new connection manager (sign-out and sign-in again), driven by the control
 * messages, and stopped (bounded) on close. Free of Node-RED's runtime: the node passes callbacks.
 */
import type { NodeStatus } from 'node-red';
import type { Connections, ConsumedMessage, ConsumerHandle, ConsumerState } from '../../lib/session/connection-types';
import { checkTopicName, type KafkaClientError } from '../../lib/kafka/errors';
import { PayloadError } from '../../lib/payload';
import { isReady } from '../../lib/session/machine';
import type { SessionState } from '../../lib/session/types';
import { INSTANCE_LIMIT } from '../../lib/https/consumer';
import { withTimeout } from '../../lib/with-timeout';
import type { DiasporaConfigNode } from '../shared/config-node';
import { held, idle, problem, waiting, working } from '../shared/status';
import { ControlError, type CommitOrigin, type ControlRequest, type Translate } from './control';
import { messageFor, withPayload, type ConsumedNodeMessage } from './record';
import { defaultGroupId, type InSettings } from './settings';

const STOP_TIMEOUT_MS = 10_000;

/** What the controller needs from its Node-RED node. */
export interface ControllerHost {
  readonly nodeId: string;
  /** Sends the message on; resolves once the wired nodes have finished with it (bounded). */
  send(msg: ConsumedNodeMessage): Promise<void>;
  /** Stops waiting for the wired nodes (the consumer is stopping and will not commit those events). */
  releaseDeliveries(): void;
  /** Reports to the log and to Catch nodes (node.error with a msg). */
  report(err: Error, msg: object): void;
  /** The node's own status on top of the session's; undefined = show the session's status. */
  show(status: NodeStatus | undefined): void;
  warn(message: string): void;
  /** diaspora-in's catalog and the shared status vocabulary (diaspora-config's catalog). */
  t: Translate;
  shared: Translate;
}

type ConsumerPhase = ConsumerState | 'restarting' | 'failed' | undefined;

export class ConsumerController {
  /** User-facing names, in subscription order. */
  private readonly topics: string[];
  private paused = false;
  private handle: ConsumerHandle | undefined;
  /** The manager the consumer (or the decision to idle without topics) belongs to. */
  private owner: Connections | undefined;
  private starting: Promise<void> | undefined;
  private phase: ConsumerPhase;
  private closed = false;
  /** The last failure was the service's consumer-instance limit (HTTPS): the status names it. */
  private atInstanceLimit = false;
  /** Why the last start failed, for a subscribe that triggered it. */
  private lastFailure: Error | undefined;
  /** Kafka name → the name the user gave (v3 adds the namespace). */
  private readonly userNames = new Map<string, string>();
  private readonly onSessionState = (state: SessionState): void => this.sessionChanged(state);

  constructor(
    private readonly config: DiasporaConfigNode,
    private readonly settings: InSettings,
    private readonly host: ControllerHost,
  ) {
    this.topics = [...settings.topics];
  }

  /** Begins following the session; the consumer starts as soon as it is ready. */
  begin(): void {
    this.config.session.on('state', this.onSessionState);
    this.sessionChanged(this.config.session.state);
  }

  /** The group and Kafka topics being consumed, for the lag; undefined while not consuming. */
  get position(): { manager: Connections; groupId: string; topics: string[] } | undefined {
    if (!this.handle || !this.owner || this.phase !== 'connected' || this.closed) return undefined;
    return { manager: this.owner, groupId: this.groupId, topics: this.topics.map((t) => this.safeKafkaName(t)) };
  }

  /** The group in use: the configured one, or the node's stable default. */
  get groupId(): string {
    if (this.settings.groupId) return this.settings.groupId;
    const owner = this.config.session.subject ?? this.config.name ?? this.config.id;
    return defaultGroupId(owner, this.host.nodeId);
  }

  async control(request: ControlRequest): Promise<void> {
    switch (request.action) {
      case 'pause':
        this.paused = true;
        this.handle?.pause();
        this.refreshStatus();
        return;
      case 'resume':
        this.paused = false;
        this.handle?.resume();
        this.refreshStatus();
        return;
      case 'subscribe':
        for (const topic of request.topics) await this.subscribe(topic);
        return;
      case 'unsubscribe':
        this.checkSubscribed(request.topics);
        for (const topic of request.topics) await this.unsubscribe(topic);
        return;
      case 'commit':
        return this.commit(request.origin);
    }
  }

  /** Stops the consumer, bounded in time; never throws. */
  async close(): Promise<void> {
    this.closed = true;
    this.config.session.off('state', this.onSessionState);
    if (this.starting) await withTimeout(this.starting, STOP_TIMEOUT_MS);
    const handle = this.handle;
    this.handle = undefined;
    this.owner = undefined;
    if (handle) await this.stopHandle(handle);
  }

  private sessionChanged(state: SessionState): void {
    if (this.closed) return;
    if (isReady(state)) this.ensureStarted();
    // The config node has just shown the session's status; put ours back on top where it applies.
    else this.refreshStatus();
  }

  /** Starts (or re-creates) the consumer when the session has a manager the consumer is not on. */
  private ensureStarted(): void {
    if (this.closed) return;
    const manager = this.config.session.connections;
    if (this.starting || !manager || !isReady(this.config.session.state) || this.owner === manager) {
      this.refreshStatus();
      return;
    }
    this.starting = this.start(manager).finally(() => {
      this.starting = undefined;
      // The session may have moved on to a new manager while this start was under way.
      if (!this.closed && this.config.session.connections !== this.owner) this.ensureStarted();
    });
  }

  private async start(manager: Connections): Promise<void> {
    const old = this.handle;
    this.handle = undefined;
    this.owner = manager;
    this.lastFailure = undefined;
    if (old) await this.stopHandle(old);
    if (this.topics.length === 0) {
      this.phase = undefined;
      this.refreshStatus();
      return;
    }
    const groupId = this.groupId;
    try {
      const kafkaTopics = this.topics.map((topic) => this.kafkaName(topic));
      this.phase = 'connecting';
      this.refreshStatus();
      const handle = await manager.createConsumer(
        `diaspora-in:${this.host.nodeId}`,
        {
          topics: kafkaTopics,
          groupId,
          fromBeginning: this.settings.start === 'earliest',
          autoCommit: this.settings.commit === 'auto',
          window: this.settings.window,
        },
        (record: ConsumedMessage) => this.deliver(record, groupId),
        {
          onError: (error: KafkaClientError, info: { restartInMs?: number }) => this.consumerFailed(error, info.restartInMs),
          onStateChange: (state: ConsumerState) => {
            if (this.closed) return;
            // After a failure the status stays red through the restart attempt, until consuming again.
            if (this.phase === 'restarting' && (state === 'connecting' || state === 'error')) return;
            this.phase = state;
            this.refreshStatus();
          },
        },
      );
      if (this.closed || this.owner !== manager) {
        await this.stopHandle(handle);
        return;
      }
      this.handle = handle;
      if (this.paused) handle.pause();
      if (this.phase === 'connecting') this.phase = handle.state;
      this.refreshStatus();
    } catch (err) {
      this.startFailed(asError(err), groupId);
    }
  }

  /**
   * Sends one record on; resolves when the wired nodes have finished with it. Up to the window's
   * worth of these are unresolved at once per partition (back-pressure beyond that).
   */
  private async deliver(record: ConsumedMessage, groupId: string): Promise<void> {
    const msg = messageFor(record, this.userNames.get(record.topic) ?? record.topic, groupId);
    try {
      withPayload(msg, record, this.settings.format);
    } catch (err) {
      if (!(err instanceof PayloadError)) throw err;
      // Reported to Catch nodes with the metadata and the raw text; the consumer goes on.
      msg.payload = record.value === null ? null : record.value.toString('utf8');
      this.host.report(new Error(this.host.t('errors.not-json', { topic: msg.topic, offset: record.offset })), msg);
      return;
    }
    // The offset is committed only once this and every earlier event of the partition resolved, so
    // an event the flow had not finished when Node-RED stopped is delivered again instead of lost.
    await this.host.send(msg);
  }

  private async subscribe(topic: string): Promise<void> {
    if (this.starting) await this.starting;
    if (this.topics.includes(topic)) return;
    const kafkaName = this.kafkaNameIfKnown(topic);
    if (this.handle && kafkaName) {
      await this.handle.subscribe(kafkaName);
      this.topics.push(topic);
      this.refreshStatus();
      return;
    }
    this.topics.push(topic);
    // No consumer yet (no topic until now, or not ready): start one now if the session is ready.
    if (!isReady(this.config.session.state)) return;
    this.owner = undefined;
    this.ensureStarted();
    if (this.starting) await this.starting;
    if (!this.handle && this.lastFailure) {
      this.topics.splice(this.topics.indexOf(topic), 1);
      throw this.lastFailure;
    }
  }

  private checkSubscribed(topics: string[]): void {
    const missing = topics.find((topic) => !this.topics.includes(topic));
    if (missing !== undefined) {
      throw new ControlError(this.host.t('errors.not-subscribed', { topic: missing, topics: this.topics.join(', ') || '-' }));
    }
  }

  private async unsubscribe(topic: string): Promise<void> {
    if (this.starting) await this.starting;
    const index = this.topics.indexOf(topic);
    if (index < 0) return;
    if (this.handle) await this.handle.unsubscribe(this.kafkaName(topic));
    this.topics.splice(index, 1);
    this.refreshStatus();
  }

  private async commit(origin: CommitOrigin): Promise<void> {
    if (this.settings.commit === 'auto') throw new ControlError(this.host.t('errors.commit-auto'));
    const handle = this.handle;
    if (!handle) {
      throw new ControlError(this.host.t('errors.commit-not-consuming', { state: this.phase ?? this.config.session.state.state }));
    }
    // msg.diaspora.topic is the Kafka name; the user-facing name is accepted too.
    const topic = this.userNames.has(origin.topic) ? origin.topic : this.kafkaName(origin.topic);
    await handle.commit({ topic, partition: origin.partition, offset: origin.offset });
  }

  /** The Kafka name, or undefined while the identity (which v3 names need) is not known yet. */
  private kafkaNameIfKnown(topic: string): string | undefined {
    if (this.config.api === 'v3' && !this.config.session.subject) return undefined;
    return this.kafkaName(topic);
  }

  private kafkaName(topic: string): string {
    const name = checkTopicName(this.config.kafkaTopic(topic));
    this.userNames.set(name, topic);
    return name;
  }

  /** A crash (restartInMs set: the consumer restarts by itself) or one event that could not be handled. */
  private consumerFailed(error: KafkaClientError, restartInMs: number | undefined): void {
    if (this.closed) return;
    if (restartInMs !== undefined) this.phase = 'restarting';
    this.atInstanceLimit = error.kind === 'instance-limit';
    const reason = this.reason(error);
    const text = restartInMs === undefined ? reason : this.host.t('errors.consumer-failed', { reason });
    this.host.report(new Error(text), this.errorMessage(error.kind));
    this.refreshStatus();
  }

  /** A start that cannot succeed until something changes (a bad topic name, the manager refused). */
  private startFailed(err: Error, groupId: string): void {
    this.phase = 'failed';
    const topics = this.topics.map((t) => `"${t}"`).join(', ');
    this.lastFailure = new Error(this.host.t('errors.consumer-stopped', { topics, group: groupId, reason: this.reason(err) }));
    this.host.report(this.lastFailure, this.errorMessage((err as { kind?: string }).kind ?? 'other'));
    this.refreshStatus();
  }

  /** The error as the user can act on it: an unregistered topic is named, with what to do. */
  private reason(err: Error): string {
    const failure = err as Partial<KafkaClientError>;
    if (failure.kind === 'topic-not-authorized' || failure.kind === 'unknown-topic') {
      const kafkaTopic = failure.topic ?? (this.topics.length === 1 ? this.safeKafkaName(this.topics[0]) : undefined);
      if (kafkaTopic !== undefined) return this.host.t('errors.not-registered', { topic: this.userNames.get(kafkaTopic) ?? kafkaTopic });
    }
    return err.message;
  }

  /** What Catch nodes receive with a consumer failure. */
  private errorMessage(kind: string): object {
    return {
      topic: this.topics.join(','),
      payload: null,
      diaspora: { topics: this.topics.map((t) => this.safeKafkaName(t)), groupId: this.groupId, kind },
    };
  }

  private safeKafkaName(topic: string): string {
    for (const [kafka, user] of this.userNames) if (user === topic) return kafka;
    return topic;
  }

  private refreshStatus(): void {
    if (this.closed) return;
    const failed = this.phase === 'failed' || this.phase === 'restarting';
    const session = this.config.session.state;
    // The session's own error (broker unreachable, key rejected) explains a consumer failure best.
    if (!isReady(session) && (!failed || session.state === 'error')) {
      this.host.show(undefined);
      return;
    }
    this.host.show(this.currentStatus());
  }

  private currentStatus(): NodeStatus {
    const { t, shared } = this.host;
    if (this.phase === 'failed') return problem(t('status.failed'));
    if (this.phase === 'restarting') {
      return problem(this.atInstanceLimit ? t('status.instance-limit', { limit: INSTANCE_LIMIT }) : t('status.restarting'));
    }
    if (this.topics.length === 0) return idle(t('status.idle'));
    if (this.paused) return held(shared('status.paused'));
    switch (this.phase) {
      case 'connected':
        return working(t('status.consuming'));
      case 'error':
        return problem(t('status.restarting'));
      case 'disconnected':
        return problem(shared('status.disconnected'));
      default:
        return waiting(shared('status.connecting'));
    }
  }

  private async stopHandle(handle: ConsumerHandle): Promise<void> {
    try {
      const stopping = handle.stop();
      // The consumer is marked stopped synchronously, so the events still in the flow are not committed.
      this.host.releaseDeliveries();
      const outcome = await withTimeout(stopping, STOP_TIMEOUT_MS);
      if (!outcome.done) this.host.warn(`the consumer did not stop within ${STOP_TIMEOUT_MS / 1000} s`);
    } catch (err) {
      this.host.warn(`stopping the consumer: ${asError(err).message}`);
    }
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * `diaspora-out`: publishes msg.payload to a Diaspora topic through the config node's one shared
 * producer (the SDK's KafkaProducer.send(...).get()). Ack mode sends the msg on with where it was
 * written; fire mode has no output. Every failure ends in done(err), so Catch nodes see it.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import { catalog } from '../shared/catalog';
import { isDiasporaConfigNode, type DiasporaConfigNode } from '../shared/config-node';
import { producerLiveStatus } from '../shared/live-status';
import { OUT_MESSAGES } from './messages';
import { Publisher } from './publisher';
import { buildEvent } from './record';
import { readOutSettings, type DiasporaOutDefFields, type OutSettings } from './settings';

/** Node-RED gives a closing node 15 s; keep a margin for the config node closing after us. */
const CLOSE_TIMEOUT_MS = 8_000;

type DiasporaOutDef = NodeDef & DiasporaOutDefFields;

/** What ack mode adds to the message. */
interface DiasporaOutMetadata {
  topic: string;
  partition: number;
  offset: string;
  timestamp: number;
}

type Done = (err?: Error) => void;

export = function register(RED: NodeAPI): void {
  const t = catalog(RED, 'diaspora-out', OUT_MESSAGES);

  function DiasporaOut(this: Node, def: DiasporaOutDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const configured = RED.nodes.getNode(def.fabric);

    let settings: OutSettings;
    try {
      settings = readOutSettings(def);
    } catch (err) {
      const message = t('errors.bad-config', { message: err instanceof Error ? err.message : String(err) });
      node.error(message);
      refuseInput(node, { fill: 'red', shape: 'ring', text: t('status.bad-config') }, message);
      return;
    }
    if (!isDiasporaConfigNode(configured)) {
      refuseInput(node, { fill: 'red', shape: 'ring', text: t('status.no-config') }, t('errors.no-config'));
      return;
    }
    const config: DiasporaConfigNode = configured;
    const live = producerLiveStatus(node, t, config.id);
    config.register(node);

    /** The queue length, and while the session is in error its reason too (e.g. "broker unreachable · queued: 12"). */
    const queuedStatus = (length: number): NodeStatus => {
      const queued = t('status.queued', { count: length });
      const session = config.statusFor(config.session.state);
      return config.session.state.state === 'error'
        ? { fill: 'red', shape: 'ring', text: `${String(session.text)} · ${queued}` }
        : { fill: 'yellow', shape: 'ring', text: queued };
    };

    const publisher = new Publisher({
      session: config.session,
      kafkaTopic: (topic) => config.kafkaTopic(topic),
      userId: node.id,
      settings,
      t,
      onQueue: (length) => {
        node.status(length > 0 ? queuedStatus(length) : config.statusFor(config.session.state));
      },
    });

    node.on('input', (msg: NodeMessageInFlow, send: (msg: NodeMessage) => void, done: Done) => {
      let event;
      try {
        event = buildEvent(msg, settings);
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      live.started();
      publisher.publish(event, (err, meta) => {
        live.finished(!err);
        if (err) {
          done(err);
          return;
        }
        if (settings.mode === 'ack' && meta) {
          const diaspora: DiasporaOutMetadata = { topic: meta.topic, partition: meta.partition, offset: meta.offset, timestamp: meta.timestamp };
          msg.diaspora = diaspora;
          send(msg);
        }
        done();
      });
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      live.close();
      config.deregister(node);
      publisher.close(CLOSE_TIMEOUT_MS).then(done, (err: unknown) => {
        node.warn(`close: ${err instanceof Error ? err.message : String(err)}`);
        done();
      });
    });
  }

  RED.nodes.registerType('diaspora-out', DiasporaOut as unknown as Parameters<typeof RED.nodes.registerType>[1]);
};

/** A node that cannot work still answers every message, through done(err). */
function refuseInput(node: Node, status: { fill: 'red'; shape: 'ring'; text: string }, message: string): void {
  node.status(status);
  node.on('input', (_msg: NodeMessageInFlow, _send: unknown, done: Done) => done(new Error(message)));
}

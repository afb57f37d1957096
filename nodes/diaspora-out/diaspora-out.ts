/**
 * `diaspora-out`: publishes msg.payload to a Diaspora topic through the config node's one shared
 * producer (the SDK's KafkaProducer.send(...).get()). Ack mode sends the msg on with where it was
 * written; fire mode has no output. Every failure ends in done(err), so Catch nodes see it.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import { catalog } from '../shared/catalog';
import { isDiasporaConfigNode, type DiasporaConfigNode } from '../shared/config-node';
import { noConfigStatus, problem, queuedStatus } from '../shared/status';
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
  const t = catalog(RED, 'diaspora-out');
  const shared = catalog(RED, 'diaspora-config');

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
      refuseInput(node, problem(t('status.bad-config')), message);
      return;
    }
    if (!isDiasporaConfigNode(configured)) {
      refuseInput(node, noConfigStatus(shared), t('errors.no-config'));
      return;
    }
    const config: DiasporaConfigNode = configured;
    config.register(node);

    const publisher = new Publisher({
      session: config.session,
      kafkaTopic: (topic) => config.kafkaTopic(topic),
      userId: node.id,
      settings,
      t,
      onQueue: (length) => {
        node.status(length > 0 ? queuedStatus(length, config.session.state, shared) : config.statusFor(config.session.state));
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
      publisher.publish(event, (err, meta) => {
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
function refuseInput(node: Node, status: NodeStatus, message: string): void {
  node.status(status);
  node.on('input', (_msg: NodeMessageInFlow, _send: unknown, done: Done) => done(new Error(message)));
}

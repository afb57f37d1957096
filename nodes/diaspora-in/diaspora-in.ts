/**
 * `diaspora-in`: consumes one or more Diaspora topics (the SDK's KafkaConsumer) and sends each
 * event on as a message. Control messages (`msg.action`) pause, resume, subscribe, unsubscribe
 * and commit, as the core MQTT node's do; each ends in done() or done(err).
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import { catalog } from '../shared/catalog';
import { isDiasporaConfigNode } from '../shared/config-node';
import { noConfigStatus, problem } from '../shared/status';
import { consumerLiveStatus, liveStatusEnabled } from '../shared/live-status';
import { readControl } from './control';
import { ConsumerController } from './consumer-controller';
import { DownstreamCompletion } from './downstream';
import { readInSettings, type DiasporaInDefFields, type InSettings } from './settings';

type Done = (err?: Error) => void;

export = function register(RED: NodeAPI): void {
  const t = catalog(RED, 'diaspora-in');
  const shared = catalog(RED, 'diaspora-config');
  const liveFigures = liveStatusEnabled(RED);

  function DiasporaIn(this: Node, def: NodeDef & DiasporaInDefFields): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const configured = RED.nodes.getNode(def.fabric);

    const refuseInput = (reason: string): void => {
      node.on('input', (_msg: NodeMessageInFlow, _send: unknown, done: Done) => done(new Error(reason)));
    };
    if (!isDiasporaConfigNode(configured)) {
      node.status(noConfigStatus(shared));
      refuseInput(t('errors.no-config'));
      return;
    }
    let settings: InSettings;
    try {
      settings = readInSettings(def);
    } catch (err) {
      const reason = t('errors.settings', { message: err instanceof Error ? err.message : String(err) });
      node.status(problem(t('status.misconfigured')));
      node.error(reason);
      refuseInput(reason);
      return;
    }
    const config = configured;
    config.register(node);

    const wired = ((def as NodeDef & { wires?: unknown[][] }).wires?.[0] ?? []).filter((id): id is string => typeof id === 'string');
    const live = consumerLiveStatus(node, shared, config.id, () => controller.position, liveFigures);
    const downstream = new DownstreamCompletion(RED, wired, (message) => node.warn(message));
    const controller = new ConsumerController(config, settings, {
      nodeId: node.id,
      send: (msg) => {
        live.mark();
        return downstream.send(msg as NodeMessage, (m) => node.send(m));
      },
      releaseDeliveries: () => downstream.release(),
      report: (err, msg) => node.error(err, msg as NodeMessage),
      show: (status: NodeStatus | undefined) => node.status(status ?? config.statusFor(config.session.state)),
      warn: (message) => node.warn(message),
      t,
      shared,
    });
    controller.begin();

    node.on('input', (msg: NodeMessageInFlow, _send: unknown, done: Done) => {
      let request;
      try {
        request = readControl(msg as NodeMessageInFlow & { action?: unknown; diaspora?: unknown }, t);
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      controller.control(request).then(
        () => done(),
        (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      const finish = (): void => {
        live.close();
        downstream.close();
        config.deregister(node);
        done();
      };
      controller.close().then(finish, (err: unknown) => {
        node.warn(`close: ${err instanceof Error ? err.message : String(err)}`);
        finish();
      });
    });
  }

  RED.nodes.registerType('diaspora-in', DiasporaIn as unknown as Parameters<typeof RED.nodes.registerType>[1]);
};

/**
 * `diaspora-out`: publishes msg.payload to a Diaspora topic through the config node's one shared
 * producer (the SDK's KafkaProducer.send(...).get()). Ack mode sends the msg on with where it was
 * written; fire mode has no output. Every failure ends in done(err), so Catch nodes see it.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import { isReady } from '../../lib/session/machine';
import { formatBytes } from '../../lib/format-bytes';
import { Spool, SpoolDiskError } from '../../lib/spool/spool';
import { catalog } from '../shared/catalog';
import { isDiasporaConfigNode, type DiasporaConfigNode } from '../shared/config-node';
import { liveStatusEnabled, producerLiveStatus } from '../shared/live-status';
import { listSpool } from '../shared/spool-registry';
import { noConfigStatus, problem, queuedStatus, waitingBehind } from '../shared/status';
import { Publisher } from './publisher';
import { buildEvent } from './record';
import { readOutSettings, type DiasporaOutDefFields, type OutSettings } from './settings';

/** Node-RED gives a closing node 15 s; keep a margin for the config node closing after us. */
const CLOSE_TIMEOUT_MS = 8_000;
const MIB = 1024 * 1024;
/** The spool status changes with every event: shown at most this often. */
const SPOOL_STATUS_EVERY_MS = 250;

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
  const liveFigures = liveStatusEnabled(RED);

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
    const live = producerLiveStatus(node, shared, config.id, liveFigures);
    config.register(node);

    /** Depth and size of the spool; a spool problem (full, disk error) in red until the next success. */
    const spoolStatus = (depth: number, bytes: number, trouble?: Error): NodeStatus => {
      const spooled = t('status.spooled', { count: depth, size: formatBytes(bytes) });
      if (trouble?.name === 'SpoolFullError') return problem(`${t('status.spool-full')} · ${spooled}`);
      const disk = trouble instanceof SpoolDiskError ? trouble : trouble?.cause instanceof SpoolDiskError ? trouble.cause : undefined;
      if (disk) return problem(`${t('status.spool-disk', { code: disk.code ?? 'I/O error' })} · ${spooled}`);
      if (depth === 0) return config.statusFor(config.session.state);
      const retrying = trouble && isReady(config.session.state);
      return waitingBehind(retrying ? `${spooled} · ${t('status.spool-retrying')}` : spooled, config.session.state, shared);
    };

    let spoolShownAt = 0;
    let spoolLatest: (() => NodeStatus) | undefined;
    let spoolTimer: NodeJS.Timeout | undefined;
    /** Takes the status as a function: it is only worked out (translated) when shown. */
    const showSpool = (status: () => NodeStatus): void => {
      spoolLatest = status;
      if (spoolTimer) return;
      const wait = spoolShownAt + SPOOL_STATUS_EVERY_MS - Date.now();
      if (wait <= 0) {
        spoolShownAt = Date.now();
        node.status(status());
        return;
      }
      spoolTimer = setTimeout(() => {
        spoolTimer = undefined;
        spoolShownAt = Date.now();
        if (spoolLatest) node.status(spoolLatest());
      }, wait);
    };

    const spool =
      settings.whenNotReady === 'spool'
        ? new Spool({ dir: spoolDir(RED, node.id), maxBytes: settings.spoolSizeMB * MIB, warn: (message) => node.warn(message) })
        : undefined;
    const unlistSpool = spool ? listSpool({ id: node.id, name: node.name ?? '', fabric: config.id, spool }) : undefined;

    const publisher = new Publisher({
      session: config.session,
      kafkaTopic: (topic) => config.kafkaTopic(topic),
      userId: node.id,
      settings,
      t,
      onQueue: (length) => {
        node.status(length > 0 ? queuedStatus(length, config.session.state, shared) : config.statusFor(config.session.state));
      },
      spool,
      onSpool: (depth, bytes, trouble) => showSpool(() => spoolStatus(depth, bytes, trouble)),
      onSpoolRejected: (err) => node.error(t('errors.spool-rejected', { message: err.message })),
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

    node.on('close', (removed: boolean, done: () => void) => {
      live.close();
      unlistSpool?.();
      config.deregister(node);
      if (spoolTimer) clearTimeout(spoolTimer);
      const closing = publisher.close(CLOSE_TIMEOUT_MS).then(async () => {
        // A redeploy or restart keeps the spool; removing the node from the flow deletes it, after saying what goes with it.
        if (!removed || !spool) return;
        if (spool.depth > 0) node.warn(t('warnings.spool-dropped', { count: spool.depth, dir: spool.dir }));
        await spool.destroy();
      });
      closing.then(done, (err: unknown) => {
        node.warn(`close: ${err instanceof Error ? err.message : String(err)}`);
        done();
      });
    });
  }

  RED.nodes.registerType('diaspora-out', DiasporaOut as unknown as Parameters<typeof RED.nodes.registerType>[1]);
};

/** One spool per node, under the Node-RED user directory, named by the node's id (kept across redeploys). */
function spoolDir(RED: NodeAPI, nodeId: string): string {
  const userDir = (RED.settings as { userDir?: string }).userDir ?? path.join(os.homedir(), '.node-red');
  return path.join(userDir, 'diaspora-spool', nodeId.replace(/[^A-Za-z0-9._-]/g, '_'));
}

/** A node that cannot work still answers every message, through done(err). */
function refuseInput(node: Node, status: NodeStatus, message: string): void {
  node.status(status);
  node.on('input', (_msg: NodeMessageInFlow, _send: unknown, done: Done) => done(new Error(message)));
}

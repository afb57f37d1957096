/**
 * `diaspora-config`: the Globus identity, the Diaspora key and readiness, and the one shared
 * connection manager, fanned out to every flow node that uses it (the core MQTT broker node's model).
 */
import type { Node, NodeAPI, NodeDef, NodeStatus } from 'node-red';
import { DiasporaSession } from '../../lib/diaspora-session';
import { kafkaTopicName } from '../../lib/diaspora-service';
import type { SecretStore, SessionSettings, SessionState, StoredSecrets } from '../../lib/session-types';
import type { DiasporaConfigNode } from '../shared/config-node';
import { statusForState } from '../shared/status';
import { registerAdminRoutes } from './admin-routes';
import { readConfigDef, type ConfigDef } from './settings';

const CLOSE_TIMEOUT_MS = 10_000;

const credentialFields = {
  clientSecret: { type: 'password' },
  tokens: { type: 'password' },
  accessKey: { type: 'password' },
  secretKey: { type: 'password' },
  endpoint: { type: 'text' },
  keyCreatedAt: { type: 'text' },
  ca: { type: 'text' },
} as const;

type ConfigNode = DiasporaConfigNode & Node<StoredSecrets>;

export = function register(RED: NodeAPI): void {
  function DiasporaConfig(this: ConfigNode, def: NodeDef & ConfigDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const users = new Map<string, Node>();
    const t = (key: string, subs?: Record<string, string | number>): string =>
      RED._(`diaspora-config.${key}`, subs);

    let settings: SessionSettings;
    let configError: string | undefined;
    try {
      settings = readConfigDef(def, node.id);
    } catch (err) {
      configError = err instanceof Error ? err.message : String(err);
      settings = readConfigDef({ ...def, serviceUrl: 'http://127.0.0.1', authUrl: 'http://127.0.0.1' }, node.id);
    }

    const store: SecretStore = {
      load: () => ({ ...(node.credentials ?? {}) }),
      save: (secrets: StoredSecrets) => {
        node.credentials = { ...secrets };
        void RED.nodes.addCredentials(node.id, secrets);
      },
    };
    const log = {
      debug: (m: string) => node.debug(m),
      info: (m: string) => node.log(m),
      warn: (m: string) => node.warn(m),
      error: (m: string) => node.error(m),
    };
    const session = new DiasporaSession(settings, store, log);

    Object.defineProperty(node, 'session', { value: session, enumerable: false });
    Object.defineProperty(node, 'api', { value: settings.api, enumerable: false });

    node.statusFor = (state: SessionState): NodeStatus => statusForState(state, t);
    node.kafkaTopic = (topic: string): string => kafkaTopicName(settings.api, session.subject ?? '', topic);
    node.register = (user: Node): void => {
      users.set(user.id, user);
      user.status(node.statusFor(session.state));
    };
    node.deregister = (user: Node): void => {
      users.delete(user.id);
    };

    session.on('state', (state: SessionState) => {
      const status = node.statusFor(state);
      for (const user of users.values()) user.status(status);
    });

    if (configError) {
      node.error(`configuration: ${configError}`);
      session.reportMisconfiguration(configError);
    } else {
      void session.start();
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      users.clear();
      session.close(CLOSE_TIMEOUT_MS).then(done, (err: unknown) => {
        node.warn(`close: ${err instanceof Error ? err.message : String(err)}`);
        done();
      });
    });
  }

  RED.nodes.registerType('diaspora-config', DiasporaConfig as unknown as Parameters<typeof RED.nodes.registerType>[1], {
    credentials: credentialFields,
  });
  registerAdminRoutes(RED);
};

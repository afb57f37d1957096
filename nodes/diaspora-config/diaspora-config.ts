/**
 * `diaspora-config`: the Globus identity, the Diaspora key and readiness, and the one shared
 * connection manager, fanned out to every flow node that uses it (the core MQTT broker node's model).
 */
import type { Node, NodeAPI, NodeDef, NodeStatus } from 'node-red';
import { DiasporaSession } from '../../lib/session/session';
import { kafkaTopicName } from '../../lib/diaspora-service/service';
import type { SecretStore, SessionSettings, SessionState, StoredSecrets } from '../../lib/session/types';
import type { DiasporaConfigNode } from '../shared/config-node';
import type { Translate } from '../shared/catalog';
import { statusForState } from '../shared/status';
import { listConfig } from '../shared/live-registry';
import { registerAdminRoutes } from './admin-routes';
import { CONFIG_CREDENTIALS } from './schema';
import { inertSettings, readConfigDef, type ConfigDef } from './settings';
import { mergeSecrets, openSecretFile, type SecretFile } from './secret-file';
import { requireResolved, withEditorFields } from './environment';
import { credentialKey, readSetting, type SettingsReader } from '../shared/node-red-internals';

const CLOSE_TIMEOUT_MS = 10_000;

/** The editor edits only the user-typed credentials (schema.ts); the runtime writes the rest. */
const credentialFields = Object.fromEntries(Object.entries(CONFIG_CREDENTIALS).map(([name, spec]) => [name, { type: spec.type }]));

type ConfigNode = DiasporaConfigNode & Node<StoredSecrets>;

export = function register(RED: NodeAPI): void {
  // Node-RED's own lookup, without the English fallback the flow nodes use: the tests on the
  // helper runtime (whose RED._ returns the key) check the shared vocabulary's keys through it.
  const t: Translate = (key, subs) => RED._(`diaspora-config.${key}`, subs);

  function DiasporaConfig(this: ConfigNode, def: NodeDef & ConfigDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const users = new Map<string, Node>();

    // As the user wrote them, before Node-RED replaced `${NAME}` references with their values.
    const written = RED.nodes.getCredentials(node.id) as StoredSecrets | undefined;
    const file = secretFileFor(RED, node.id);
    const fromFile = file?.read();
    if (fromFile) node.credentials = mergeSecrets(node.credentials ?? {}, fromFile);
    const store: SecretStore = {
      load: () => ({ ...(node.credentials ?? {}) }),
      save: (secrets: StoredSecrets) => {
        node.credentials = { ...secrets };
        void RED.nodes.addCredentials(node.id, withEditorFields(secrets, written));
        try {
          file?.write(secrets);
        } catch (err) {
          node.warn(`could not keep the sign-in and key for the next restart in ${file?.file}: ${err instanceof Error ? err.message : String(err)}`);
        }
      },
    };
    const log = {
      debug: (m: string) => node.debug(m),
      info: (m: string) => node.log(m),
      warn: (m: string) => node.warn(m),
      error: (m: string) => node.error(m),
    };

    // A node with settings it cannot use still exists (its users need its status), in error.
    let configError: string | undefined;
    let settings: SessionSettings;
    let session: DiasporaSession;
    try {
      settings = readConfigDef(def, node.id);
      if (settings.authMode === 'client') requireResolved(node.credentials?.clientSecret, 'the client secret');
      session = new DiasporaSession(settings, store, log);
    } catch (err) {
      configError = err instanceof Error ? err.message : String(err);
      settings = inertSettings(node.id);
      session = new DiasporaSession(settings, { load: () => ({}), save: () => undefined }, log);
    }

    Object.defineProperty(node, 'session', { value: session, enumerable: false });
    Object.defineProperty(node, 'api', { value: settings.api, enumerable: false });

    node.statusFor = (state: SessionState): NodeStatus => statusForState(state, t);
    // Asked for every published event: the last answer is kept (it depends on the subject too).
    let lastTopic: { topic: string; subject: string; kafka: string } | undefined;
    node.kafkaTopic = (topic: string): string => {
      const subject = session.subject ?? '';
      if (lastTopic?.topic === topic && lastTopic.subject === subject) return lastTopic.kafka;
      const kafka = kafkaTopicName(settings.api, subject, topic);
      lastTopic = { topic, subject, kafka };
      return kafka;
    };
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

    const unlist = listConfig(node.id, settings.label, session);
    if (configError) {
      node.error(`configuration: ${configError}`);
      session.reportMisconfiguration(configError);
    } else {
      void session.start();
    }

    node.on('close', (removed: boolean, done: () => void) => {
      unlist();
      users.clear();
      if (removed) file?.remove();
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

/**
 * The node's secret file in the Node-RED user directory, keyed with Node-RED's credential secret;
 * undefined where there is no user directory or no known key (e.g. the test helper).
 */
function secretFileFor(RED: NodeAPI, nodeId: string): SecretFile | undefined {
  const settings = RED.settings as unknown as SettingsReader;
  const userDir = readSetting(settings, 'userDir');
  if (typeof userDir !== 'string' || userDir === '') return undefined;
  const key = credentialKey(settings);
  return key === undefined ? undefined : openSecretFile(userDir, nodeId, key);
}

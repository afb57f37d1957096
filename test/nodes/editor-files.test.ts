/**
 * The editor side of the four nodes and the example flows, checked without a browser: each
 * built `<type>.html` (templates + the bundled editor code, as shipped) is run in a sandbox with a stand-in `RED` (so syntax errors, the registered
 * definition and every translation lookup are real), and the templates, catalogs, help files,
 * icons and examples are checked against it.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PRODUCTION_AUTH_URL, PRODUCTION_SERVICE_URL, SDK_NATIVE_CLIENT_ID } from '../../lib/globus/constants';
import {
  catalogs,
  editorScript,
  loadEditor,
  lookup,
  nodeDir,
  read,
  examplesDir,
  helpFile,
  scripts,
  template,
  TYPES,
  type Catalog,
  type EditorDef,
  type NodeType,
} from '../fixtures/editor-bundle';

const FLOW_TYPES: readonly NodeType[] = ['diaspora-topic', 'diaspora-out', 'diaspora-in'];

/** The property names other parts of the project rely on (issues 3 and 4). */
const CONTRACT: Record<NodeType, readonly string[]> = {
  'diaspora-config': ['name', 'api', 'transport', 'serviceUrl', 'authUrl', 'clientId', 'authMode', 'brokers', 'kafkaAuth', 'tls', 'readyTimeout', 'preset', 'version'],
  'diaspora-topic': ['name', 'fabric', 'action', 'topic'],
  'diaspora-out': ['name', 'fabric', 'topic', 'key', 'mode', 'acks', 'compression', 'whenNotReady', 'queueSize', 'spoolSizeMB', 'outputs'],
  'diaspora-in': ['name', 'fabric', 'topics', 'start', 'groupId', 'format', 'commit', 'window'],
};

/** Credentials the user types in the dialog, and those only the runtime writes (no input, so a save never clobbers them). */
const USER_CREDENTIALS = ['clientSecret', 'ca'];
const RUNTIME_CREDENTIALS = ['tokens', 'tokensFor', 'accessKey', 'secretKey', 'endpoint', 'keyCreatedAt', 'keyFor'];

/** Values each validator must refuse. */
const BAD_VALUES: Record<NodeType, Record<string, unknown[]>> = {
  'diaspora-config': {
    api: ['v2', ''],
    transport: ['mqtt', ''],
    serviceUrl: ['ftp://example.org', 'example.org', ''],
    authUrl: ['not a url'],
    authMode: ['device'],
    brokers: ['localhost', 'host:port', 'a:1, b'],
    kafkaAuth: ['plain'],
    readyTimeout: [-1, 0, 'soon'],
    preset: ['staging'],
  },
  'diaspora-topic': { action: ['delete', ''], topic: ['has space', 'a/b'] },
  'diaspora-out': {
    topic: ['two words'],
    mode: ['sync'],
    acks: ['1'],
    compression: ['zstd'],
    whenNotReady: ['drop'],
    queueSize: [-1, 1.5, 'many'],
    spoolSizeMB: [0, -1, 'big', ''],
  },
  'diaspora-in': {
    topics: ['', ' , ', 'ok, not ok'],
    start: ['beginning'],
    format: ['xml'],
    commit: ['sometimes'],
    groupId: ['bell\u0007group', 'g'.repeat(250)],
    window: [0, '-1', '2.5', 'many', 10_001],
  },
};

/** Values each validator must accept besides the defaults. */
const GOOD_VALUES: Record<NodeType, Record<string, unknown[]>> = {
  'diaspora-config': {
    brokers: ['', '127.0.0.1:19092', 'b-1.example.com:9198, b-2.example.com:9198', '[::1]:9092'],
    serviceUrl: ['http://127.0.0.1:19090'],
    readyTimeout: [1, '600'],
  },
  'diaspora-topic': { topic: ['', 'topic-abc123', 'ns-0123456789ab.readings'] },
  'diaspora-out': { queueSize: [0, '50'], topic: [''], spoolSizeMB: [1, '0.5', 2048] },
  'diaspora-in': { topics: ['a-topic', 'a-topic, b_topic,c.topic'], groupId: ['', 'lab group 1'], window: ['', 1, '256', 10_000] },
};

const TOPIC_PICKER_TYPES: readonly NodeType[] = FLOW_TYPES;

/** Required properties that start empty: a new node is flagged until the user fills them. */
const MUST_FILL: Record<NodeType, readonly string[]> = {
  'diaspora-config': [],
  'diaspora-topic': [],
  'diaspora-out': [],
  'diaspora-in': ['topics'],
};

function fieldId(type: NodeType, prop: string): string {
  return type === 'diaspora-config' ? `node-config-input-${prop}` : `node-input-${prop}`;
}

function hasElementWithId(html: string, id: string): boolean {
  return new RegExp(`\\sid="${id}"`).test(html);
}

/** `<select id="...">` → its option values. */
function selects(html: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const match of html.matchAll(/<select\b[^>]*\sid="([^"]+)"[^>]*>([\s\S]*?)<\/select>/g)) {
    const options = [...(match[2] ?? '').matchAll(/<option\b[^>]*\svalue="([^"]*)"/g)].map((m) => m[1] ?? '');
    found.set(match[1] ?? '', options);
  }
  return found;
}

/** Keys of every `data-i18n` attribute, without `[placeholder]`-style targets. */
function i18nKeys(html: string): string[] {
  const keys: string[] = [];
  for (const match of html.matchAll(/data-i18n="([^"]+)"/g)) {
    for (const entry of (match[1] ?? '').split(';')) keys.push(entry.replace(/^\[[^\]]*\]/, '').trim());
  }
  return keys;
}

function nodeWithDefaults(def: EditorDef, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const node: Record<string, unknown> = {};
  for (const [prop, spec] of Object.entries(def.defaults)) node[prop] = spec.value;
  return { ...node, ...overrides };
}

/** Node-RED's rule: required means not ''; then the validator must return exactly true. */
function validity(def: EditorDef, prop: string, node: Record<string, unknown>): true | string {
  const spec = def.defaults[prop];
  assert.ok(spec, `no property ${prop}`);
  const value = node[prop];
  if (spec.required && value === '') return 'required';
  if (!spec.validate) return true;
  const result = spec.validate.call(node, value, {});
  if (result === true) return true;
  return typeof result === 'string' ? result : `invalid (${String(result)})`;
}

function flatten(catalog: Catalog | string, prefix = ''): Array<[string, string]> {
  if (typeof catalog === 'string') return [[prefix, catalog]];
  return Object.entries(catalog).flatMap(([key, value]) => flatten(value, prefix ? `${prefix}.${key}` : key));
}

// ---- tests -------------------------------------------------------------------------------------

describe('editor files', function () {
  const editor = loadEditor();
  const defOf = (type: NodeType): EditorDef => {
    const def = editor.defs.get(type);
    assert.ok(def, `${type} was not registered`);
    return def;
  };

  it('registers each type once, from the file named after it, with a literal type string', function () {
    assert.deepEqual(editor.registeredTypes, [...TYPES]);
    for (const type of TYPES) {
      const literals = [...editorScript(type).matchAll(/RED\.nodes\.registerType\(\s*'([^']+)'/g)].map((m) => m[1]);
      assert.deepEqual(literals, [type], `${type}.html calls registerType('${type}', ...) exactly once`);
    }
  });

  it('gives the family one colour, the Diaspora palette category and a unique icon of its own', function () {
    const colours = new Set(TYPES.map((type) => defOf(type).color));
    assert.equal(colours.size, 1, `one colour for every node, got ${[...colours].join(', ')}`);
    assert.equal(defOf('diaspora-config').category, 'config');
    const icons = new Set<string>();
    for (const type of FLOW_TYPES) {
      const def = defOf(type);
      assert.equal(def.category, 'Diaspora', type);
      assert.equal(def.icon, `${type}.svg`, `${type} icon name`);
      const icon = path.join(nodeDir(type), 'icons', def.icon);
      assert.ok(fs.existsSync(icon), `${icon} exists`);
      const svg = read(icon);
      assert.match(svg, /<svg[^>]*viewBox="0 0 40 60"/, `${type} icon is 40x60`);
      assert.doesNotMatch(svg.replace(/fill="#fff"/g, ''), /fill="#(?!fff)/i, `${type} icon is white only`);
      icons.add(def.icon);
    }
    assert.equal(icons.size, FLOW_TYPES.length, 'icon file names are unique');
  });

  it('declares exactly the contract properties, with ports as the issues give them', function () {
    for (const type of TYPES) {
      assert.deepEqual(Object.keys(defOf(type).defaults).sort(), [...CONTRACT[type]].sort(), `${type} properties`);
    }
    for (const type of FLOW_TYPES) {
      const fabric = defOf(type).defaults.fabric;
      assert.deepEqual(fabric && { type: fabric.type, required: fabric.required }, { type: 'diaspora-config', required: true }, `${type}.fabric`);
    }
    assert.deepEqual([defOf('diaspora-topic').inputs, defOf('diaspora-topic').outputs], [1, 1]);
    assert.deepEqual([defOf('diaspora-out').inputs, defOf('diaspora-out').outputs], [1, 1]);
    assert.deepEqual([defOf('diaspora-in').inputs, defOf('diaspora-in').outputs], [1, 1]);
    assert.equal(defOf('diaspora-out').defaults.outputs?.value, 1, 'diaspora-out starts in ack mode with one output');
    assert.match(
      String(defOf('diaspora-out').oneditsave),
      /#node-input-outputs[\s\S]*fire/,
      'oneditsave sets outputs from the mode',
    );
  });

  it('declares the credentials the runtime stores, with a form field only for those the user types', function () {
    const credentials = defOf('diaspora-config').credentials ?? {};
    assert.deepEqual(Object.keys(credentials).sort(), [...USER_CREDENTIALS, ...RUNTIME_CREDENTIALS].sort());
    for (const secret of ['clientSecret', 'tokens', 'accessKey', 'secretKey']) {
      assert.equal(credentials[secret]?.type, 'password', `${secret} is a password credential`);
    }
    const html = template('diaspora-config');
    for (const cred of USER_CREDENTIALS) {
      assert.ok(hasElementWithId(html, fieldId('diaspora-config', cred)), `field for credential ${cred}`);
    }
    assert.match(html, /<input type="password" id="node-config-input-clientSecret"/);
    for (const cred of RUNTIME_CREDENTIALS) {
      assert.ok(!hasElementWithId(html, fieldId('diaspora-config', cred)), `no field for runtime-managed credential ${cred}`);
    }
    for (const type of FLOW_TYPES) assert.equal(defOf(type).credentials, undefined, `${type} has no credentials`);
  });

  it('has a form field with the right id for every property', function () {
    for (const type of TYPES) {
      const html = template(type);
      for (const prop of Object.keys(defOf(type).defaults)) {
        assert.ok(hasElementWithId(html, fieldId(type, prop)), `${type}: #${fieldId(type, prop)}`);
      }
    }
  });

  it('accepts its defaults and the good values, and refuses bad values with a translated reason', function () {
    for (const type of TYPES) {
      const def = defOf(type);
      for (const prop of Object.keys(def.defaults)) {
        if (def.defaults[prop]?.type) continue; // the config-node reference is checked by Node-RED itself
        const expected = MUST_FILL[type].includes(prop) ? 'required' : true;
        assert.equal(validity(def, prop, nodeWithDefaults(def)), expected, `${type}.${prop} default`);
      }
      for (const [prop, values] of Object.entries(GOOD_VALUES[type])) {
        for (const value of values) {
          assert.equal(validity(def, prop, nodeWithDefaults(def, { [prop]: value })), true, `${type}.${prop} = ${JSON.stringify(value)}`);
        }
      }
      for (const [prop, values] of Object.entries(BAD_VALUES[type])) {
        for (const value of values) {
          const result = validity(def, prop, nodeWithDefaults(def, { [prop]: value }));
          assert.notEqual(result, true, `${type}.${prop} = ${JSON.stringify(value)} must be refused`);
          assert.doesNotMatch(String(result), /^diaspora-/, `${type}.${prop} reason is translated, got ${String(result)}`);
        }
      }
    }
  });

  it('requires a confidential client id for client credentials, not the public SDK client', function () {
    const def = defOf('diaspora-config');
    const client = (clientId: string) => validity(def, 'clientId', nodeWithDefaults(def, { authMode: 'client', clientId }));
    assert.notEqual(client(''), true);
    assert.notEqual(client(SDK_NATIVE_CLIENT_ID), true);
    assert.equal(client('0b6a6b1c-1111-4a4a-9a9a-222233334444'), true);
    assert.equal(validity(def, 'clientId', nodeWithDefaults(def, { authMode: 'user' })), true);
  });

  it('offers in each select exactly the values its validator accepts', function () {
    for (const type of TYPES) {
      const def = defOf(type);
      for (const [id, options] of selects(template(type))) {
        const prop = id.replace(/^node-(config-)?input-/, '');
        assert.ok(def.defaults[prop], `${type}: select #${id} is a property`);
        assert.ok(options.length >= 2, `${type}: #${id} has options`);
        assert.ok(options.includes(String(def.defaults[prop]?.value)), `${type}.${prop} default is an option`);
        for (const option of options) {
          assert.equal(validity(def, prop, nodeWithDefaults(def, { [prop]: option })), true, `${type}.${prop} option ${option}`);
        }
      }
    }
  });

  it('uses the SDK client id and production URLs of lib/globus-constants', function () {
    const defaults = defOf('diaspora-config').defaults;
    assert.equal(defaults.clientId?.value, SDK_NATIVE_CLIENT_ID);
    assert.equal(defaults.serviceUrl?.value, PRODUCTION_SERVICE_URL);
    assert.equal(defaults.authUrl?.value, PRODUCTION_AUTH_URL);
    assert.equal(defaults.readyTimeout?.value, 300);
    assert.equal(defaults.version?.value, 1);
    assert.equal(defaults.preset?.value, 'production');
    assert.deepEqual(
      ['api', 'kafkaAuth', 'tls', 'authMode'].map((p) => defaults[p]?.value),
      ['v3', 'msk-iam', true, 'user'],
      'the defaults are the Production preset',
    );
  });

  it('gives every flow node the shared topic picker (bundled in, not hung on the config node type)', function () {
    assert.equal((defOf('diaspora-config') as unknown as Record<string, unknown>).diaspora, undefined, 'nothing is hung on the config node type');
    for (const type of TOPIC_PICKER_TYPES) {
      assert.match(editorScript(type), /attachTopicPicker\(/, `${type} uses the topic picker`);
    }
    const config = editorScript('diaspora-config');
    for (const route of ['/topics', '/state', '/signin/start', '/signin/finish', '/signout', '/newkey', 'fabric-preset']) {
      assert.ok(config.includes(`'${route}'`) || config.includes(`"${route}"`), `the config dialog calls ${route}`);
    }
  });

  it('labels every template string from its own catalog', function () {
    for (const type of TYPES) {
      const catalog = catalogs.get(type) ?? {};
      const keys = i18nKeys(template(type));
      assert.ok(keys.length > 5, `${type} template is translated`);
      for (const key of keys) {
        assert.ok(!key.includes(':'), `${type}: ${key} uses the node's own namespace`);
        assert.ok(key.startsWith(`${type}.`), `${type}: ${key} is under "${type}."`);
        assert.equal(typeof lookup(catalog, key), 'string', `${type}: catalog has ${key}`);
      }
    }
  });

  it('finds every key the editor code translates', function () {
    for (const type of TYPES) {
      // The bundler may rename a module's `t` (t2, t3...) and quotes strings its own way; a key's
      // first part names the catalog it belongs to (the shared modules use diaspora-config's).
      for (const match of editorScript(type).matchAll(/\bt\d*\(\s*["'`]([^"'`$]+)["'`]/g)) {
        const key = match[1] ?? '';
        if (key.endsWith('.')) continue; // a prefix completed at run time: covered below
        const owner = key.slice(0, key.indexOf('.')) as NodeType;
        assert.ok(TYPES.includes(owner), `${type}: ${key} names a node's catalog`);
        assert.equal(typeof lookup(catalogs.get(owner) ?? {}, key), 'string', `${type}: catalog ${owner} has ${key}`);
      }
    }
    const config = catalogs.get('diaspora-config') ?? {};
    const dynamic = [
      ...['production', 'local'].map((p) => `nodeLabel.${p}`),
      ...['starting', 'signin-required', 'creating-key', 'ready'].map((s) => `state.${s}`),
      ...['refresh-revoked', 'service-unreachable', 'timed-out', 'key-rejected', 'auth-failed', 'misconfigured', 'broker-unreachable'].map(
        (r) => `status.reason.${r}`,
      ),
    ];
    for (const key of dynamic) assert.equal(typeof lookup(config, `diaspora-config.${key}`), 'string', `diaspora-config.${key}`);
    for (const action of ['register', 'unregister', 'list']) {
      assert.equal(typeof lookup(catalogs.get('diaspora-topic') ?? {}, `diaspora-topic.nodeLabel.${action}`), 'string');
    }

    // Run the label functions as the editor does; every lookup they make must resolve.
    for (const type of TYPES) {
      const def = defOf(type);
      const variants = [nodeWithDefaults(def), nodeWithDefaults(def, { name: 'named' }), nodeWithDefaults(def, { preset: 'custom', topic: 'x', topics: 'x', action: 'list' })];
      for (const node of variants) {
        const label = def.label?.call(node);
        assert.ok(typeof label === 'string' && label.length > 0 && !label.startsWith(`${type}.`), `${type} label "${String(label)}"`);
      }
      const palette = def.paletteLabel?.call(def);
      assert.ok(typeof palette === 'string' && palette.length > 0 && !palette.startsWith(type + '.'), `${type} palette label`);
      if (def.inputLabels) def.inputLabels.call(nodeWithDefaults(def), 0);
      if (def.outputLabels) def.outputLabels.call(nodeWithDefaults(def), 0);
    }
    assert.deepEqual([...editor.missing], [], 'translation keys the code asked for and no catalog has');
  });

  it('keeps each catalog under its type, and every status text under 20 characters', function () {
    for (const type of TYPES) {
      const catalog = catalogs.get(type) ?? {};
      assert.deepEqual(Object.keys(catalog), [type], `${type}.json has one top-level key, "${type}"`);
      const node = catalog[type];
      assert.ok(node && typeof node === 'object');
      for (const [key, text] of flatten(node.status ?? {}, 'status')) {
        const shown = text.replace(/__\w+__/g, '99999');
        assert.ok(shown.length < 20, `${type}.${key} "${shown}" is ${shown.length} characters`);
      }
    }
    const status = (lookup(catalogs.get('diaspora-config') ?? {}, 'diaspora-config.status') ?? {}) as Catalog;
    for (const key of ['signin-required', 'creating-key', 'waiting-key', 'waiting-key-seconds', 'ready', 'error', 'connecting', 'disconnected', 'queued', 'paused']) {
      assert.equal(typeof status[key], 'string', `shared status vocabulary has status.${key}`);
    }
    assert.equal(status['queued'], 'queued: __count__');
  });

  it('has help whose first paragraph is the tooltip, with the Node-RED sections', function () {
    for (const type of TYPES) {
      const blocks = scripts(read(helpFile(type)), new RegExp(`type="text/html"\\s+data-help-name="${type}"`));
      assert.equal(blocks.length, 1, `${type} help block`);
      const help = blocks[0] ?? '';
      assert.match(help, /^\s*<p>[^<]{20,}/, `${type}: the help starts with a paragraph (the tooltip)`);
      const sections = [...help.matchAll(/<h3>([^<]+)<\/h3>/g)].map((m) => m[1]);
      const expected = type === 'diaspora-config' ? ['Details', 'References'] : ['Inputs', 'Outputs', 'Details', 'References'];
      for (const section of expected) assert.ok(sections.includes(section), `${type} help has ${section}`);
      assert.match(help, /<dl class="message-properties">/, `${type} help lists properties Node-RED's way`);
    }
  });
});

describe('example flows', function () {
  const editor = loadEditor();
  const coreTypes = new Set<string>();
  const coreDir = path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core');
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.html')) {
        for (const m of read(full).matchAll(/registerType\(\s*["']([^"']+)["']/g)) coreTypes.add(m[1] ?? '');
      }
    }
  };
  walk(coreDir);
  const files = fs.readdirSync(examplesDir).filter((f) => f.endsWith('.json')).sort();

  interface FlowNode {
    id: string;
    type: string;
    z?: string;
    wires?: string[][];
    [prop: string]: unknown;
  }

  it('has the three examples the issues ask for', function () {
    assert.ok(coreTypes.has('inject') && coreTypes.has('debug') && coreTypes.has('function'), 'read the core node types');
    for (const label of ['register a topic, publish and consume', 'consume from the earliest event', 'lab instrument pipeline', 'instrument behind a firewall (HTTPS only)']) {
      assert.ok(files.includes(`${label}.json`), `examples/${label}.json`);
    }
  });

  for (const file of files) {
    it(`"${file}" uses core and Diaspora nodes only, all wired and configured validly`, function () {
      const flow = JSON.parse(read(path.join(examplesDir, file))) as FlowNode[];
      assert.ok(Array.isArray(flow) && flow.length > 0);
      const ids = new Set(flow.map((n) => n.id));
      assert.equal(ids.size, flow.length, 'node ids are unique');
      for (const node of flow) {
        assert.ok(coreTypes.has(node.type) || (TYPES as readonly string[]).includes(node.type), `${node.type} is a core or Diaspora node`);
        for (const port of node.wires ?? []) for (const target of port) assert.ok(ids.has(target), `${node.id} wires to ${target}`);
      }
      assert.ok(flow.some((n) => n.type === 'comment' && String(n.info ?? '').length > 100), 'a Comment node explains the flow');

      const configs = flow.filter((n) => n.type === 'diaspora-config');
      assert.equal(configs.length, 1, 'the example carries its own diaspora-config');
      const config = configs[0] as FlowNode;
      assert.equal(config.z, undefined, 'config nodes are not on a tab');
      // The HTTPS transport needs API v3; the Kafka examples use the Local fabric's v1.
      assert.deepEqual(
        ['preset', 'api', 'kafkaAuth', 'serviceUrl', 'authUrl', 'brokers', 'tls'].map((p) => config[p]),
        ['local', config.transport === 'https' ? 'v3' : 'v1', 'scram-sha-512', 'http://127.0.0.1:19090', 'http://127.0.0.1:19091', '127.0.0.1:19092', false],
        'the Local fabric settings',
      );

      for (const node of flow) {
        const def = editor.defs.get(node.type);
        if (!def) continue;
        assert.deepEqual(Object.keys(node).filter((k) => !['id', 'type', 'z', 'x', 'y', 'wires', 'credentials'].includes(k)).sort(), Object.keys(def.defaults).sort(), `${node.type} ${node.id} has exactly its properties`);
        // An example may carry credentials only as references to environment variables, never a secret.
        for (const [field, value] of Object.entries((node.credentials as Record<string, unknown> | undefined) ?? {})) {
          assert.match(String(value), /^\$\{\w+\}$/, `${node.type} ${node.id} carries the credential ${field} as a value, not as a \${NAME} reference`);
        }
        for (const prop of Object.keys(def.defaults)) {
          if (def.defaults[prop]?.type) {
            assert.equal(node[prop], config.id, `${node.id}.${prop} names the example's config node`);
            continue;
          }
          assert.equal(validity(def, prop, node), true, `${node.type} ${node.id}.${prop} = ${JSON.stringify(node[prop])}`);
        }
        if (node.type === 'diaspora-out') {
          const outputs = node.mode === 'fire' ? 0 : 1;
          assert.equal(node.outputs, outputs, `${node.id} outputs match its mode`);
          assert.equal((node.wires ?? []).length, outputs, `${node.id} ports match its mode`);
        }
      }
    });
  }

  it('uses every Diaspora node type at least once', function () {
    const used = new Set(files.flatMap((file) => (JSON.parse(read(path.join(examplesDir, file))) as FlowNode[]).map((n) => n.type)));
    for (const type of TYPES) assert.ok(used.has(type), `${type} appears in an example`);
  });
});

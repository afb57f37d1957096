/**
 * A property missing from an imported flow gets the same value in the dialog and at run time: for
 * every property of every node, the runtime's settings reader given a flow without it reads the same
 * settings as given the default of the shipped editor bundle (dist/nodes/<type>/<type>.html, run in
 * a sandbox), which is what Node-RED puts in the dialog for a missing property.
 */
import assert from 'node:assert/strict';
import { readConfigDef, type ConfigDef } from '../../../nodes/diaspora-config/settings';
import { readInSettings, type DiasporaInDefFields } from '../../../nodes/diaspora-in/settings';
import { readOutSettings, type DiasporaOutDefFields } from '../../../nodes/diaspora-out/settings';
import { readTopicSettings } from '../../../nodes/diaspora-topic/settings';
import { CONFIG_SCHEMA } from '../../../nodes/diaspora-config/schema';
import { IN_SCHEMA } from '../../../nodes/diaspora-in/schema';
import { OUT_SCHEMA } from '../../../nodes/diaspora-out/schema';
import { TOPIC_SCHEMA } from '../../../nodes/diaspora-topic/schema';
import type { Schema } from '../../../nodes/shared/schema';
import { loadEditor, TYPES, type NodeType } from '../../fixtures/editor-bundle';

type Def = Record<string, unknown>;

/** Each node's runtime reader, and values for the properties whose default the reader refuses (a flow node needs topics). */
const RUNTIME: Record<NodeType, { schema: Schema; read(def: Def): unknown; filled?: Def }> = {
  'diaspora-config': { schema: CONFIG_SCHEMA, read: (def) => readConfigDef(def as ConfigDef, 'cfg-1') },
  'diaspora-topic': { schema: TOPIC_SCHEMA, read: (def) => readTopicSettings(def) },
  'diaspora-out': { schema: OUT_SCHEMA, read: (def) => readOutSettings(def as unknown as DiasporaOutDefFields) },
  'diaspora-in': { schema: IN_SCHEMA, read: (def) => readInSettings(def as unknown as DiasporaInDefFields), filled: { topics: 'a-topic' } },
};

describe('unit: a property missing from a flow gets the same value in the dialog and at run time', function () {
  const editor = loadEditor();

  for (const type of TYPES) {
    describe(type, function () {
      const def = editor.defs.get(type);
      const runtime = RUNTIME[type];

      it('the shipped editor declares exactly the schema\'s properties, with its defaults', function () {
        assert.ok(def, `${type} registered`);
        assert.deepEqual(Object.keys(def.defaults).sort(), Object.keys(runtime.schema).sort());
        for (const [name, spec] of Object.entries(runtime.schema)) assert.deepEqual(def.defaults[name]?.value, spec.value, `${type}.${name}`);
      });

      for (const name of Object.keys(runtime.schema)) {
        it(`${name}`, function () {
          assert.ok(def);
          const dialogDefault = def.defaults[name]?.value;
          // A complete flow as the editor writes it, then the same flow without this one property.
          const complete: Def = { id: 'n1', type, fabric: 'cfg-1' };
          for (const [prop, spec] of Object.entries(def.defaults)) complete[prop] = spec.value;
          Object.assign(complete, runtime.filled);
          const withDialogDefault = { ...complete, [name]: dialogDefault };
          const without = { ...complete };
          delete without[name];
          assert.deepEqual(runtime.read(without), runtime.read(withDialogDefault), `${type}.${name}: runtime value without it = value of the dialog's default (${JSON.stringify(dialogDefault)})`);
        });
      }
    });
  }

  it('reads a diaspora-config imported without kafkaAuth and tls as the dialog shows it: MSK IAM over TLS', function () {
    const settings = readConfigDef({ name: 'bare' }, 'cfg-1');
    assert.equal(settings.kafkaAuth, 'msk-iam');
    assert.equal(settings.tls, true);
    const shown = editor.defs.get('diaspora-config')?.defaults;
    assert.deepEqual([shown?.kafkaAuth?.value, shown?.tls?.value], ['msk-iam', true]);
  });
});

/**
 * A flow deployed without its nodes' properties (written by hand or by an older version), opened in
 * Chromium against a real Node-RED: every dialog field shows the value the runtime's settings reader
 * uses for the missing property. (test/unit/nodes/defaults-parity.test.ts checks the same for the
 * bundles' defaults without a browser; this is what a person sees.)
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { readConfigDef, type ConfigDef } from '../../nodes/diaspora-config/settings';
import { CONFIG_SCHEMA } from '../../nodes/diaspora-config/schema';
import { readInSettings, type DiasporaInDefFields } from '../../nodes/diaspora-in/settings';
import { IN_SCHEMA } from '../../nodes/diaspora-in/schema';
import { readOutSettings, type DiasporaOutDefFields } from '../../nodes/diaspora-out/settings';
import { OUT_SCHEMA } from '../../nodes/diaspora-out/schema';
import { readTopicSettings } from '../../nodes/diaspora-topic/settings';
import { TOPIC_SCHEMA } from '../../nodes/diaspora-topic/schema';
import type { Schema } from '../../nodes/shared/schema';
import { openNodeDialog } from './support/editor';
import { editorInBrowser } from './support/editor-in-browser';

type Def = Record<string, unknown>;

const TAB = 'tab-missing';
const CONFIG_ID = 'cfg-missing';
const BARE: Def[] = [
  { id: TAB, type: 'tab', label: 'missing properties' },
  { id: CONFIG_ID, type: 'diaspora-config' },
  { id: 'topic-missing', type: 'diaspora-topic', z: TAB, x: 160, y: 80, fabric: CONFIG_ID, wires: [[]] },
  { id: 'out-missing', type: 'diaspora-out', z: TAB, x: 160, y: 160, fabric: CONFIG_ID, wires: [[]] },
  { id: 'in-missing', type: 'diaspora-in', z: TAB, x: 160, y: 240, fabric: CONFIG_ID, wires: [[]] },
];

const READERS: Record<string, { schema: Schema; read(def: Def): unknown }> = {
  'diaspora-config': { schema: CONFIG_SCHEMA, read: (def) => readConfigDef(def as ConfigDef, CONFIG_ID) },
  'diaspora-topic': { schema: TOPIC_SCHEMA, read: (def) => readTopicSettings(def) },
  'diaspora-out': { schema: OUT_SCHEMA, read: (def) => readOutSettings(def as unknown as DiasporaOutDefFields) },
  'diaspora-in': { schema: IN_SCHEMA, read: (def) => readInSettings(def as unknown as DiasporaInDefFields) },
};

/** The open dialog's field values for the schema's properties (config references left out). */
async function fieldValues(page: Page, prefix: string, schema: Schema): Promise<Def> {
  const names = Object.entries(schema)
    .filter(([, spec]) => !spec.configType)
    .map(([name]) => name);
  return page.evaluate(
    ({ prefix, names }) => {
      const jq = (window as unknown as { $: (selector: string) => { length: number; is(s: string): boolean; prop(p: string): unknown; val(): unknown } }).$;
      const values: Record<string, unknown> = {};
      for (const name of names) {
        const field = jq(`#${prefix}${name}`);
        if (field.length) values[name] = field.is(':checkbox') ? field.prop('checked') : field.val();
      }
      return values;
    },
    { prefix, names },
  );
}

function assertSameAsRuntime(type: string, shown: Def): void {
  const reader = READERS[type];
  assert.ok(reader);
  const bare = BARE.find((n) => n.type === type) ?? {};
  const atRunTime = reader.read(bare);
  const fields = Object.keys(shown);
  assert.ok(fields.length >= Object.keys(reader.schema).length - 2, `${type}: the dialog has fields for its properties (${fields.join(', ')})`);
  for (const name of fields) {
    assert.deepEqual(reader.read({ ...bare, [name]: shown[name] }), atRunTime, `${type}.${name}: the dialog shows ${JSON.stringify(shown[name])}, the runtime reads another value`);
  }
}

describe('e2e: a flow deployed without its properties shows the runtime\'s values in every dialog (Chromium)', function () {
  this.timeout(90_000);
  const session = editorInBrowser('missing-properties-node-red.log', async (editor) => {
    const deployed = await fetch(`${editor.url}/flows`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(BARE),
    });
    assert.equal(deployed.status, 204, await deployed.text());
  });

  it('diaspora-config: MSK IAM over TLS and the Production URLs, in the dialog and at run time', async function () {
    const { page } = session;
    await page.evaluate((id) => {
      (window as unknown as { RED: { editor: { editConfig(a: string, type: string, id: string): void } } }).RED.editor.editConfig('', 'diaspora-config', id);
    }, CONFIG_ID);
    await page.locator('#node-config-dialog-ok').waitFor({ state: 'visible' });
    const shown = await fieldValues(page, 'node-config-input-', CONFIG_SCHEMA);
    await page.locator('#node-config-dialog-cancel').click();
    await page.locator('#node-config-dialog-ok').waitFor({ state: 'detached' });
    assert.equal(shown.kafkaAuth, 'msk-iam');
    assert.equal(shown.tls, true);
    assertSameAsRuntime('diaspora-config', shown);
  });

  for (const type of ['diaspora-topic', 'diaspora-out', 'diaspora-in']) {
    it(`${type}: every field shows what the runtime reads`, async function () {
      const { page } = session;
      const node = BARE.find((n) => n.type === type);
      assert.ok(node);
      await openNodeDialog(page, String(node.id));
      const shown = await fieldValues(page, 'node-input-', READERS[type]?.schema ?? {});
      await page.locator('#node-dialog-cancel').click();
      await page.locator('#node-dialog-ok').waitFor({ state: 'detached' });
      assertSameAsRuntime(type, shown);
    });
  }
});

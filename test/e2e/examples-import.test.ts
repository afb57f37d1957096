/**
 * Every flow in examples/ is offered by the editor under Menu → Import → Examples → this package,
 * imports into a new flow with no invalid (red triangle) or unknown node, and deploys without the
 * editor's "not properly configured" question and without an error in the runtime's log.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { repoRoot } from '../../fabric/contract';
import { loadFabric } from '../fixtures/fabric';
import { screenshot } from './support/browser';
import { deploy, dropImportedNodes, stableBox } from './support/editor';
import { editorInBrowser } from './support/editor-in-browser';
import { PACKAGE_NAME } from './support/node-red-editor';

const EXAMPLES = fs
  .readdirSync(path.join(repoRoot, 'examples'))
  .filter((name) => name.endsWith('.json'))
  .map((name) => name.slice(0, -'.json'.length))
  .sort();

describe('e2e: importing every example from the editor\'s Import menu (Chromium)', function () {
  this.timeout(60_000);

  before(function () {
    // The headless-device example reads its identity from the environment, as a device's Node-RED would.
    const client = loadFabric().clients[0];
    process.env.DIASPORA_SDK_CLIENT_ID ??= client.clientId;
    process.env.DIASPORA_SDK_CLIENT_SECRET ??= client.clientSecret;
  });
  const session = editorInBrowser('examples-import-node-red.log');

  it('lists every file of examples/ under Import → Examples → the package', async function () {
    const { page } = session;
    assert.ok(EXAMPLES.length > 0, 'examples/ holds no flow');
    await openExamplesOfPackage(page);
    const listed = await examplesListed(page);
    await screenshot(page, 'examples-00-import-menu');
    await page.locator('#red-ui-clipboard-dialog-cancel').click();
    assert.deepEqual([...listed].sort(), EXAMPLES);
  });

  EXAMPLES.forEach((example, index) => {
    it(`imports "${example}" into a new flow and deploys it without errors`, async function () {
      const { page, editor } = session;
      const tabsBefore = await workspaceIds(page);
      await openExamplesOfPackage(page);
      await page.locator('#red-ui-clipboard-dialog-import-tab-examples .red-ui-treeList-label', { hasText: example }).click();
      await page.locator('#red-ui-clipboard-dialog-import-opt-new').click();
      await page.locator('#red-ui-clipboard-dialog-ok').click();
      await page.locator('#red-ui-clipboard-dialog').waitFor({ state: 'hidden' });
      await dropImportedNodes(page);

      // The example opens in a tab of its own.
      await page.waitForFunction((before) => {
        type Red = { workspaces: { active(): string } };
        const active = (window as unknown as { RED: Red }).RED.workspaces.active();
        return !before.includes(active);
      }, tabsBefore);
      const chart = page.locator('#red-ui-workspace-chart');
      const nodes = chart.locator('g.red-ui-flow-node-group');
      await nodes.first().waitFor({ state: 'visible' });
      assert.ok((await nodes.count()) > 0, `${example}: no node on the new tab`);
      const unknown = await chart.locator('.red-ui-flow-node-unknown').count();
      assert.equal(unknown, 0, `${example}: ${unknown} node(s) of an unknown type`);
      const invalid = await chart.locator('.red-ui-flow-node-error').filter({ visible: true }).count();
      assert.equal(invalid, 0, `${example}: ${invalid} node(s) with a red triangle (invalid properties)`);

      const errorsBefore = editor.errors().length;
      const outcome = await deploy(page);
      await page.waitForTimeout(300); // the notification slides in
      await screenshot(page, `examples-${String(index + 1).padStart(2, '0')}-${slug(example)}`);
      assert.ok(outcome.ok, `${example}: deploy did not succeed: ${outcome.message}`);
      // Give the flow a moment to start (the once-injects fire after 0.1–0.5 s).
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.deepEqual(editor.errors().slice(errorsBefore), [], `${example}: the runtime logged errors after the deploy`);
    });
  });

  /** Menu → Import, then the Examples tab, with this package's folder open. */
  async function openExamplesOfPackage(p: Page): Promise<void> {
    await p.locator('#red-ui-header-button-sidemenu').click();
    await p.locator('#menu-item-import').click();
    await p.locator('#red-ui-tab-red-ui-clipboard-dialog-import-tab-examples').click();
    const tab = p.locator('#red-ui-clipboard-dialog-import-tab-examples');
    const folder = tab.locator('.red-ui-treeList-label', { hasText: PACKAGE_NAME });
    await folder.waitFor({ state: 'visible' });
    const first = tab.locator('.red-ui-treeList-label', { hasText: EXAMPLES[0] });
    if (!(await first.isVisible())) await folder.click();
    await first.waitFor({ state: 'visible' });
    await stableBox(tab.locator('.red-ui-treeList-label', { hasText: EXAMPLES[EXAMPLES.length - 1] }));
  }

  /** The labels under the package's folder. */
  async function examplesListed(p: Page): Promise<string[]> {
    const folderItem = p
      .locator('#red-ui-clipboard-dialog-import-tab-examples li')
      .filter({ has: p.locator(':scope > .red-ui-editableList-item-content > .red-ui-treeList-label', { hasText: PACKAGE_NAME }) });
    return folderItem.locator('li .red-ui-treeList-label-text').allInnerTexts();
  }
});

async function workspaceIds(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    type Red = { nodes: { eachWorkspace(cb: (ws: { id: string }) => void): void } };
    const ids: string[] = [];
    (window as unknown as { RED: Red }).RED.nodes.eachWorkspace((ws) => ids.push(ws.id));
    return ids;
  });
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

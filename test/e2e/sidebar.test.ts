/**
 * The Diaspora sidebar tab in a real Chromium, while events flow: the configuration's identity,
 * key age and readiness with its history, a sparkline of events per second for each Diaspora node
 * (and of lag for the consumer), and the identity's topics with register and unregister.
 * Its texts come from the plugin's catalogs: the same tab in German after switching the editor's
 * language. Leaves screenshots of the tab (test/artifacts/sidebar-live.png, sidebar-live-de.png).
 */
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import type { Page } from 'playwright-core';
import type { FabricDescription } from '../../fabric/contract';
import { loadFabric } from '../fixtures/fabric';
import { eventually } from '../fixtures/node-red';
import { adminApi } from './support/admin-api';
import { launchBrowser, saveArtifact, screenshot, type Browser } from './support/browser';
import { openEditor } from './support/editor';
import { startNodeRedEditor, type NodeRedEditor } from './support/node-red-editor';

const WITHIN_MS = 40_000;
/** A catalog key shown as it is: a text the catalogs lack. */
const RAW_KEY = /diaspora-(sidebar|config)\.[\w.-]+/;

async function tabText(page: Page): Promise<string> {
  const label = await page.locator('#red-ui-tab-diaspora').innerText();
  return `${label}\n${await page.locator('.diaspora-sidebar').innerText()}`;
}

describe('e2e: the Diaspora sidebar (Chromium)', function () {
  this.timeout(120_000);
  this.bail(true);

  let fabric: FabricDescription;
  let editor: NodeRedEditor | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const topic = `e2e-live-${crypto.randomBytes(3).toString('hex')}`;
  const extra = `e2e-extra-${crypto.randomBytes(3).toString('hex')}`;

  const call = adminApi(() => editor!.url);

  before(async function () {
    fabric = loadFabric();
    editor = await startNodeRedEditor();
    const client = fabric.clients[0];
    const flow = [
      { id: 'live-tab', type: 'tab', label: 'live' },
      { id: 'cfg', type: 'diaspora-config', name: 'live fabric', version: 1, preset: 'custom', api: 'v1', serviceUrl: fabric.serviceUrl, authUrl: fabric.authUrl, clientId: client.clientId, authMode: 'client', brokers: fabric.brokers.join(','), kafkaAuth: 'scram-sha-512', tls: false, readyTimeout: 60, credentials: { clientSecret: client.clientSecret } },
      { id: 'tick', type: 'inject', z: 'live-tab', name: 'every 50 ms', props: [{ p: 'payload' }], repeat: '0.05', once: true, onceDelay: 1, payload: '', payloadType: 'date', x: 120, y: 60, wires: [['out']] },
      { id: 'out', type: 'diaspora-out', z: 'live-tab', name: 'readings out', fabric: 'cfg', topic, key: '', mode: 'fire', acks: 'all', compression: 'none', whenNotReady: 'queue', queueSize: 1000, outputs: 0, x: 320, y: 60, wires: [] },
      { id: 'in', type: 'diaspora-in', z: 'live-tab', name: 'readings in', fabric: 'cfg', topics: topic, start: 'earliest', groupId: '', format: 'auto', commit: 'auto', x: 120, y: 120, wires: [[]] },
    ];
    const deployed = await call('POST', 'flows', flow);
    assert.equal(deployed.status, 204, JSON.stringify(deployed.body));
    await eventually('the configuration to be ready', async () => ((await call('GET', 'diaspora/cfg/state')).body as { state?: string }).state === 'ready' || undefined, WITHIN_MS);
    const registered = await call('POST', 'diaspora/cfg/topics', { topic });
    assert.equal(registered.status, 200, JSON.stringify(registered.body));
    browser = await launchBrowser();
    page = browser.page;
    await openEditor(page, editor.url);
  });

  after(async function () {
    if (editor) await call('DELETE', `diaspora/cfg/topics/${topic}`).catch(() => undefined);
    await browser?.close();
    await editor?.stop();
    if (editor) saveArtifact('sidebar-node-red.log', editor.output());
  });

  it('shows identity, key age, readiness and live sparklines while events flow', async function () {
    await page.evaluate(() => (window as unknown as { RED: { sidebar: { show(id: string): void } } }).RED.sidebar.show('diaspora'));
    const card = page.locator('.diaspora-sidebar .diaspora-config[data-id="cfg"]');
    await card.waitFor({ state: 'visible', timeout: WITHIN_MS });
    await page.waitForFunction(() => /ready/.test(document.querySelector('.diaspora-config[data-id="cfg"] .diaspora-state')?.textContent ?? ''), undefined, { timeout: WITHIN_MS });
    assert.match(await card.locator('.diaspora-identity').innerText(), new RegExp(fabric.clients[0].sub));
    assert.match(await card.locator('.diaspora-key-age').innerText(), /key: \d+ (s|min|h|days)/);
    assert.ok((await card.locator('.diaspora-history span').count()) >= 1, 'the readiness history is drawn');

    // Both nodes move events: their rows show a rate above 0 and draw sparklines.
    for (const id of ['out', 'in']) {
      await page.waitForFunction((nodeId) => / · [1-9][\d.]*\/s/.test(document.querySelector(`.diaspora-node[data-id="${nodeId}"]`)?.textContent ?? ''), id, { timeout: WITHIN_MS });
      assert.equal(await page.locator(`.diaspora-node[data-id="${id}"] svg[data-kind="rate"] polyline`).count(), 1);
    }
    await page.waitForFunction(() => / · lag \d+/.test(document.querySelector('.diaspora-node[data-id="in"]')?.textContent ?? ''), undefined, { timeout: WITHIN_MS });
    assert.equal(await page.locator('.diaspora-node[data-id="in"] svg[data-kind="lag"] polyline').count(), 1, 'the consumer has a lag sparkline');
    // Let a few seconds of history accumulate for the picture.
    await page.waitForTimeout(4_000);
    await screenshot(page, 'sidebar-live');
    const text = await tabText(page);
    assert.doesNotMatch(text, RAW_KEY, 'a text without a catalog entry');
    assert.match(text, /^diaspora\n/, 'the tab is labelled');

    const snapshot = JSON.stringify((await call('GET', 'diaspora/live')).body);
    assert.ok(!snapshot.includes(fabric.clients[0].clientSecret), 'the live data holds the client secret');
  });

  it('lists the identity\'s topics and registers and unregisters one', async function () {
    const card = page.locator('.diaspora-config[data-id="cfg"]');
    await card.locator('.diaspora-show-topics').click();
    await card.locator(`li[data-topic="${topic}"]`).waitFor({ state: 'visible', timeout: WITHIN_MS });
    await card.locator('.diaspora-new-topic').fill(extra);
    await card.locator('.diaspora-register').click();
    await card.locator(`li[data-topic="${extra}"]`).waitFor({ state: 'visible', timeout: WITHIN_MS });
    const listed = (await call('GET', 'diaspora/cfg/topics')).body as { topics: string[] };
    assert.ok(listed.topics.includes(extra), `registered through the sidebar: ${JSON.stringify(listed)}`);
    await card.locator(`li[data-topic="${extra}"] .diaspora-unregister`).click();
    await card.locator(`li[data-topic="${extra}"]`).waitFor({ state: 'detached', timeout: WITHIN_MS });
    const after = (await call('GET', 'diaspora/cfg/topics')).body as { topics: string[] };
    assert.ok(!after.topics.includes(extra), `unregistered through the sidebar: ${JSON.stringify(after)}`);
  });

  it('speaks German when the editor does', async function () {
    await page.evaluate(() => localStorage.setItem('editor-language', 'de'));
    try {
      await openEditor(page, editor!.url);
      await page.evaluate(() => (window as unknown as { RED: { sidebar: { show(id: string): void } } }).RED.sidebar.show('diaspora'));
      const card = page.locator('.diaspora-sidebar .diaspora-config[data-id="cfg"]');
      await card.waitFor({ state: 'visible', timeout: WITHIN_MS });
      await page.waitForFunction(() => document.querySelector('.diaspora-config[data-id="cfg"] .diaspora-state')?.textContent === 'bereit', undefined, { timeout: WITHIN_MS });
      assert.match(await card.locator('.diaspora-identity').innerText(), new RegExp(`^Identität: .*${fabric.clients[0].sub}`));
      assert.match(await card.locator('.diaspora-key-age').innerText(), /^Schlüssel: vor \d+ (s|min|h|Tagen) erzeugt$/);
      await page.waitForFunction(() => /Lag \d+ · [\d.]+k?\/s/.test(document.querySelector('.diaspora-node[data-id="in"]')?.textContent ?? ''), undefined, { timeout: WITHIN_MS });
      await card.locator('.diaspora-show-topics').click();
      await card.locator('.diaspora-register').waitFor({ state: 'visible', timeout: WITHIN_MS });
      assert.equal(await card.locator('.diaspora-register').innerText(), 'registrieren');
      await screenshot(page, 'sidebar-live-de');
      assert.doesNotMatch(await tabText(page), RAW_KEY, 'a text without a German catalog entry');
    } finally {
      await page.evaluate(() => localStorage.removeItem('editor-language'));
    }
  });
});

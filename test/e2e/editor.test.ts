/**
 * A person's first flow, in Chromium against a real Node-RED with this package installed: add a
 * diaspora-config with the Local fabric preset, sign in on the auth emulator's page and paste the
 * code, build inject → diaspora-out and diaspora-in → debug from the palette, register and pick the
 * topic with the topic picker, deploy, press the inject button and see the event come back in the
 * debug sidebar. Each step leaves a screenshot in test/artifacts/.
 */
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import type { Page } from 'playwright-core';
import type { FabricDescription, FabricUser } from '../../fabric/contract';
import { loadFabric } from '../fixtures/fabric';
import { launchBrowser, saveArtifact, screenshot, type Browser } from './support/browser';
import {
  clickInjectButton,
  closeConfigDialog,
  closeNodeDialog,
  debugMessages,
  deploy,
  dragFromPalette,
  nextNotification,
  openEditor,
  openNodeDialog,
  scrollWorkspaceHome,
  showDebugSidebar,
  stableBox,
  typeInto,
  waitForNodeStatus,
  waitForValue,
  wire,
} from './support/editor';
import { startNodeRedEditor, type NodeRedEditor } from './support/node-red-editor';

const SIGNED_IN_WITHIN_MS = 30_000;
const EVENT_WITHIN_MS = 15_000;

describe('e2e: the editor, as a person uses it (Chromium)', function () {
  this.timeout(60_000);
  // Each step builds on the one before: after a failure the rest would only repeat it.
  this.bail(true);

  let fabric: FabricDescription;
  let user: FabricUser;
  let editor: NodeRedEditor | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const topic = `e2e-editor-${crypto.randomBytes(4).toString('hex')}`;
  const ids = { inject: '', out: '', in: '', debug: '' };
  const shots: string[] = [];

  before(async function () {
    fabric = loadFabric();
    // bob, so this suite's v1 key never replaces the key other suites create for alice.
    user = fabric.users[1] ?? fabric.users[0]!;
    editor = await startNodeRedEditor();
    browser = await launchBrowser();
    page = browser.page;
    await openEditor(page, editor.url);
  });

  after(async function () {
    await browser?.close();
    await editor?.stop();
    if (editor) saveArtifact('editor-node-red.log', editor.output());
    if (shots.length) process.stderr.write(`      screenshots: ${shots.join(', ')}\n`);
  });

  async function shot(name: string): Promise<void> {
    shots.push(await screenshot(page, name));
  }

  it('adds inject → diaspora-out by dragging them from the palette and wiring them', async function () {
    ids.inject = await dragFromPalette(page, 'inject', 'inject', { x: 160, y: 100 });
    ids.out = await dragFromPalette(page, 'diaspora-out', 'diaspora', { x: 420, y: 100 });
    await wire(page, ids.inject, ids.out);
    await shot('editor-01-inject-to-diaspora-out');
  });

  it('adds a diaspora-config with the Local fabric preset from the diaspora-out dialog, and deploys', async function () {
    await openNodeDialog(page, ids.out);
    // The Fabric select offers "Add new diaspora fabric..."; its + button opens the config dialog.
    await page.locator('#node-input-btn-fabric-add').click();
    await page.locator('#node-config-input-preset').waitFor({ state: 'visible' });
    // The Production preset offers both transports; HTTPS needs no broker and no key, so the Kafka tab goes.
    const kafkaTab = page.locator('#red-ui-tab-diaspora-config-tab-kafka');
    const transport = page.locator('#node-config-input-transport');
    await page.locator('#diaspora-config-tabs a[href="#diaspora-config-tab-service"]').click();
    assert.equal(await transport.inputValue(), 'kafka');
    assert.equal(await transport.isEnabled(), true, 'the Production preset leaves the transport to choose');
    await kafkaTab.waitFor({ state: 'visible' });
    await transport.selectOption('https');
    await kafkaTab.waitFor({ state: 'hidden' });
    await shot('editor-02a-config-https-transport');
    await transport.selectOption('kafka');
    await kafkaTab.waitFor({ state: 'visible' });
    await page.locator('#node-config-input-preset').selectOption('local');
    await page.locator('#diaspora-config-preset-row').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#node-config-input-authMode').inputValue(), 'user');
    await page.locator('#diaspora-config-tabs a[href="#diaspora-config-tab-service"]').click();
    assert.equal(await page.locator('#node-config-input-serviceUrl').inputValue(), fabric.serviceUrl);
    assert.equal(await page.locator('#node-config-input-api').inputValue(), 'v1');
    await shot('editor-02-config-local-preset');
    await page.locator('#diaspora-config-tabs a[href="#diaspora-config-tab-identity"]').click();
    await closeConfigDialog(page);
    // Until the configuration is deployed and signed in, the picker can only say so.
    await page.locator('.diaspora-picker-hint').waitFor({ state: 'visible' });
    await closeNodeDialog(page);
    const outcome = await deploy(page);
    assert.ok(outcome.ok, `deploy failed: ${outcome.message}`);
  });

  it('signs in on the emulator login page opened by "Sign in with Globus" and pastes the code', async function () {
    await openNodeDialog(page, ids.out);
    await page.locator('#node-input-btn-fabric-edit').click();
    const stateText = page.locator('#diaspora-config-state-text');
    await waitForText(stateText, /sign-in required/i, 15_000);

    const [login] = await Promise.all([browser!.context.waitForEvent('page'), page.locator('#diaspora-config-signin').click()]);
    await login.locator('#login-form').waitFor({ state: 'visible' });
    assert.ok(login.url().startsWith(fabric.authUrl), `the sign-in window opened ${login.url()}, not the auth emulator`);
    await login.locator('#username').fill(user.username);
    await login.locator('#password').fill(user.password);
    shots.push(await screenshot(login, 'editor-03-emulator-login-page'));
    await login.locator('#sign-in').click();
    const code = ((await login.locator('#auth-code').textContent()) ?? '').trim();
    assert.ok(code.length > 0, 'the auth-code page shows no code');
    await login.close();
    // The dialog also offers the same page as a link, for browsers that block the new window.
    assert.ok((await page.locator('#diaspora-config-authorize-link').getAttribute('href'))?.startsWith(fabric.authUrl));

    await page.locator('#diaspora-config-code').fill(code);
    await page.locator('#diaspora-config-finish').click();
    await waitForText(stateText, /^Ready/, SIGNED_IN_WITHIN_MS);
    const identity = (await page.locator('#diaspora-config-identity').textContent()) ?? '';
    assert.match(identity, new RegExp(`${user.username} \\(${user.sub}\\)`));
    assert.match((await page.locator('#diaspora-config-key-age').textContent()) ?? '', /^created /);
    await shot('editor-04-config-signed-in');
    await closeConfigDialog(page);
  });

  it('types a new topic into diaspora-out and registers it with the picker\'s Register button', async function () {
    await typeInto(page.locator('#node-input-topic'), topic);
    const hint = page.locator('.diaspora-picker-hint');
    await waitForText(hint, /Not registered to this identity/, 10_000);
    const registered = await nextNotification(page, () => page.locator('.diaspora-picker-register').click());
    assert.match(await registered.innerText(), new RegExp(`Registered: ${topic}`));
    await hint.waitFor({ state: 'hidden' });
    await page.waitForTimeout(300); // the notification slides in
    await shot('editor-05-diaspora-out-topic-registered');
    await closeNodeDialog(page);
  });

  it('adds diaspora-in → debug, picks the topic from the picker\'s list, and deploys', async function () {
    ids.in = await dragFromPalette(page, 'diaspora-in', 'diaspora', { x: 160, y: 220 });
    ids.debug = await dragFromPalette(page, 'debug', 'debug', { x: 420, y: 220 });
    await wire(page, ids.in, ids.debug);
    await openNodeDialog(page, ids.in);
    // A new node starts with "none": choose the configuration made above from the Fabric select.
    await page.locator('#node-input-fabric').selectOption({ label: 'Diaspora (local fabric)' });
    await page.locator('.diaspora-picker-button').click();
    const choice = page.locator('.diaspora-picker-menu li', { hasText: topic });
    await choice.waitFor({ state: 'visible' });
    await stableBox(page.locator('.diaspora-picker-menu'));
    await shot('editor-06-diaspora-in-topic-picker');
    await choice.click();
    assert.equal(await page.locator('#node-input-topics').inputValue(), topic);
    await closeNodeDialog(page);

    const outcome = await deploy(page);
    assert.ok(outcome.ok, `deploy failed: ${outcome.message}`);
    // "consuming", or the live figures that take its place once events flow (lag and rate).
    await waitForNodeStatus(page, ids.in, /^(consuming|lag \d+ · )/, 30_000);
    await scrollWorkspaceHome(page);
    await shot('editor-07-deployed-flow');
  });

  it('presses the inject button and sees the event in the debug sidebar', async function () {
    await showDebugSidebar(page);
    const earlier = await debugMessages(page);
    if (earlier.length) process.stderr.write(`      the debug sidebar already held ${earlier.length} message(s) before the inject; first: ${JSON.stringify(earlier[0])}\n`);
    // Start from an empty sidebar, as one does before a try, so the event is the one on screen.
    await page.locator('#red-ui-sidebar-debug-clear').click();
    await waitForValue(async () => ((await debugMessages(page)).length === 0 ? true : undefined), 5000);
    const before = Date.now();
    await clickInjectButton(page, ids.inject);
    const seen = await waitForValue(async () => (await debugMessages(page)).find((m) => m.includes(topic)), EVENT_WITHIN_MS);
    assert.ok(seen, `no message for ${topic} in the debug sidebar within ${EVENT_WITHIN_MS} ms: ${JSON.stringify(await debugMessages(page))}`);
    // The inject node sends a timestamp; the debug sidebar shows it as the payload.
    const stamp = Number(/\b(\d{13})\b/.exec(seen)?.[1]);
    assert.ok(stamp >= before - 1000 && stamp <= Date.now(), `the message shows no timestamp of this press: ${seen}`);
    await shot('editor-08-debug-sidebar-event');
    assert.deepEqual(editor!.errors(), [], 'Node-RED logged errors');
  });
});

async function waitForText(locator: ReturnType<Page['locator']>, pattern: RegExp, timeoutMs: number): Promise<string> {
  const text = await waitForValue(async () => {
    const now = ((await locator.textContent()) ?? '').trim();
    return pattern.test(now) ? now : undefined;
  }, timeoutMs);
  if (text === undefined) throw new Error(`expected ${pattern} within ${timeoutMs} ms, the page shows "${((await locator.textContent()) ?? '').trim()}"`);
  return text;
}

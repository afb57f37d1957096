/**
 * The spools of a configuration's diaspora-out nodes, in a real Node-RED process: the admin route
 * GET /diaspora/:id/spools (events, bytes, limit, age of the oldest event, per node in spool mode;
 * nothing for a node in queue mode or of another configuration), and the config dialog in Chromium
 * listing them. The Diaspora service is a port nobody listens on, so the session never becomes
 * ready and every event goes to the spool. Leaves a screenshot (test/artifacts/config-spools.png).
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { FabricDescription } from '../../fabric/contract';
import { loadFabric } from '../fixtures/fabric';
import { eventually } from '../fixtures/node-red';
import { spoolFrames } from '../fixtures/spool-files';
import type { SpoolSummary } from '../../nodes/shared/spool-summary';
import { adminApi } from './support/admin-api';
import { launchBrowser, saveArtifact, screenshot, type Browser } from './support/browser';
import { openEditor, openNodeDialog } from './support/editor';
import { freePort, startNodeRedEditor, type NodeRedEditor } from './support/node-red-editor';

const WITHIN_MS = 20_000;
const MIB = 1024 * 1024;

describe('e2e: the spools in the config dialog (Chromium)', function () {
  this.timeout(120_000);
  this.bail(true);

  let fabric: FabricDescription;
  let editor: NodeRedEditor | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let flow: Record<string, unknown>[];

  const call = adminApi(() => editor!.url);
  const spools = async (config: string): Promise<SpoolSummary[]> => {
    const answer = await call('GET', `diaspora/${config}/spools`);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return (answer.body as { spools: SpoolSummary[] }).spools;
  };

  before(async function () {
    fabric = loadFabric();
    editor = await startNodeRedEditor();
    const client = fabric.clients[0];
    const nobodyListens = `http://127.0.0.1:${await freePort()}`;
    const config = (id: string, name: string): Record<string, unknown> => ({
      id, type: 'diaspora-config', name, version: 1, preset: 'custom', api: 'v1', serviceUrl: nobodyListens, authUrl: fabric.authUrl,
      clientId: client.clientId, authMode: 'client', brokers: fabric.brokers.join(','), kafkaAuth: 'scram-sha-512', tls: false, readyTimeout: 60,
      credentials: { clientSecret: client.clientSecret },
    });
    const out = (id: string, name: string, fabricId: string, whenNotReady: string, y: number): Record<string, unknown> => ({
      id, type: 'diaspora-out', z: 'spool-tab', name, fabric: fabricId, topic: 'e2e-spooled', key: '', mode: 'fire', acks: 'all',
      compression: 'none', whenNotReady, queueSize: 100, spoolSizeMB: 5, outputs: 0, x: 360, y, wires: [],
    });
    flow = [
      { id: 'spool-tab', type: 'tab', label: 'spools' },
      config('cfg', 'lab fabric'),
      config('other-cfg', 'other fabric'),
      { id: 'press', type: 'inject', z: 'spool-tab', name: 'reading', props: [{ p: 'payload' }], repeat: '', once: false, payload: '', payloadType: 'date', x: 120, y: 60, wires: [['spooler', 'queuer', 'elsewhere']] },
      out('spooler', 'instrument spool', 'cfg', 'spool', 60),
      out('queuer', 'in memory', 'cfg', 'queue', 120),
      out('elsewhere', 'other spool', 'other-cfg', 'spool', 180),
    ];
    const deployed = await call('POST', 'flows', flow);
    assert.equal(deployed.status, 204, JSON.stringify(deployed.body));
  });

  after(async function () {
    await browser?.close();
    await editor?.stop();
    if (editor) saveArtifact('spools-node-red.log', editor.output());
  });

  it('GET /diaspora/:id/spools lists the configuration\'s nodes in spool mode with events, bytes, limit and the oldest event\'s age', async function () {
    // Until the flows have started, the configuration is not deployed (404).
    const empty = await eventually('the spool listed', async () => {
      const answer = await call('GET', 'diaspora/cfg/spools');
      const listed = answer.status === 200 ? (answer.body as { spools: SpoolSummary[] }).spools : [];
      return listed.length > 0 ? listed : undefined;
    }, WITHIN_MS);
    assert.deepEqual(empty, [{ id: 'spooler', name: 'instrument spool', events: 0, bytes: 0, limitBytes: 5 * MIB }]);

    const pressedAt = Date.now();
    for (let i = 0; i < 3; i++) assert.equal((await call('POST', 'inject/press')).status, 200);
    const onDisk = await eventually('3 records in the spool\'s files', () => {
      const frames = spoolFrames(editor!.userDir, 'spooler') ?? [];
      return frames.length === 3 ? frames : undefined;
    }, WITHIN_MS);
    const [three] = await spools('cfg');
    assert.equal(three.id, 'spooler');
    assert.equal(three.events, 3);
    assert.equal(three.bytes, onDisk.reduce((n, f) => n + f.end - f.start, 0), 'the bytes its records take in the files');
    assert.ok(three.oldestAgeMs !== undefined && three.oldestAgeMs >= 0 && three.oldestAgeMs <= Date.now() - pressedAt, `oldest: ${three.oldestAgeMs} ms`);
    assert.equal(three.oldestAgeAtLeast, undefined, 'written by this run: its age is exact');

    const other = await spools('other-cfg');
    assert.deepEqual(other.map((s) => [s.id, s.name]), [['elsewhere', 'other spool']], 'each configuration lists only its own nodes');
    const unknown = await call('GET', 'diaspora/not-deployed/spools');
    assert.equal(unknown.status, 404);
    assert.match((unknown.body as { error: string }).error, /deploy first/);
  });

  it('the config dialog lists each spool and follows it as events arrive', async function () {
    browser = await launchBrowser();
    page = browser.page;
    await openEditor(page, editor!.url);
    await openNodeDialog(page, 'spooler');
    await page.locator('#node-input-btn-fabric-edit').click();
    const entry = page.locator('#diaspora-config-spools .diaspora-config-spool[data-node="spooler"]');
    await entry.waitFor({ state: 'visible', timeout: WITHIN_MS });
    assert.equal(await page.locator('#diaspora-config-spools .diaspora-config-spool').count(), 1, 'only this configuration\'s node in spool mode');
    assert.match(await entry.innerText(), /^instrument spool 3 events waiting · [\d.]+ (B|KB) of 5\.0 MB · oldest written \d+ s ago$/);

    assert.equal((await call('POST', 'inject/press')).status, 200);
    await page.waitForFunction(() => /4 events waiting/.test(document.querySelector('#diaspora-config-spools [data-node="spooler"]')?.textContent ?? ''), undefined, { timeout: WITHIN_MS });
    await screenshot(page, 'config-spools');
    await page.locator('#node-config-dialog-cancel').click();
    await page.locator('#node-dialog-cancel').click();
  });

  it('a configuration none of whose nodes spools says so', async function () {
    // Without its node in spool mode, the configuration has no spool to show; the deleted node's spool is gone.
    const deployed = await call('POST', 'flows', flow.filter((n) => n.id !== 'elsewhere'));
    assert.equal(deployed.status, 204, JSON.stringify(deployed.body));
    await eventually('the other configuration deployed again, without a spool', async () => {
      const answer = await call('GET', 'diaspora/other-cfg/spools');
      return answer.status === 200 && (answer.body as { spools: SpoolSummary[] }).spools.length === 0 ? true : undefined;
    }, WITHIN_MS);
    await page.reload();
    await openEditor(page, editor!.url);
    await page.evaluate(() => (window as unknown as { RED: { editor: { editConfig(name: string, type: string, id: string): void } } }).RED.editor.editConfig('', 'diaspora-config', 'other-cfg'));
    const none = page.locator('#diaspora-config-spools .diaspora-config-spool-none');
    await none.waitFor({ state: 'visible', timeout: WITHIN_MS });
    assert.match(await none.innerText(), /No diaspora-out using this configuration keeps a spool on disk/);
    assert.match(editor!.output(), /node removed from the flow: its spool held 4 events not yet sent, deleted with it/);
  });
});

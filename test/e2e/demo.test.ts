/**
 * `npm start` (dist/scripts/demo.js) as a person runs it in a terminal: the demo flow's readings
 * show up in the debug sidebar of a real Chromium within seconds, and Ctrl-C stops everything the
 * demo started: its Node-RED always, the fabric only when the demo started it. Each run uses a
 * free port and a temporary Node-RED user directory, never 1880 or .demo/.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FabricDescription } from '../../fabric/contract';
import { fabricStatus } from '../../fabric/fabric';
import { launchBrowser, saveArtifact, screenshot, type Browser } from './support/browser';
import { debugMessages, openEditor, showDebugSidebar, waitForValue } from './support/editor';
import { freePort } from './support/node-red-editor';
import { freePortRange, isAlive, startDemo, type DemoProcess } from './support/processes';

const READY_WITHIN_MS = 90_000;
const EVENTS_WITHIN_MS = 10_000;
const STOPPED_WITHIN_MS = 30_000;

describe('e2e: npm start (the demo)', function () {
  this.timeout(150_000);

  const cleanups: Array<() => void> = [];
  let demo: DemoProcess | undefined;
  let browser: Browser | undefined;

  afterEach(async function () {
    await browser?.close();
    browser = undefined;
    if (demo) {
      saveArtifact(`demo-${this.currentTest?.title.replace(/[^a-z0-9]+/gi, '-').slice(0, 40) ?? 'run'}.log`, demo.output());
      try {
        demo.interrupt();
      } catch {
        // already gone
      }
      await demo.exited(STOPPED_WITHIN_MS);
      demo = undefined;
    }
    cleanups.splice(0).forEach((cleanup) => cleanup());
  });

  function tempDir(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  async function demoEnv(extra: NodeJS.ProcessEnv = {}): Promise<{ env: NodeJS.ProcessEnv; url: string }> {
    const port = await freePort();
    return {
      env: { ...process.env, DEMO_PORT: String(port), DEMO_USER_DIR: tempDir('diaspora-e2e-demo-'), ...extra },
      url: `http://127.0.0.1:${port}`,
    };
  }

  it('with the fabric already running: readings reach the debug sidebar; Ctrl-C stops Node-RED and leaves the fabric running', async function () {
    const { env, url } = await demoEnv();
    demo = startDemo(env);
    await demo.waitForLine(/\[demo\] using the local fabric that already runs/, READY_WITHIN_MS);
    const nodeRedPid = Number((await demo.waitForLine(/\[demo\] Node-RED \(pid (\d+)\)/, READY_WITHIN_MS))[1]);
    await demo.waitForLine(/\[demo\] ready: open /, READY_WITHIN_MS);

    browser = await launchBrowser();
    await openEditor(browser.page, url);
    await showDebugSidebar(browser.page);
    const opened = Date.now();
    const readings = await waitForValue(async () => {
      const fromDemo = (await debugMessages(browser!.page)).filter((m) => m.includes('events from Diaspora') && m.includes('thermometer-1'));
      return fromDemo.length >= 2 ? fromDemo : undefined;
    }, EVENTS_WITHIN_MS);
    assert.ok(readings, `fewer than 2 readings in the debug sidebar ${EVENTS_WITHIN_MS} ms after opening the editor: ${JSON.stringify(await debugMessages(browser.page))}`);
    assert.match(readings[0]!, /demo-readings : msg\.payload : Object/);
    process.stderr.write(`      2 readings seen ${Date.now() - opened} ms after opening the debug sidebar\n`);
    await screenshot(browser.page, 'demo-01-debug-sidebar');
    await browser.close();
    browser = undefined;

    demo.interrupt();
    assert.equal(await demo.exited(STOPPED_WITHIN_MS), 0, 'the demo did not exit with code 0 after Ctrl-C');
    demo = undefined;
    assert.equal(isAlive(nodeRedPid), false, `Node-RED (pid ${nodeRedPid}) still runs after Ctrl-C`);
    assert.equal((await fabricStatus()).running, true, 'Ctrl-C stopped a fabric the demo had not started');
  });

  it('starting a fabric of its own: Ctrl-C stops Node-RED, the Kafka broker and the emulators', async function () {
    const fabricDir = tempDir('diaspora-e2e-demo-fabric-');
    const { env } = await demoEnv({ DIASPORA_FABRIC_DIR: fabricDir, DIASPORA_FABRIC_PORT_BASE: String(await freePortRange(5)) });
    demo = startDemo(env);
    await demo.waitForLine(/\[demo\] local fabric ready in /, READY_WITHIN_MS);
    const fabric = JSON.parse(fs.readFileSync(path.join(fabricDir, 'fabric.json'), 'utf8')) as FabricDescription;
    const nodeRedPid = Number((await demo.waitForLine(/\[demo\] Node-RED \(pid (\d+)\)/, READY_WITHIN_MS))[1]);
    await demo.waitForLine(/\[demo\] ready: open /, READY_WITHIN_MS);
    const pids = { 'Node-RED': nodeRedPid, Kafka: fabric.pids.kafka, emulators: fabric.pids.emulators };
    for (const [name, pid] of Object.entries(pids)) assert.ok(isAlive(pid), `${name} (pid ${pid}) is not running while the demo runs`);

    demo.interrupt();
    assert.equal(await demo.exited(STOPPED_WITHIN_MS), 0, 'the demo did not exit with code 0 after Ctrl-C');
    demo = undefined;
    const left = Object.entries(pids).filter(([, pid]) => isAlive(pid));
    assert.deepEqual(left, [], 'processes left running after Ctrl-C');
    assert.equal(fs.existsSync(path.join(fabricDir, 'fabric.json')), false, 'fabric.json still describes a stopped fabric');
  });
});

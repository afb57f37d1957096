/**
 * What a person does in the Node-RED editor, as playwright actions on the real page: filter the
 * palette and drag a node onto the workspace, wire two ports, open a node's dialog, deploy, read
 * the debug sidebar. The editor's own model (`RED`) is read only to know when the editor finished
 * loading and to confirm what an action did (a wire exists); every change goes through the page.
 */
import type { Locator, Page } from 'playwright-core';

/** Node ids are 16 hex digits and may start with a digit, so select them by attribute. */
export function canvasNode(page: Page, id: string): Locator {
  return page.locator(`#red-ui-workspace-chart g.red-ui-flow-node-group[id="${id}"]`);
}

export async function openEditor(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.locator('#red-ui-palette-search input').waitFor({ state: 'visible', timeout: 30_000 });
  await page.locator('.red-ui-palette-node[data-palette-type="diaspora-out"]').waitFor({ state: 'attached', timeout: 30_000 });
  // The editor is ready once its model has loaded the flows and drawn the first tab.
  await page.waitForFunction(() => {
    const red = (window as unknown as { RED?: { nodes?: { eachWorkspace?: (cb: () => void) => void } } }).RED;
    let tabs = 0;
    red?.nodes?.eachWorkspace?.(() => (tabs += 1));
    return tabs > 0;
  });
}

/** Ids of every node on the open tab. */
async function nodeIdsOnCanvas(page: Page): Promise<string[]> {
  return page.locator('#red-ui-workspace-chart g.red-ui-flow-node-group').evaluateAll((els) => els.map((el) => el.id));
}

/**
 * Types `filter` into the palette search, drags the palette entry of `type` to (x, y) of the
 * workspace, and returns the id of the node that appeared there.
 */
export async function dragFromPalette(page: Page, type: string, filter: string, at: { x: number; y: number }): Promise<string> {
  const search = page.locator('#red-ui-palette-search input');
  const entry = page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
  const before = new Set(await nodeIdsOnCanvas(page));
  // A drop the editor missed (it was still laying out the palette) is tried once more, as a person would.
  for (let attempt = 1; attempt <= 2; attempt += 1) {
    await typeInto(search, filter);
    await entry.waitFor({ state: 'visible' });
    const from = await stableBox(entry);
    const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
    if (!from || !chart) throw new Error(`the palette entry of ${type} or the workspace is not on screen`);
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await page.mouse.down();
    // jQuery UI starts a drag only after the pointer moved a few pixels: go there in steps.
    await page.mouse.move(from.x + from.width / 2 + 20, from.y + from.height / 2, { steps: 5 });
    await page.mouse.move(chart.x + at.x, chart.y + at.y, { steps: 20 });
    await page.mouse.up();
    await typeInto(search, '');
    const id = await waitForValue(async () => (await nodeIdsOnCanvas(page)).find((n) => !before.has(n)), 3000);
    if (id) return id;
  }
  throw new Error(`dragging ${type} from the palette to the workspace did not add a node (tried twice)`);
}

/** The element's box once it stopped moving or growing (the palette and menus animate). */
export async function stableBox(element: Locator): Promise<{ x: number; y: number; width: number; height: number } | null> {
  let last = await element.boundingBox();
  for (let i = 0; i < 20; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = await element.boundingBox();
    if (now && last && now.x === last.x && now.y === last.y && now.width === last.width && now.height === last.height) return now;
    last = now;
  }
  return last;
}

/** Replaces a field's text key by key: Node-RED's search boxes react to key events, not to a filled value. */
export async function typeInto(field: Locator, text: string): Promise<void> {
  await field.click();
  await field.press('ControlOrMeta+a');
  await field.press('Backspace');
  if (text) await field.pressSequentially(text);
}

/** Drags a wire from the output port of `from` to the input port of `to`. */
export async function wire(page: Page, from: string, to: string): Promise<void> {
  const out = await canvasNode(page, from).locator('.red-ui-flow-port-output .red-ui-flow-port').first().boundingBox();
  const input = await canvasNode(page, to).locator('.red-ui-flow-port-input .red-ui-flow-port').first().boundingBox();
  if (!out || !input) throw new Error(`no output port on ${from} or no input port on ${to}`);
  await page.mouse.move(out.x + out.width / 2, out.y + out.height / 2);
  await page.mouse.down();
  await page.mouse.move(input.x + input.width / 2, input.y + input.height / 2, { steps: 15 });
  await page.mouse.up();
  await page.waitForFunction(
    ([a, b]) => {
      type Link = { source: { id: string }; target: { id: string } };
      const red = (window as unknown as { RED: { nodes: { filterLinks(f: object): Link[] } } }).RED;
      return red.nodes.filterLinks({ source: { id: a }, target: { id: b } }).length === 1;
    },
    [from, to],
  );
}

/** Opens a node's edit dialog the way a person does: a double click on the node. */
export async function openNodeDialog(page: Page, id: string): Promise<void> {
  await canvasNode(page, id).locator('rect.red-ui-flow-node').dblclick();
  await page.locator('#node-dialog-ok').waitFor({ state: 'visible' });
}

export async function closeNodeDialog(page: Page): Promise<void> {
  await page.locator('#node-dialog-ok').click();
  await page.locator('#node-dialog-ok').waitFor({ state: 'detached' });
}

/** The config node dialog's Add / Update button. */
export async function closeConfigDialog(page: Page): Promise<void> {
  await page.locator('#node-config-dialog-ok').click();
  await page.locator('#node-config-dialog-ok').waitFor({ state: 'detached' });
}

export interface DeployOutcome {
  /** The notification the editor showed. */
  message: string;
  ok: boolean;
}

/**
 * Clicks Deploy and reads the notification that follows. Node-RED asks for a confirmation instead
 * when the flow has invalid or unknown nodes; that counts as a failure (the question is cancelled).
 */
export async function deploy(page: Page): Promise<DeployOutcome> {
  const shown = await nextNotification(page, () => page.locator('#red-ui-header-button-deploy').click());
  const message = ((await shown.innerText()) ?? '').trim();
  const confirm = shown.locator('button:has-text("Confirm deploy")');
  if (await confirm.count()) {
    await shown.locator('button:has-text("Cancel")').click();
    return { message, ok: false };
  }
  return { message, ok: /successfully deployed/i.test(message) };
}

/**
 * Runs `action` and returns the first notification shown after it. Notifications already on
 * screen are marked first, as they fade out on their own and would shift any count.
 */
export async function nextNotification(page: Page, action: () => Promise<void>, timeoutMs = 20_000): Promise<Locator> {
  await page.locator('.red-ui-notification').evaluateAll((els) => els.forEach((el) => el.setAttribute('data-e2e-seen', '')));
  await action();
  const shown = page.locator('.red-ui-notification:not([data-e2e-seen])').first();
  await shown.waitFor({ state: 'visible', timeout: timeoutMs });
  return shown;
}

/** Scrolls the workspace back to its top-left corner (opening a dialog scrolls it to the node). */
export async function scrollWorkspaceHome(page: Page): Promise<void> {
  await page.locator('#red-ui-workspace-chart').evaluate((chart) => chart.scrollTo(0, 0));
}

/**
 * Imported nodes hang on the mouse pointer until a click drops them: drop them near the top-left
 * corner of the workspace, then wait for the Deploy button to light up.
 */
export async function dropImportedNodes(page: Page): Promise<void> {
  const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
  if (!chart) throw new Error('the workspace is not on screen');
  await page.mouse.move(chart.x + 60, chart.y + 40, { steps: 10 });
  await page.mouse.down();
  await page.mouse.up();
  await page.locator('#red-ui-header-button-deploy:not(.disabled)').waitFor({ state: 'visible', timeout: 5000 });
}

/** Clicks the button on the left of an inject node. */
export async function clickInjectButton(page: Page, id: string): Promise<void> {
  await canvasNode(page, id).locator('.red-ui-flow-node-button').click();
}

/** The status text under a node on the canvas. */
export async function nodeStatus(page: Page, id: string): Promise<string> {
  const label = canvasNode(page, id).locator('.red-ui-flow-node-status-label');
  return (await label.count()) ? ((await label.textContent()) ?? '').trim() : '';
}

export async function waitForNodeStatus(page: Page, id: string, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const status = await waitForValue(async () => {
    const text = await nodeStatus(page, id);
    return pattern.test(text) ? text : undefined;
  }, timeoutMs);
  if (status === undefined) throw new Error(`node ${id} did not show a status matching ${pattern} within ${timeoutMs} ms (it shows "${await nodeStatus(page, id)}")`);
  return status;
}

/** Shows the debug sidebar tab. */
export async function showDebugSidebar(page: Page): Promise<void> {
  await page.locator('#red-ui-tab-debug-link-button').click();
  await page.locator('.red-ui-debug-content-list').waitFor({ state: 'visible' });
  // Away from the button, so its tooltip does not cover the sidebar in screenshots.
  await page.mouse.move(600, 700);
}

/** The debug sidebar's messages, oldest first, as their visible text. */
export async function debugMessages(page: Page): Promise<string[]> {
  return page.locator('.red-ui-debug-content-list .red-ui-debug-msg').evaluateAll((els) => els.map((el) => (el as HTMLElement).innerText));
}

/** Polls `probe` until it returns a value or the time runs out (then undefined). */
export async function waitForValue<T>(probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 200): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

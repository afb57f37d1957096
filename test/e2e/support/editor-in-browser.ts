/**
 * Mocha hooks for a suite that drives one real Node-RED editor in Chromium: starts Node-RED, opens the
 * editor in a fresh browser, and stops both after the suite (saving Node-RED's log as an artifact).
 */
import type { Page } from 'playwright-core';
import { launchBrowser, saveArtifact, type Browser } from './browser';
import { openEditor } from './editor';
import { startNodeRedEditor, type NodeRedEditor } from './node-red-editor';

export interface EditorInBrowser {
  readonly editor: NodeRedEditor;
  readonly page: Page;
}

/** `prepare` runs against the started runtime before the editor is opened (e.g. to deploy a flow). */
export function editorInBrowser(logName: string, prepare?: (editor: NodeRedEditor) => Promise<void>): EditorInBrowser {
  let editor: NodeRedEditor | undefined;
  let browser: Browser | undefined;

  before(async function () {
    editor = await startNodeRedEditor();
    await prepare?.(editor);
    browser = await launchBrowser();
    await openEditor(browser.page, editor.url);
  });

  after(async function () {
    await browser?.close();
    await editor?.stop();
    if (editor) saveArtifact(logName, editor.output());
  });

  return {
    get editor(): NodeRedEditor {
      if (!editor) throw new Error('the editor has not started');
      return editor;
    },
    get page(): Page {
      if (!browser) throw new Error('the browser has not started');
      return browser.page;
    },
  };
}

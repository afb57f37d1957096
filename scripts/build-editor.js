#!/usr/bin/env node
// Bundles each node's and plugin's editor code (nodes/<type>/editor/index.ts, TypeScript) with esbuild and writes
// dist/nodes/<type>/<type>.html: the node's templates (nodes/<type>/<type>.html) followed by the
// bundle in one <script>, unminified, so `RED.nodes.registerType('<type>', ...)` stays readable to
// the Flow Library's checks. Runs after copy-assets.js (npm run build).
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const nodeRed = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))['node-red'];

/** A node registers its type, a plugin (nodes/<name>/ too) itself. */
async function buildEditor(type, register = 'RED.nodes.registerType') {
  const result = await esbuild.build({
    entryPoints: [path.join(root, 'nodes', type, 'editor', 'index.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: false,
    charset: 'utf8',
    legalComments: 'none',
    tsconfig: path.join(root, 'tsconfig.editor.json'),
    logLevel: 'warning',
  });
  // esbuild prints every string in double quotes; the registration is written the way Node-RED's
  // own nodes and its tools (the Flow Library scorecard) expect: RED.nodes.registerType('<type>', ...).
  const registration = `${register}(${JSON.stringify(type)},`;
  const bundled = result.outputFiles[0].text;
  if (bundled.split(registration).length !== 2) throw new Error(`${type}: the editor must call ${registration} exactly once`);
  const code = bundled.replace(registration, `${register}('${type}',`);
  if (/<\/script/i.test(code)) throw new Error(`${type}: the editor bundle contains "</script"`);
  const templates = fs.readFileSync(path.join(root, 'nodes', type, `${type}.html`), 'utf8').trimEnd();
  if (/<script\s+type="text\/javascript"/.test(templates)) {
    throw new Error(`${type}.html has an inline script: editor code belongs in nodes/${type}/editor/`);
  }
  const target = path.join(root, 'dist', 'nodes', type, `${type}.html`);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, `${templates}\n\n<script type="text/javascript">\n${code}</script>\n`);
}

Promise.all([
  ...Object.keys(nodeRed.nodes).map((type) => buildEditor(type)),
  ...Object.keys(nodeRed.plugins ?? {}).map((plugin) => buildEditor(plugin, 'RED.plugins.registerPlugin')),
]).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});

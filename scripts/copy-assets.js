#!/usr/bin/env node
// tsc compiles only .ts; Node-RED also needs each node's editor .html, locales and icons
// beside the compiled .js, so mirror them from nodes/ into dist/nodes/.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const src = path.join(root, 'nodes');
const dest = path.join(root, 'dist', 'nodes');
const assetExtensions = new Set(['.html', '.json', '.svg', '.png']);

function copyAssets(from, to) {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) {
      copyAssets(source, target);
    } else if (assetExtensions.has(path.extname(entry.name))) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(source, target);
    }
  }
}

copyAssets(src, dest);

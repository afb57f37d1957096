#!/usr/bin/env node
// Removes dist/ before the package is built for packing, so no file of an earlier build (a renamed
// module, a compiled test) can reach the tarball.
const fs = require('node:fs');
const path = require('node:path');

fs.rmSync(path.resolve(__dirname, '..', 'dist'), { recursive: true, force: true });

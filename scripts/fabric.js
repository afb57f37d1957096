#!/usr/bin/env node
// Entry point of `npm run fabric -- start|stop|status` and of the executable `scripts/fabric.js`.
require('../dist/fabric/cli.js');

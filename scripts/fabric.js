#!/usr/bin/env node
// Entry point of `npm run fabric -- start|stop|status` and of the `diaspora-fabric` bin.
require('../dist/fabric/cli.js');

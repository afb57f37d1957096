/**
 * The benchmark's Node-RED: a real runtime embedded as Node-RED's documentation shows, in a
 * process of its own, with a user directory whose node_modules holds this package (a link to the
 * repository) and the bench nodes. Run as `node host.js <userDir> [<settings JSON>]`; prints one JSON line
 * `{"port": n}` once started; stops on SIGTERM.
 */
import * as http from 'node:http';
import type { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import RED = require('node-red');

async function main(): Promise<void> {
  const [userDir, extraSettings = '{}'] = process.argv.slice(2);
  if (!userDir) throw new Error('usage: node host.js <userDir> [<settings as JSON>]');
  const app = express();
  const server = http.createServer(app);
  RED.init(server, {
    userDir,
    flowFile: 'flows.json',
    httpAdminRoot: '/',
    httpNodeRoot: '/api',
    disableEditor: true,
    uiPort: 0,
    uiHost: '127.0.0.1',
    apiMaxLength: '50mb',
    logging: { console: { level: 'warn', metrics: false, audit: false } },
    telemetry: { enabled: false },
    ...(JSON.parse(extraSettings) as Record<string, unknown>),
  } as Parameters<typeof RED.init>[1]);
  app.use('/', RED.httpAdmin);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // RED.start() resolves before the stored flows and credentials are loaded; a deploy in between
  // would have its credentials replaced by that load. Announce the port once flows have started.
  const events = (RED as unknown as { events: EventEmitter }).events;
  const flowsStarted = new Promise<void>((resolve) => events.once('flows:started', () => resolve()));
  await RED.start();
  await flowsStarted;
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);

  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    void RED.stop()
      .catch((err: unknown) => process.stderr.write(`stop: ${String(err)}\n`))
      .then(() => {
        server.closeAllConnections();
        server.close(() => process.exit(0));
      });
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

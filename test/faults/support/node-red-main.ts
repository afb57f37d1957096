/**
 * A real Node-RED in a process of its own, embedded as its documentation shows, with the settings
 * the fault tests need: a user directory, this package's nodes, optional adminAuth users, a
 * credential secret and a log level. Run as `node node-red-main.js <options.json>`; prints one JSON
 * line `{"port": n}` once started; stops cleanly on SIGTERM. Every log line goes to stdout.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import RED = require('node-red');
// Node-RED's own password hashing (bcryptjs is its fallback implementation, installed with it).
import bcrypt = require('bcryptjs');
import type { NodeRedOptions } from './node-red-runner';


async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node node-red-main.js <options.json>');
  const options = JSON.parse(fs.readFileSync(file, 'utf8')) as NodeRedOptions;
  const app = express();
  const server = http.createServer(app);
  const settings = {
    userDir: options.userDir,
    nodesDir: options.nodesDir,
    flowFile: 'flows.json',
    credentialSecret: options.credentialSecret,
    httpAdminRoot: '/',
    httpNodeRoot: '/api',
    uiPort: 0,
    uiHost: '127.0.0.1',
    logging: { console: { level: options.logLevel, metrics: false, audit: true } },
    ...(options.adminAuth
      ? {
          adminAuth: {
            type: 'credentials',
            users: options.adminAuth.map((u) => ({ username: u.username, password: bcrypt.hashSync(u.password, 4), permissions: u.permissions })),
          },
        }
      : {}),
  };
  // Node-RED accepts any permission string (nodes define their own, e.g. diaspora-config.read);
  // its type declarations list only the built-in ones.
  RED.init(server, settings as unknown as Parameters<typeof RED.init>[1]);
  app.use('/', RED.httpAdmin);
  // The flows' own HTTP endpoints (http in nodes), under httpNodeRoot.
  app.use(settings.httpNodeRoot, RED.httpNode);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await RED.start();
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

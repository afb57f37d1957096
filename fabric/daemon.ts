/**
 * The emulators daemon: a detached Node process that runs the Globus Auth emulator and the Diaspora
 * service emulator for the local fabric. Started by fabric.ts with the path of its configuration
 * (`<fabricDir>/emulators.json`); stdout/stderr go to `<fabricDir>/logs/emulators.log`.
 * SIGTERM or SIGINT closes both servers and the broker admin connection, then exits.
 */
import { startAuthEmulator, type RunningAuthEmulator } from './auth-emulator';
import { readDaemonConfig } from './daemon-config';
import { createFabricKafkaAdmin } from './kafka-admin';
import type { FabricKafkaAdmin } from './kafka-admin-api';
import { startServiceEmulator, type RunningServiceEmulator } from './service-emulator';

function log(message: string): void {
  process.stdout.write(`[${new Date().toISOString()}] daemon: ${message}\n`);
}

async function main(configFile: string | undefined): Promise<void> {
  if (!configFile) throw new Error('usage: node daemon.js <emulators.json>');
  const config = readDaemonConfig(configFile);
  // Filled as each part starts, so a SIGTERM during startup still closes what is open.
  const parts: { kafka?: FabricKafkaAdmin; auth?: RunningAuthEmulator; service?: RunningServiceEmulator } = {};

  let closing: Promise<void> | undefined;
  const close = (signal: string): Promise<void> => {
    closing ??= (async () => {
      log(`${signal}: closing`);
      const results = await Promise.allSettled([parts.service?.close(), parts.auth?.close()]);
      await parts.kafka?.close().catch(() => undefined);
      for (const result of results) if (result.status === 'rejected') log(`close failed: ${String(result.reason)}`);
      log('closed');
    })();
    return closing;
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void close(signal).then(() => process.exit(0));
    });
  }

  log(`starting (pid ${process.pid})`);
  const kafka = await createFabricKafkaAdmin({ brokers: config.kafka.brokers, ...config.kafka.admin });
  parts.kafka = kafka;
  const auth = await startAuthEmulator({
    port: config.auth.port,
    users: config.auth.users,
    clients: config.auth.clients,
    nativeClientId: config.auth.nativeClientId,
    resourceServer: config.resourceServer,
    adminPassword: config.adminPassword,
    statePath: config.auth.statePath,
  });
  parts.auth = auth;
  log(`auth emulator on ${auth.url}`);
  const service = await startServiceEmulator({
    port: config.service.port,
    authUrl: auth.url,
    resourceServer: config.resourceServer,
    kafka,
    endpoint: config.service.endpoint,
    keyPropagationDelayMs: config.service.keyPropagationDelayMs,
    adminPassword: config.adminPassword,
    statePath: config.service.statePath,
    dataPlane: { brokers: config.kafka.brokers, ...config.kafka.admin },
  });
  parts.service = service;
  log(`service emulator on ${service.url} (key propagation delay ${config.service.keyPropagationDelayMs} ms)`);
}

main(process.argv[2]).catch((err: unknown) => {
  log(`failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exit(1);
});

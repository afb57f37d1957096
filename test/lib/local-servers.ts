/** Small local HTTP servers for the client tests: emulators on port 0, and misbehaving servers. */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateIdentities, type FabricIdentities } from '../../fabric/identities';
import { startAuthEmulator } from '../../fabric/auth-emulator';
import { fabricFile } from '../../fabric/contract';
import { loadFabric } from '../fixtures/fabric';
import { DIASPORA_RESOURCE_SERVER, SDK_NATIVE_CLIENT_ID } from '../../lib/globus/constants';

export const NATIVE_CLIENT_ID = SDK_NATIVE_CLIENT_ID;

export interface RunningAuth {
  url: string;
  identities: FabricIdentities;
  close(): Promise<void>;
}

/** A fresh Globus Auth emulator on a random loopback port, with newly generated identities. */
export async function startTestAuth(): Promise<RunningAuth> {
  const identities = generateIdentities();
  const emulator = await startAuthEmulator({
    port: 0,
    users: identities.users,
    clients: identities.clients,
    nativeClientId: NATIVE_CLIENT_ID,
    resourceServer: { clientId: DIASPORA_RESOURCE_SERVER, clientSecret: identities.resourceServerSecret },
    adminPassword: identities.adminPassword,
  });
  return { url: emulator.url, identities, close: () => emulator.close() };
}

export interface TinyServer {
  url: string;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1:0 that answers every request with `handler`. */
export async function startTinyServer(handler: http.RequestListener): Promise<TinyServer> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** A loopback URL on which nothing listens (a port that was just free). */
export async function closedPortUrl(): Promise<string> {
  const tiny = await startTinyServer((_req, res) => res.end());
  await tiny.close();
  return tiny.url;
}

/**
 * The real broker to wire the service emulator to: the running fabric's when `.fabric/fabric.json`
 * exists (npm test), otherwise the development broker (DIASPORA_DEV_BROKERS, default
 * 127.0.0.1:29092, super user admin/admin-secret).
 */
export function brokerTarget(): { brokers: string[]; admin: { username: string; password: string } } {
  if (fs.existsSync(fabricFile())) {
    const fabric = loadFabric();
    return { brokers: fabric.brokers, admin: fabric.admin };
  }
  return {
    brokers: (process.env.DIASPORA_DEV_BROKERS ?? '127.0.0.1:29092').split(','),
    admin: { username: process.env.DIASPORA_DEV_ADMIN ?? 'admin', password: process.env.DIASPORA_DEV_ADMIN_PASSWORD ?? 'admin-secret' },
  };
}

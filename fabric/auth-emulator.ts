/**
 * Globus Auth emulator for the local fabric: OIDC discovery, authorize (PKCE S256) with a sign-in page
 * for test users, the auth-code page, token (authorization_code, refresh_token, client_credentials) with
 * Globus's response shape, userinfo, introspect, revoke, and /_fabric control routes.
 * The routes live in fabric/auth/; this module wires them and owns the HTTP server.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import { AuthorizationCodes } from './auth/authorization-codes';
import { authorizeRoutes } from './auth/authorize-routes';
import { controlRoutes } from './auth/control-routes';
import { discoveryRoutes } from './auth/discovery-routes';
import { IdentityDirectory } from './auth/identities';
import { oauthErrorHandler } from './auth/oauth-error';
import { resourceRoutes } from './auth/resource-routes';
import { generateSigningKey, loadSigningKey } from './auth/signing-key';
import { readState, writeState } from './auth/state-file';
import { TokenStore } from './auth/token-store';
import { tokenRoutes } from './auth/token-routes';
import type { EmulatorContext } from './auth/context';
import type { FabricClient, FabricUser } from './contract';

export interface AuthEmulatorOptions {
  /** 0 = a random free port. */
  port: number;
  users: FabricUser[];
  clients: FabricClient[];
  nativeClientId: string;
  /** The Diaspora service's confidential client (clientId = DIASPORA_RESOURCE_SERVER); may introspect. */
  resourceServer: { clientId: string; clientSecret: string };
  /** Guards /_fabric/* control routes: HTTP Basic admin:<password>. */
  adminPassword: string;
  /** Default 3600. */
  accessTokenTtlSeconds?: number;
  /** Persist the signing key and issued tokens (JSON) so a fabric restart keeps sessions. */
  statePath?: string;
}

export interface RunningAuthEmulator {
  /** http://127.0.0.1:<port>, also the OIDC issuer. */
  url: string;
  close(): Promise<void>;
}

const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 3600;

export async function startAuthEmulator(opts: AuthEmulatorOptions): Promise<RunningAuthEmulator> {
  checkOptions(opts);
  const directory = new IdentityDirectory(opts.users, [
    ...opts.clients,
    { clientId: opts.resourceServer.clientId, clientSecret: opts.resourceServer.clientSecret, sub: opts.resourceServer.clientId },
  ]);
  if (directory.confidentialClient(opts.nativeClientId)) {
    throw new Error(`The native client id ${opts.nativeClientId} must not also be a confidential client.`);
  }

  const persisted = opts.statePath ? readState(opts.statePath) : undefined;
  const signingKey = persisted ? await loadSigningKey(persisted.signingKey) : await generateSigningKey();
  const persist = (): void => {
    if (opts.statePath) writeState(opts.statePath, { version: 1, signingKey: signingKey.privateJwk, tokens: tokens.snapshot() });
  };
  const tokens: TokenStore = new TokenStore(persisted?.tokens ?? [], persist);
  persist();

  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const ctx: EmulatorContext = {
    issuer: url,
    nativeClientId: opts.nativeClientId,
    directory,
    resourceServers: new Set([opts.resourceServer.clientId, ...opts.clients.map((client) => client.clientId)]),
    tokens,
    codes: new AuthorizationCodes(),
    signingKey,
    config: { accessTokenTtlSeconds: opts.accessTokenTtlSeconds ?? DEFAULT_ACCESS_TOKEN_TTL_SECONDS },
    counters: { userinfo: 0, introspections: 0, revocations: 0, grants: { authorization_code: 0, refresh_token: 0, client_credentials: 0 } },
    adminPassword: opts.adminPassword,
  };
  server.on('request', buildApp(ctx));

  let closing: Promise<void> | undefined;
  return {
    url,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function buildApp(ctx: EmulatorContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(discoveryRoutes(ctx));
  app.use(authorizeRoutes(ctx));
  app.use(tokenRoutes(ctx));
  app.use(resourceRoutes(ctx));
  app.use(controlRoutes(ctx));
  app.use((req, res) => {
    res.status(404).json({ error: 'not_found', error_description: `No route ${req.method} ${req.path} on the Globus Auth emulator.` });
  });
  app.use(oauthErrorHandler);
  return app;
}

function checkOptions(opts: AuthEmulatorOptions): void {
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new Error(`Auth emulator port must be 0–65535, got ${opts.port}.`);
  if (!opts.nativeClientId) throw new Error('Auth emulator needs nativeClientId (the public native app client id).');
  if (!opts.resourceServer?.clientId || !opts.resourceServer.clientSecret) {
    throw new Error('Auth emulator needs resourceServer.clientId and resourceServer.clientSecret (the Diaspora service client).');
  }
  if (!opts.adminPassword) throw new Error('Auth emulator needs adminPassword for its /_fabric control routes.');
  const ttl = opts.accessTokenTtlSeconds;
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1)) throw new Error(`accessTokenTtlSeconds must be a positive whole number, got ${ttl}.`);
}

/** The identities the emulator knows: test users (PKCE sign-in) and confidential clients (client credentials). */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FabricClient, FabricUser } from '../contract';

/** Fixed ids for the emulator's two "identity providers", shaped like Globus's (UUIDs). */
const TEST_IDP = { id: '6a5b6f8c-6f1e-4a4a-9c1e-2d3f4b5a6c7d', name: 'Diaspora Local Fabric Test IdP' };
const CLIENTS_IDP = { id: '5f5c0a6a-3b62-4ad7-8c60-4d0a8b8e2f11', name: 'Globus Auth clients' };

export interface Identity {
  sub: string;
  kind: 'user' | 'client';
  preferredUsername: string;
  name: string;
  email: string | null;
  identityProvider: string;
  identityProviderDisplayName: string;
}

export interface ConfidentialClient {
  clientId: string;
  clientSecret: string;
  sub: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class IdentityDirectory {
  private readonly usersByName = new Map<string, FabricUser>();
  private readonly identitiesBySub = new Map<string, Identity>();
  private readonly clientsById = new Map<string, ConfidentialClient>();

  constructor(users: FabricUser[], clients: ConfidentialClient[]) {
    for (const user of users) {
      if (!user.username || !user.password) throw new Error('Every auth emulator user needs a username and a password.');
      if (!UUID.test(user.sub)) throw new Error(`Auth emulator user "${user.username}" needs a UUID sub, got "${user.sub}".`);
      if (this.usersByName.has(user.username)) throw new Error(`Duplicate auth emulator user "${user.username}".`);
      this.usersByName.set(user.username, user);
      this.identitiesBySub.set(user.sub, userIdentity(user));
    }
    for (const client of clients) {
      if (!client.clientId || !client.clientSecret) throw new Error('Every confidential client needs a clientId and a clientSecret.');
      if (this.clientsById.has(client.clientId)) throw new Error(`Duplicate confidential client "${client.clientId}".`);
      this.clientsById.set(client.clientId, client);
      this.identitiesBySub.set(client.sub, clientIdentity(client));
    }
  }

  /** The user whose password matches, or undefined (same answer for an unknown user and a wrong password). */
  authenticateUser(username: string, password: string): FabricUser | undefined {
    const user = this.usersByName.get(username);
    return user && secretsEqual(user.password, password) ? user : undefined;
  }

  usernames(): string[] {
    return [...this.usersByName.keys()];
  }

  confidentialClient(clientId: string): ConfidentialClient | undefined {
    return this.clientsById.get(clientId);
  }

  identity(sub: string): Identity | undefined {
    return this.identitiesBySub.get(sub);
  }
}

/** Constant-time comparison of two secrets of any length. */
export function secretsEqual(expected: string, given: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(expected), digest(given));
}

function userIdentity(user: FabricUser): Identity {
  return {
    sub: user.sub,
    kind: 'user',
    preferredUsername: user.username,
    name: user.username,
    email: user.username.includes('@') ? user.username : `${user.username}@fabric.local`,
    identityProvider: TEST_IDP.id,
    identityProviderDisplayName: TEST_IDP.name,
  };
}

function clientIdentity(client: FabricClient | ConfidentialClient): Identity {
  return {
    sub: client.sub,
    kind: 'client',
    // Globus names a client's identity <client id>@clients.auth.globus.org.
    preferredUsername: `${client.clientId}@clients.auth.globus.org`,
    name: client.clientId,
    email: null,
    identityProvider: CLIENTS_IDP.id,
    identityProviderDisplayName: CLIENTS_IDP.name,
  };
}

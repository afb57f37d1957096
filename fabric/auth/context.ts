/** Everything the emulator's routes share. */
import type { AuthorizationCodes } from './authorization-codes';
import type { IdentityDirectory } from './identities';
import type { SigningKey } from './signing-key';
import type { TokenStore } from './token-store';

export interface EmulatorConfig {
  accessTokenTtlSeconds: number;
}

export interface RequestCounters {
  userinfo: number;
  introspections: number;
  revocations: number;
  grants: Record<'authorization_code' | 'refresh_token' | 'client_credentials', number>;
}

export interface EmulatorContext {
  /** The emulator's base URL, also the OIDC issuer. */
  issuer: string;
  nativeClientId: string;
  directory: IdentityDirectory;
  /** Client ids that are resource servers (scopes https://auth.globus.org/scopes/<id>/…). */
  resourceServers: ReadonlySet<string>;
  tokens: TokenStore;
  codes: AuthorizationCodes;
  signingKey: SigningKey;
  config: EmulatorConfig;
  counters: RequestCounters;
  adminPassword: string;
}

/** /.well-known/openid-configuration and /jwk.json, shaped like https://auth.globus.org's. */
import express, { type Router } from 'express';
import { GLOBUS_AUTH_SCOPES } from './scopes';
import { ID_TOKEN_ALG } from './signing-key';
import type { EmulatorContext } from './context';

export function openidConfiguration(issuer: string): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}/v2/oauth2/authorize`,
    token_endpoint: `${issuer}/v2/oauth2/token`,
    userinfo_endpoint: `${issuer}/v2/oauth2/userinfo`,
    revocation_endpoint: `${issuer}/v2/oauth2/token/revoke`,
    introspection_endpoint: `${issuer}/v2/oauth2/token/introspect`,
    jwks_uri: `${issuer}/jwk.json`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [ID_TOKEN_ALG],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: [...GLOBUS_AUTH_SCOPES],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'preferred_username', 'name', 'email', 'identity_provider', 'identity_provider_display_name'],
  };
}

export function discoveryRoutes(ctx: EmulatorContext): Router {
  const router = express.Router();
  const configuration = openidConfiguration(ctx.issuer);
  router.get('/.well-known/openid-configuration', (_req, res) => {
    res.json(configuration);
  });
  router.get('/jwk.json', (_req, res) => {
    res.json(ctx.signingKey.publicJwks);
  });
  return router;
}

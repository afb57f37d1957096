/** The RSA key that signs id_tokens (RS512, as Globus) and the public JWK Set served at /jwk.json. */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
import type { JWK, JWTPayload } from 'jose';

export const ID_TOKEN_ALG = 'RS512';

export interface SigningKey {
  /** Private JWK, for the state file. */
  privateJwk: JWK;
  /** The JWK Set body of /jwk.json. */
  publicJwks: { keys: JWK[] };
  sign(claims: JWTPayload): Promise<string>;
}

export async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair(ID_TOKEN_ALG, { modulusLength: 2048, extractable: true });
  return loadSigningKey(await exportJWK(privateKey));
}

export async function loadSigningKey(privateJwk: JWK): Promise<SigningKey> {
  if (privateJwk.kty !== 'RSA' || typeof privateJwk.d !== 'string' || !privateJwk.n || !privateJwk.e) {
    throw new Error('The persisted id_token signing key is not a private RSA JWK; delete the auth emulator state file to start afresh.');
  }
  const key = await importJWK(privateJwk, ID_TOKEN_ALG);
  const kid = await calculateJwkThumbprint({ kty: 'RSA', n: privateJwk.n, e: privateJwk.e });
  const publicJwk: JWK = { kty: 'RSA', n: privateJwk.n, e: privateJwk.e, alg: ID_TOKEN_ALG, use: 'sig', kid };
  return {
    privateJwk: { kty: 'RSA', n: privateJwk.n, e: privateJwk.e, d: privateJwk.d, p: privateJwk.p, q: privateJwk.q, dp: privateJwk.dp, dq: privateJwk.dq, qi: privateJwk.qi },
    publicJwks: { keys: [publicJwk] },
    sign: (claims) => new SignJWT(claims).setProtectedHeader({ alg: ID_TOKEN_ALG, kid, typ: 'JWT' }).sign(key),
  };
}

/** PKCE (RFC 7636), S256 only, as Globus requires for native apps. */
import { createHash } from 'node:crypto';

/** RFC 7636 4.1: 43–128 unreserved characters. */
export const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
/** base64url(SHA-256(verifier)) without padding is always 43 characters. */
export const S256_CHALLENGE = /^[A-Za-z0-9\-_]{43}$/;

export function s256Challenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

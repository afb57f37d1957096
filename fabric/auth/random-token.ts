/** Unguessable identifiers made only of [A-Za-z0-9], so tokens pass the real service's ^\w+$ check. */
import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Bytes at or above this are dropped, so every character is equally likely (248 = 4 × 62). */
const UNBIASED_LIMIT = 248;

export function randomAlphanumeric(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length)) {
      if (byte < UNBIASED_LIMIT && out.length < length) out += ALPHABET[byte % ALPHABET.length];
    }
  }
  return out;
}

/** Globus access and refresh tokens start with "Ag"; the length here is within the service's 33–254. */
export const newAccessToken = (): string => `Ag${randomAlphanumeric(46)}`;
export const newRefreshToken = (): string => `Ag${randomAlphanumeric(70)}`;
export const newAuthorizationCode = (): string => randomAlphanumeric(30);

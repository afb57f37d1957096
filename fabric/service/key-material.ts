/** Key material shaped like AWS IAM access keys, as the real service hands them out. */
import * as crypto from 'node:crypto';

function randomFrom(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += alphabet[crypto.randomInt(alphabet.length)];
  return out;
}

/** "AKIA" + 16 characters of base32, like an IAM access key id (20 characters). */
export function newAccessKeyId(): string {
  return `AKIA${randomFrom('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`;
}

/** 40 characters of base64's alphabet, like an IAM secret access key. */
export function newSecretAccessKey(): string {
  return randomFrom('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 40);
}

/** Python's `datetime.isoformat()` of an IAM CreateDate: second precision, "+00:00". */
export function isoCreateDate(at: Date = new Date()): string {
  return `${at.toISOString().slice(0, 19)}+00:00`;
}

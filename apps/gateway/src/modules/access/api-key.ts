import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys: `dsk_` + 32 random bytes in base64url (256 bits). The database keeps only the SHA-256 digest
 * of the whole key and a public key id derived from it (`kid_` + 16 hex of a separate hash), never the key
 * nor any part of it. A presented key is looked up by its derived id and compared in constant time on
 * fixed-length (32-byte) digests.
 */
export const KEY_PREFIX = 'dsk_';
const KEY_RE = /^dsk_[A-Za-z0-9_-]{43}$/;

export interface NewApiKey {
  /** Shown once, to its owner, at creation. */
  key: string;
  keyId: string;
  digest: Buffer;
}

export function generateApiKey(): NewApiKey {
  const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, keyId: keyIdOf(key), digest: digestOf(key) };
}

/** A well-formed key string, or undefined for anything else (wrong prefix, length or alphabet). */
export function parseApiKey(candidate: string): string | undefined {
  return KEY_RE.test(candidate) ? candidate : undefined;
}

/** One-shot `crypto.hash` (no Hash object per call): both run on every authenticated request. */
export function digestOf(key: string): Buffer {
  return hash('sha256', key, 'buffer');
}

export function keyIdOf(key: string): string {
  return `kid_${hash('sha256', `desk-key-id\0${key}`, 'hex').slice(0, 16)}`;
}

const DUMMY_DIGEST = Buffer.alloc(32);

/** Constant-time comparison of two 32-byte digests; a missing stored digest still costs one comparison. */
export function digestsMatch(presented: Buffer, stored: Buffer | undefined): boolean {
  const ok = timingSafeEqual(presented, stored && stored.length === 32 ? stored : DUMMY_DIGEST);
  return ok && stored !== undefined && stored.length === 32;
}

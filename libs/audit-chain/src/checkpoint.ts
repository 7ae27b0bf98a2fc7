import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import type { ChainHead } from './verify';

/**
 * A signed head of the chain. The signature (Ed25519, base64) covers `${seq}:${hash}`; `publicKey` is the
 * signer's key (base64 SPKI DER) and `keyId` its fingerprint. A verifier trusts a checkpoint only through
 * a public key it got elsewhere (configuration), never through the key stored beside it.
 */
export interface Checkpoint extends ChainHead {
  signature: string;
  keyId: string;
  publicKey: string;
  createdAt: string;
}

export class SigningKeyError extends Error {
  override name = 'SigningKeyError';
}

function decodeKey(text: string, kind: 'private' | 'public'): KeyObject {
  const trimmed = text.trim();
  try {
    if (trimmed.startsWith('-----BEGIN')) {
      return kind === 'private' ? createPrivateKey(trimmed) : createPublicKey(trimmed);
    }
    const der = Buffer.from(trimmed, 'base64');
    return kind === 'private'
      ? createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
      : createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    throw new SigningKeyError(
      kind === 'private'
        ? 'is not a private key (expected base64 of PKCS#8 DER, or PEM)'
        : 'is not a public key (expected base64 of SPKI DER, or PEM)',
    );
  }
}

function ed25519(key: KeyObject): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new SigningKeyError(`must be an Ed25519 key, not ${key.asymmetricKeyType ?? 'a symmetric key'}`);
  }
  return key;
}

/** An Ed25519 private key from base64 PKCS#8 DER (one line, for an environment variable) or PEM. */
export function parsePrivateKey(text: string): KeyObject {
  return ed25519(decodeKey(text, 'private'));
}

/** An Ed25519 public key from base64 SPKI DER or PEM. Given a private key object, its public half. */
export function parsePublicKey(text: string | KeyObject): KeyObject {
  if (typeof text !== 'string') return ed25519(publicHalf(text));
  return ed25519(decodeKey(text, 'public'));
}

/** base64 SPKI DER of a public key (or of a private key's public half). */
export function publicKeyText(key: KeyObject): string {
  return publicHalf(key).export({ format: 'der', type: 'spki' }).toString('base64');
}

function publicHalf(key: KeyObject): KeyObject {
  return key.type === 'public' ? key : createPublicKey(key);
}

/** Fingerprint of a public key: the first 16 hex digits of SHA-256 over its SPKI DER. */
export function keyIdOf(key: KeyObject): string {
  const der = publicHalf(key).export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

export function checkpointMessage(head: ChainHead): Buffer {
  return Buffer.from(`${head.seq}:${head.hash}`, 'utf8');
}

export function signCheckpoint(
  head: ChainHead,
  privateKey: KeyObject,
): Pick<Checkpoint, 'seq' | 'hash' | 'signature' | 'keyId' | 'publicKey'> {
  return {
    seq: head.seq,
    hash: head.hash,
    signature: sign(null, checkpointMessage(head), privateKey).toString('base64'),
    keyId: keyIdOf(privateKey),
    publicKey: publicKeyText(privateKey),
  };
}

/**
 * Why a checkpoint cannot be trusted, or undefined when its signature verifies under one of the trusted
 * keys. With no trusted keys at all, the key stored with the checkpoint is used (which proves only that
 * the checkpoint was not altered without re-signing; the caller must say so).
 */
export function checkpointProblem(cp: Checkpoint, trustedKeys: readonly KeyObject[]): string | undefined {
  let key: KeyObject | undefined;
  if (trustedKeys.length) {
    key = trustedKeys.find((k) => keyIdOf(k) === cp.keyId);
    if (!key) return `checkpoint ${cp.seq} is signed by key ${cp.keyId}, which is not a trusted key`;
  } else {
    try {
      key = parsePublicKey(cp.publicKey);
    } catch {
      return `checkpoint ${cp.seq} carries an unreadable public key`;
    }
    if (keyIdOf(key) !== cp.keyId)
      return `checkpoint ${cp.seq} names key ${cp.keyId} but carries another key`;
  }
  let valid = false;
  try {
    valid = verify(null, checkpointMessage(cp), key, Buffer.from(cp.signature, 'base64'));
  } catch {
    valid = false;
  }
  return valid ? undefined : `checkpoint ${cp.seq} has an invalid signature`;
}

/** A new Ed25519 key pair as the texts the configuration takes. */
export function generateSigningKey(): { privateKey: string; publicKey: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
    publicKey: publicKeyText(publicKey),
    keyId: keyIdOf(publicKey),
  };
}

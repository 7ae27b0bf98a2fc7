import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import {
  checkpointProblem,
  generateSigningKey,
  keyIdOf,
  parsePrivateKey,
  parsePublicKey,
  publicKeyText,
  signCheckpoint,
  type Checkpoint,
} from './checkpoint';

const head = { seq: '42', hash: 'ab'.repeat(32) };

function signed(privateKeyText: string): Checkpoint {
  return {
    ...signCheckpoint(head, parsePrivateKey(privateKeyText)),
    createdAt: '2026-01-01T00:00:00.000000Z',
  };
}

describe('checkpoint signing (Ed25519)', () => {
  const key = generateSigningKey();
  const trusted = [parsePublicKey(key.publicKey)];

  it('signs seq:hash and verifies under the trusted key', () => {
    const cp = signed(key.privateKey);
    expect(cp).toMatchObject({ seq: '42', hash: head.hash, keyId: key.keyId, publicKey: key.publicKey });
    expect(checkpointProblem(cp, trusted)).toBeUndefined();
  });

  it('rejects a checkpoint whose seq, hash or signature was changed', () => {
    const cp = signed(key.privateKey);
    expect(checkpointProblem({ ...cp, seq: '43' }, trusted)).toMatch(/invalid signature/);
    expect(checkpointProblem({ ...cp, hash: 'cd'.repeat(32) }, trusted)).toMatch(/invalid signature/);
    expect(checkpointProblem({ ...cp, signature: 'AAAA' }, trusted)).toMatch(/invalid signature/);
  });

  it('rejects a checkpoint signed by a key that is not trusted, even one stored beside it', () => {
    const forger = generateSigningKey();
    const forged = signed(forger.privateKey);
    expect(checkpointProblem(forged, [])).toBeUndefined(); // self-consistent…
    expect(checkpointProblem(forged, trusted)).toMatch(/not a trusted key/); // …but not ours
    expect(checkpointProblem({ ...forged, keyId: key.keyId }, [])).toMatch(/carries another key/);
  });

  it('reads keys as base64 DER or PEM, and only Ed25519 keys', () => {
    const pair = generateKeyPairSync('ed25519');
    const pem = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(keyIdOf(parsePrivateKey(pem))).toBe(keyIdOf(pair.publicKey));
    expect(
      publicKeyText(parsePublicKey(pair.publicKey.export({ format: 'pem', type: 'spki' }).toString())),
    ).toBe(publicKeyText(pair.publicKey));
    expect(keyIdOf(parsePublicKey(parsePrivateKey(key.privateKey)))).toBe(key.keyId);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => parsePrivateKey(rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString())).toThrow(
      /Ed25519/,
    );
    expect(() => parsePrivateKey('not a key')).toThrow(/PKCS#8/);
    expect(() => parsePublicKey(key.privateKey)).toThrow(/SPKI/);
  });
});

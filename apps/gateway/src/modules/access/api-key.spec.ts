import { describe, expect, it } from '@jest/globals';
import { digestOf, digestsMatch, generateApiKey, keyIdOf, parseApiKey } from './api-key';
import { Role, grants } from './role';

describe('API keys', () => {
  it('have a recognisable prefix, 256 random bits, and a public id that is not part of the key', () => {
    const { key, keyId, digest } = generateApiKey();
    expect(key).toMatch(/^dsk_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(key.slice(4), 'base64url')).toHaveLength(32);
    expect(keyId).toMatch(/^kid_[0-9a-f]{16}$/);
    expect(key).not.toContain(keyId.slice(4));
    expect(digest).toEqual(digestOf(key));
    expect(keyIdOf(key)).toBe(keyId);
    expect(generateApiKey().key).not.toBe(key);
  });

  it('derive the same digest and id as ever (keys stored by earlier releases still authenticate)', () => {
    // Known answers from `sha256sum`, independent of this code: the stored digests and ids depend on them.
    const key = `dsk_${'A'.repeat(43)}`;
    expect(digestOf(key).toString('hex')).toBe(
      '0300de8d29bab3b554fb9a92afdd973362f0b8cb66b16394c3ab1884d9e46896',
    );
    expect(keyIdOf(key)).toBe('kid_a42f9e5b6e7e9394');
  });

  it('refuse anything that is not exactly a key', () => {
    const { key } = generateApiKey();
    expect(parseApiKey(key)).toBe(key);
    for (const bad of [
      '',
      'dsk_',
      key.slice(0, -1),
      `${key}A`,
      key.replace('dsk_', 'xyz_'),
      `${key.slice(0, -1)}!`,
      ` ${key}`,
    ]) {
      expect(parseApiKey(bad)).toBeUndefined();
    }
  });

  it('compare digests of equal length only, and never match a missing one', () => {
    const a = digestOf('a');
    expect(digestsMatch(a, digestOf('a'))).toBe(true);
    expect(digestsMatch(a, digestOf('b'))).toBe(false);
    expect(digestsMatch(a, undefined)).toBe(false);
    expect(digestsMatch(a, Buffer.alloc(5))).toBe(false);
  });
});

describe('roles', () => {
  it('do not imply each other, except that every role may read', () => {
    expect(grants([Role.Trader], Role.Viewer)).toBe(true);
    expect(grants([Role.Admin], Role.Trader)).toBe(false);
    expect(grants([Role.Trader], Role.Approver)).toBe(false);
    expect(grants([Role.Viewer], Role.Trader)).toBe(false);
    expect(grants([], Role.Viewer)).toBe(false);
    expect(grants([Role.RiskAdmin, Role.Trader], Role.Trader)).toBe(true);
  });
});

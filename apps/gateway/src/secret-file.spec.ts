import { lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { replaceSecretFile, writeSecretFile } from './secret-file';

describe('secret files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'desk-secret-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the file mode 600 from the start, whatever the umask', () => {
    const old = process.umask(0);
    try {
      writeSecretFile(join(dir, 'key'), 'dsk_secret\n');
    } finally {
      process.umask(old);
    }
    expect(statSync(join(dir, 'key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'key'), 'utf8')).toBe('dsk_secret\n');
  });

  it('refuses a file someone created beforehand (readable by others) or a symlink planted in its place', () => {
    writeFileSync(join(dir, 'planted'), '', { mode: 0o644 });
    expect(() => writeSecretFile(join(dir, 'planted'), 'dsk_secret\n')).toThrow(/EEXIST/);
    expect(readFileSync(join(dir, 'planted'), 'utf8')).toBe('');
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'link'));
    expect(() => writeSecretFile(join(dir, 'link'), 'dsk_secret\n')).toThrow(/EEXIST/);
    expect(() => lstatSync(join(dir, 'elsewhere'))).toThrow();
  });

  it('replaces a secret file through a fresh temporary file, even if a stale one was planted', () => {
    writeFileSync(join(dir, 'admin-key.tmp'), 'stale', { mode: 0o666 });
    writeFileSync(join(dir, 'admin-key'), 'old', { mode: 0o600 });
    replaceSecretFile(join(dir, 'admin-key'), 'dsk_new\n');
    expect(readFileSync(join(dir, 'admin-key'), 'utf8')).toBe('dsk_new\n');
    expect(statSync(join(dir, 'admin-key')).mode & 0o777).toBe(0o600);
  });
});

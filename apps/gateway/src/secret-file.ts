import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';

/**
 * Writes a secret into a new file that is mode 600 from the moment it exists (never created readable and
 * chmod-ed after) and refuses to follow or reuse a file already there (`wx`): nobody can pre-create it to
 * read what is written.
 */
export function writeSecretFile(path: string, content: string): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}

/** Replaces a secret file atomically: written to a fresh temporary file (mode 600 from creation), renamed. */
export function replaceSecretFile(path: string, content: string): void {
  const tmp = `${path}.tmp`;
  rmSync(tmp, { force: true });
  writeSecretFile(tmp, content);
  renameSync(tmp, path);
}

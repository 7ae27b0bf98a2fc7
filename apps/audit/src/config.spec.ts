import { describe, expect, it } from '@jest/globals';
import { generateSigningKey, keyIdOf } from '@desk/audit-chain';
import { ConfigError } from '@desk/platform';
import { loadAuditCliConfig, loadAuditConfig } from './config';

const key = generateSigningKey();
const base = {
  DATABASE_URL: 'postgres://owner:secret@db.internal:5432/trading',
  AUDIT_SIGNING_KEY: key.privateKey,
};

describe('audit configuration', () => {
  it('refuses a Sentry DSN the SDK could not parse, without echoing it (it is a secret)', () => {
    const dsn = 'https://not-a-valid-key@sentry.example/7';
    let message = '';
    try {
      loadAuditConfig({ ...base, SENTRY_DSN: dsn });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/SENTRY_DSN: must be a Sentry DSN/);
    expect(message).not.toContain('not-a-valid-key');
    expect(loadAuditConfig({ ...base, SENTRY_DSN: 'https://0a1b2c@o1.ingest.sentry.io/42' }).SENTRY_DSN).toBe(
      'https://0a1b2c@o1.ingest.sentry.io/42',
    );
  });

  it('refuses to boot without a signing key, saying how to make one', () => {
    expect(() => loadAuditConfig({ ...base, AUDIT_SIGNING_KEY: undefined })).toThrow(ConfigError);
    expect(() => loadAuditConfig({ ...base, AUDIT_SIGNING_KEY: undefined })).toThrow(
      /AUDIT_SIGNING_KEY: is not set.*cli\.js keygen/,
    );
    expect(() => loadAuditConfig({ ...base, AUDIT_SIGNING_KEY: 'garbage' })).toThrow(
      /AUDIT_SIGNING_KEY: is not a private key/,
    );
  });

  it('connects as the audit role, never with the owner or its password', () => {
    const config = loadAuditConfig(base);
    expect(config.auditDatabaseUrl).toBe('postgres://desk_audit@db.internal:5432/trading');
    expect(loadAuditConfig({ ...base, AUDIT_DATABASE_ROLE: 'audit_writer' }).auditDatabaseUrl).toBe(
      'postgres://audit_writer@db.internal:5432/trading',
    );
    const explicit = 'postgres://desk_audit:pw@db.internal:5432/trading';
    expect(loadAuditConfig({ ...base, AUDIT_DATABASE_URL: explicit }).auditDatabaseUrl).toBe(explicit);
    expect(keyIdOf(config.signingKey)).toBe(key.keyId);
  });

  it('gives the verifier the public keys only, the signing key’s own included', () => {
    const other = generateSigningKey();
    const cli = loadAuditCliConfig({ ...base, AUDIT_SIGNING_PUBLIC_KEY: other.publicKey });
    expect(cli.databaseUrl).toBe(base.DATABASE_URL);
    expect(cli.trustedKeys.map((k) => [k.type, keyIdOf(k)])).toEqual([
      ['public', other.keyId],
      ['public', key.keyId],
    ]);
    expect(loadAuditCliConfig({ DATABASE_URL: base.DATABASE_URL }).trustedKeys).toEqual([]);
  });
});

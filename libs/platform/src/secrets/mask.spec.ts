import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { loggerOptions } from '../bootstrap/logging';
import { maskConfig, maskSecret, rememberSecret } from './mask';

/** A logger configured as every service's (loggerOptions), writing into a string. */
function capture(): { logger: pino.Logger; text: () => string } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const { redact, formatters, hooks } = loggerOptions('test', 'info');
  return { logger: pino({ level: 'info', redact, formatters, hooks }, sink), text: () => chunks.join('') };
}

describe('secrets are masked in config dumps and logs', () => {
  it('a masked secret shows at most its last 4 characters, and a short one none', () => {
    expect(maskSecret('abcdefghijklmnopWXYZ')).toBe('****WXYZ');
    expect(maskSecret('short-secret')).toBe('****');
    expect(maskSecret(undefined)).toBe('');
  });

  it('a config dump masks fields named like secrets and URL passwords, and keeps the rest', () => {
    const dump = maskConfig({
      APPROVAL_WEBHOOK_SECRET: 'webhook-secret-value-0123456789-ABCD',
      AUDIT_SIGNING_KEY: 'MC4CAQAwBQYDK2VwBCIEIKEY1',
      SENTRY_DSN: 'https://key@sentry.example/1',
      REDIS_URL: 'redis://desk-risk:redis-password-1@127.0.0.1:6379',
      GATEWAY_DATABASE_URL: 'postgres://desk_gateway:db-password-1@db:5432/trading',
      GATEWAY_PORT: 3000,
      KEY_ROTATION_OVERLAP_SECONDS: 86400,
      nested: { exchanges: [{ apiKey: 'exchange-api-key-12345678', apiKeyId: 'kid_1' }] },
    });
    expect(dump).toEqual({
      APPROVAL_WEBHOOK_SECRET: '****ABCD',
      AUDIT_SIGNING_KEY: '****KEY1',
      SENTRY_DSN: '****le/1',
      REDIS_URL: 'redis://desk-risk:****@127.0.0.1:6379',
      GATEWAY_DATABASE_URL: 'postgres://desk_gateway:****@db:5432/trading',
      GATEWAY_PORT: 3000,
      KEY_ROTATION_OVERLAP_SECONDS: 86400,
      nested: { exchanges: [{ apiKey: '****5678', apiKeyId: 'kid_1' }] },
    });
  });

  it('a log line masks secret fields at any depth and Authorization headers, and known secret values anywhere', () => {
    const { logger, text } = capture();
    const loaded = 'vault-loaded-secret-0f9e8d7c6b5a';
    rememberSecret(loaded);
    logger.info(
      {
        job: { data: { venue: { credentials: { apiSecret: 'deep-api-secret-value-1' } } } },
        request: { headers: { authorization: 'Bearer dk_live_token_value_2', 'x-request-id': 'r1' } },
        upstream: { body: `payload mentioning ${loaded} inside` },
        password: 'top-level-password-3',
      },
      `failed to connect with ${loaded}`,
    );
    logger.warn('connection string %s', `postgres://u:db-password-4@h/db`);
    const out = text();
    for (const value of [
      'deep-api-secret-value-1',
      'dk_live_token_value_2',
      loaded,
      'top-level-password-3',
      'db-password-4',
    ]) {
      expect({ value, leaked: out.includes(value) }).toEqual({ value, leaked: false });
    }
    expect(out).toContain('"x-request-id":"r1"');
    expect(out).toContain('failed to connect with [redacted]');
  });
});

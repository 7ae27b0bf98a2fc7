import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { withCorrelationId } from './correlation';
import { loggerOptions } from './logging';

/** A pino logger with the services' options (redaction, mixin), writing JSON lines into an array. */
function logger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const { level, base, redact, mixin } = loggerOptions('test', 'info');
  return { log: pino({ level, base, redact, mixin }, stream), lines };
}

describe('service logs', () => {
  it('carry the correlation id of the job being handled, and none outside it', () => {
    const { log, lines } = logger();
    withCorrelationId('order-123', () => log.info('placing'));
    log.info('idle');
    expect(lines[0]).toMatchObject({ correlationId: 'order-123', msg: 'placing', service: 'test' });
    expect(lines[1]).not.toHaveProperty('correlationId');
  });

  it('redact authorization headers and secrets at the top level and nested', () => {
    const { log, lines } = logger();
    log.warn(
      {
        password: 'p1',
        token: 't1',
        authorization: 'Bearer a1',
        err: { config: { headers: { authorization: 'Bearer a2' } } },
        request: { headers: { authorization: 'Bearer a3' } },
        vault: { auth: { token: 't2', secret: 's2' } },
      },
      'upstream failed',
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of ['p1', 't1', 'a1', 'a2', 'a3', 't2', 's2']) expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
  });
});

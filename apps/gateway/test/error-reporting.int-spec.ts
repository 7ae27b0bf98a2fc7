import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { JobName, QueueName } from '@desk/contracts';
import { rememberSecret } from '@desk/platform';
import { startFakeSentry, waitFor, type FakeSentry } from '@desk/testing';
import { PositionsService } from '../src/modules/positions/positions.service';
import { startGateway, type Gateway } from './gateway-harness';

/**
 * Error reporting with @sentry/node, its DSN pointed at a local stand-in for Sentry's ingest (no Sentry can
 * be reached from here): an unexpected error behind the API and a failed queue job both arrive, tagged with
 * where they happened, and neither the caller's API key nor any secret the process holds is in them.
 */
describe('errors reach Sentry, scrubbed (local Sentry ingest stand-in, real PostgreSQL and Redis)', () => {
  const VAULT_TOKEN = `hvs.canary-${Date.now()}-vault-token`;
  let sentry: FakeSentry;
  let gw: Gateway;
  let viewer: { key: string };

  beforeAll(async () => {
    sentry = await startFakeSentry();
    gw = await startGateway({
      SENTRY_DSN: sentry.dsn,
      SENTRY_ENVIRONMENT: 'test-desk',
      SENTRY_RELEASE: 'desk@test',
    });
    viewer = await gw.issueKey(['viewer']);
    // A secret this process loaded (as the secrets provider remembers every one it reads).
    rememberSecret(VAULT_TOKEN);
  });

  afterAll(async () => {
    await gw?.close();
    await sentry?.close();
  });

  const leaked = (text: string) => [VAULT_TOKEN, viewer.key].filter((s) => text.includes(s));

  it('reports an unexpected 500 behind the API with its error id, never the key or a secret', async () => {
    jest
      .spyOn(gw.app.get(PositionsService), 'list')
      .mockRejectedValueOnce(new Error(`positions broke while holding ${VAULT_TOKEN}`));
    const res = await gw.app.inject({
      url: '/v1/positions',
      headers: { authorization: `Bearer ${viewer.key}`, cookie: `session=${VAULT_TOKEN}` },
    });
    expect(res.statusCode).toBe(500);
    const errorId = res.json().error.errorId as string;
    const received = await waitFor(
      async () => sentry.events.find((e) => e.event.tags?.error_id === errorId),
      {
        what: 'the 500 at the Sentry stand-in',
      },
    );
    expect(received.event).toMatchObject({
      environment: 'test-desk',
      release: 'desk@test',
      tags: { service: 'gateway', origin: 'http', error_id: errorId },
    });
    expect(received.event.exception.values[0].value).toBe('positions broke while holding [redacted]');
    expect(leaked(sentry.rawBodies.join('\n'))).toEqual([]);
  });

  it('reports a queue job that fails in its processor, tagged with the queue, never its payload', async () => {
    await gw.queue(QueueName.Approvals).add(JobName.ApprovalRequested, {
      schemaVersion: 1,
      intentId: 'not-a-uuid',
      apiKey: VAULT_TOKEN,
    });
    const received = await waitFor(
      async () =>
        sentry.events.find(
          (e) => e.event.tags?.origin === 'queue' && e.event.tags?.queue === QueueName.Approvals,
        ),
      { what: 'the failed job at the Sentry stand-in' },
    );
    expect(received.event.tags).toMatchObject({ service: 'gateway', job_name: JobName.ApprovalRequested });
    expect(leaked(sentry.rawBodies.join('\n'))).toEqual([]);
  });
});

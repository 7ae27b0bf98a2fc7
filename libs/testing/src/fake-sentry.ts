import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** One event as Sentry's ingest received it: the parsed item and its raw JSON text. */
export interface ReceivedSentryEvent {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read whatever the SDK sent
  event: any;
  raw: string;
}

export interface FakeSentry {
  /** A DSN pointing at this server: the SDK posts envelopes to /api/1/envelope/. */
  dsn: string;
  events: ReceivedSentryEvent[];
  /** Every byte received, decoded: for "this value never left the process" checks. */
  rawBodies: string[];
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const buf = Buffer.concat(chunks);
  return (req.headers['content-encoding'] === 'gzip' ? gunzipSync(buf) : buf).toString('utf8');
}

/**
 * A local HTTP server standing in for Sentry's ingest (no Sentry can be reached from here): it accepts
 * envelopes (a header line, then item header and payload lines) and keeps every `event` item.
 */
export async function startFakeSentry(): Promise<FakeSentry> {
  const events: ReceivedSentryEvent[] = [];
  const rawBodies: string[] = [];
  const server = createServer((req, res) => {
    body(req).then(
      (text) => {
        rawBodies.push(text);
        const lines = text.split('\n').filter((l) => l.length > 0);
        for (let i = 1; i + 1 < lines.length; i += 2) {
          const header = JSON.parse(lines[i] ?? '{}') as { type?: string };
          const payload = lines[i + 1] ?? '';
          if (header.type === 'event') events.push({ event: JSON.parse(payload) as unknown, raw: payload });
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      },
      () => res.writeHead(400).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    dsn: `http://0123456789abcdef0123456789abcdef@127.0.0.1:${port}/1`,
    events,
    rawBodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

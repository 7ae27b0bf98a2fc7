import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, register } from 'prom-client';
import { setSecretsSource } from './metrics';

export interface MetricsServerOptions {
  service: string;
  host: string;
  port: number;
}

let defaultsCollected = false;

/**
 * Serves this process's metrics at GET /metrics on an internal port, apart from the service's API (the
 * gateway's public port never serves them; docs/adr/0021). Only Prometheus needs to reach it. Process
 * defaults (CPU, memory, event loop lag, GC) are labelled with the service.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<Server> {
  if (!defaultsCollected) {
    collectDefaultMetrics({ labels: { service: options.service } });
    defaultsCollected = true;
  }
  if (!register.getSingleMetric('desk_secrets_source')) setSecretsSource('environment');
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    register.metrics().then(
      (body) => res.writeHead(200, { 'content-type': register.contentType }).end(body),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

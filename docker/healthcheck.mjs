// The image's HEALTHCHECK: the service's /health/ready on its own port, from inside the container.
const PORTS = { gateway: 3000, 'agent-analysis': 3001, risk: 3002, execution: 3003, audit: 3004 };
const service = process.env.DESK_SERVICE ?? '';
const port = process.env[`${service.toUpperCase().replace(/-/g, '_')}_PORT`] ?? PORTS[service];
if (!port) process.exit(1);
try {
  const res = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(4000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}

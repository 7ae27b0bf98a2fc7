// Policy checks that cannot drift (issue 15): docker-compose.yml is valid against the Compose
// Specification's JSON schema (test/docker/compose-spec.json, from github.com/compose-spec/compose-spec),
// every service follows the hardening policy of SECURITY.md ("Deployment checklist"), and every Dockerfile
// of the repository ends as a non-root user. Fast: nothing is built or started (test/docker/ does that).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import Ajv from 'ajv';
import { parse } from 'yaml';

const ROOT = join(__dirname, '..');
const APPS = ['gateway', 'agent-analysis', 'risk', 'execution', 'audit'];
const ONE_SHOTS = ['migrate', 'vault-init'];
const PUBLISHING = ['gateway', 'grafana'];

interface Service {
  image?: string;
  user?: string;
  read_only?: boolean;
  cap_drop?: string[];
  cap_add?: string[];
  security_opt?: string[];
  privileged?: boolean;
  restart?: string;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  cpus?: string | number;
  mem_limit?: string;
  pids_limit?: number;
  ports?: string[];
  network_mode?: string;
  environment?: Record<string, string>;
  command?: string[] | string;
  volumes?: string[];
}

const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText, { merge: true }) as {
  services: Record<string, Service>;
  networks: Record<string, { internal?: boolean }>;
};
const services = compose.services;

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification', () => {
    const schema = JSON.parse(readFileSync(join(__dirname, 'docker', 'compose-spec.json'), 'utf8')) as {
      $schema?: string;
    };
    delete schema.$schema; // draft-07, ajv's default
    const validate = new Ajv({ strict: false, validateFormats: false, allErrors: true }).compile(schema);
    const valid = validate(parse(composeText, { merge: true }));
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('has the five services, the one-shot steps and the infrastructure', () => {
    expect(Object.keys(services).sort()).toEqual(
      [...APPS, ...ONE_SHOTS, 'postgres', 'redis', 'vault', 'prometheus', 'grafana'].sort(),
    );
  });

  it.each([...APPS, 'migrate'])(
    '%s: non-root, read-only root filesystem, no capabilities, no-new-privileges, limits',
    (name) => {
      const s = services[name];
      expect(s.user).toMatch(/^[1-9][0-9]*(:[0-9]+)?$/);
      expect(s.read_only).toBe(true);
      expect(s.cap_drop).toEqual(['ALL']);
      expect(s.cap_add ?? []).toEqual([]);
      expect(s.security_opt).toContain('no-new-privileges:true');
      expect(s.privileged ?? false).toBe(false);
      expect(s.cpus).toBeDefined();
      expect(s.mem_limit).toBeDefined();
      expect(s.pids_limit).toBeGreaterThan(0);
      expect(s.network_mode).toBeUndefined();
    },
  );

  it.each(APPS)('%s: healthcheck, restart policy, started after migrate and vault-init', (name) => {
    const s = services[name];
    expect(s.healthcheck?.disable ?? false).toBe(false);
    expect(s.healthcheck?.test).toEqual(['CMD', 'node', '/app/docker/healthcheck.mjs']);
    expect(['always', 'unless-stopped', 'on-failure']).toContain(s.restart);
    expect(s.image).toBe(services.migrate.image);
    const dependsOn = (s as { depends_on?: Record<string, { condition: string }> }).depends_on;
    expect(dependsOn).toEqual({
      migrate: { condition: 'service_completed_successfully' },
      'vault-init': { condition: 'service_completed_successfully' },
    });
  });

  it('every service drops its capabilities (adding back only named ones) and has no-new-privileges', () => {
    for (const [name, s] of Object.entries(services)) {
      expect({ name, cap_drop: s.cap_drop }).toEqual({ name, cap_drop: ['ALL'] });
      expect({ name, nnp: s.security_opt?.includes('no-new-privileges:true') }).toEqual({ name, nnp: true });
      expect({ name, privileged: s.privileged ?? false }).toEqual({ name, privileged: false });
    }
  });

  it('only the gateway and Grafana publish ports, on loopback unless the operator says otherwise', () => {
    for (const [name, s] of Object.entries(services)) {
      if (!PUBLISHING.includes(name)) {
        expect({ name, ports: s.ports ?? [] }).toEqual({ name, ports: [] });
        continue;
      }
      expect(s.ports).toHaveLength(1);
      expect(s.ports?.[0]).toMatch(/^\$\{[A-Z_]+_BIND:-127\.0\.0\.1\}:/);
    }
    expect(compose.networks.backend.internal).toBe(true);
  });

  it('PostgreSQL: scram-sha-256 only; Redis: a password, users kept in an ACL file, AOF every second, noeviction', () => {
    const pg = services.postgres.environment ?? {};
    expect(pg.POSTGRES_INITDB_ARGS).toBe('--auth-host=scram-sha-256 --auth-local=scram-sha-256');
    expect(pg.POSTGRES_HOST_AUTH_METHOD).toBe('scram-sha-256');
    expect(pg.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    const redis = [services.redis.command ?? []].flat().join(' ');
    for (const flag of [
      'printf \'user default on #%s ~* &* +@all\\n\' "$$(printf %s "$$REDIS_PASSWORD" | sha256sum',
      '--aclfile "$$f"',
      '--appendonly yes',
      '--appendfsync everysec',
      '--maxmemory-policy noeviction',
    ]) {
      expect(redis).toContain(flag);
    }
    expect(services.redis.environment?.REDIS_PASSWORD).toMatch(/^\$\{REDIS_PASSWORD:\?/);
    // Both run as their image's unprivileged user from the start, with no capability added back.
    expect([services.postgres.user, services.redis.user]).toEqual(['postgres', 'redis']);
    expect([services.postgres.cap_add, services.redis.cap_add]).toEqual([undefined, undefined]);
  });

  it('Grafana has no default admin password', () => {
    expect(services.grafana.environment?.GF_SECURITY_ADMIN_PASSWORD).toMatch(
      /^\$\{GRAFANA_ADMIN_PASSWORD:\?/,
    );
  });

  it('every image is a variable with a public default (stand-ins only where the tests pass them)', () => {
    for (const [name, s] of Object.entries(services)) {
      expect({ name, image: s.image }).toEqual({ name, image: expect.stringMatching(/^\$\{[A-Z_]+:-[a-z]/) });
      expect(s.image).not.toContain('stand-in');
    }
  });

  it('.env.compose.example documents every variable the file reads', () => {
    const documented = new Set(
      [
        ...readFileSync(join(ROOT, '.env.compose.example'), 'utf8').matchAll(/^#?\s?([A-Z][A-Z0-9_]*)=/gm),
      ].map((m) => m[1]),
    );
    const used = new Set([...composeText.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]));
    expect([...used].filter((v) => !documented.has(v)).sort()).toEqual([]);
  });
});

function dockerfiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (['node_modules', '.git', 'dist', '.turbo', '.run'].includes(entry)) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...dockerfiles(path));
    else if (entry === 'Dockerfile' || entry.endsWith('.Dockerfile')) out.push(path);
  }
  return out;
}

/** The instructions of a Dockerfile, continuation lines joined, comments dropped. */
function instructions(text: string): { op: string; args: string }[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

describe('Dockerfiles', () => {
  const files = dockerfiles(ROOT);

  it('are found (the app image, the vault-init image and the stand-ins)', () => {
    expect(files.map((f) => relative(ROOT, f)).sort()).toEqual(
      expect.arrayContaining(['Dockerfile', 'infra/vault/Dockerfile', 'docker/stand-ins/node.Dockerfile']),
    );
  });

  it.each(files.map((f) => [relative(ROOT, f), f]))('%s ends as a non-root user', (_name, file) => {
    const ops = instructions(readFileSync(file, 'utf8'));
    const finalStage = ops.slice(ops.map((o) => o.op).lastIndexOf('FROM'));
    const users = finalStage.filter((o) => o.op === 'USER');
    expect(users.length).toBeGreaterThan(0);
    const last = users[users.length - 1].args.split(':')[0];
    expect(['root', '0', '']).not.toContain(last);
  });

  it('the app image: multi-stage, production dependencies only, tini as PID 1, a HEALTHCHECK', () => {
    const ops = instructions(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
    expect(ops.filter((o) => o.op === 'FROM').length).toBeGreaterThanOrEqual(2);
    expect(ops.find((o) => o.op === 'ARG' && o.args.startsWith('NODE_IMAGE='))?.args).toBe(
      'NODE_IMAGE=node:20-bookworm-slim',
    );
    expect(ops.some((o) => o.op === 'RUN' && o.args.includes('pnpm install --frozen-lockfile --prod'))).toBe(
      true,
    );
    const runtime = ops.slice(ops.map((o) => o.op).lastIndexOf('FROM'));
    expect(runtime.find((o) => o.op === 'ENTRYPOINT')?.args).toMatch(/^\["\/usr\/bin\/tini", "--"/);
    expect(runtime.some((o) => o.op === 'HEALTHCHECK')).toBe(true);
    expect(runtime.find((o) => o.op === 'STOPSIGNAL')?.args).toBe('SIGTERM');
  });
});

import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import {
  DASHBOARDS_DIR,
  PROMETHEUS_DIR,
  REPO_ROOT,
  alertExpressions,
  dashboardExpressions,
  metricNamesOf,
} from '@desk/testing';

/**
 * The alert rules and the scrape config are valid, the rules do what alerts.test.yml says (promtool, from
 * Debian's prometheus package: scripts/lib/prometheus.mjs installs it for npm test), and every metric a
 * rule or a dashboard reads is one the code defines. test/e2e/monitoring.e2e-spec.ts proves the same
 * against a real Prometheus scraping the running services.
 */
const promtool = (...args: string[]) =>
  execFileSync('promtool', args, { cwd: PROMETHEUS_DIR, encoding: 'utf8', stdio: 'pipe' });

/** Metrics prom-client's process defaults (and Prometheus itself, for `up`) provide. */
const PROVIDED = /^(up|process_[a-z_]+|nodejs_[a-z0-9_]+)$/;

function sourceText(): string {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (['node_modules', 'dist', 'test', 'migrations'].includes(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts'))
        out.push(readFileSync(path, 'utf8'));
    }
  };
  walk(join(REPO_ROOT, 'apps'));
  walk(join(REPO_ROOT, 'libs'));
  return out.join('\n');
}

/** desk_x_bucket, _sum and _count are a histogram desk_x's series. */
const baseName = (name: string) => name.replace(/_(bucket|sum|count)$/, '');

describe('monitoring configuration (infra/prometheus, infra/grafana)', () => {
  it('promtool accepts the scrape config and the alert rules', () => {
    expect(promtool('check', 'config', 'prometheus.yml')).toContain('SUCCESS');
    expect(promtool('check', 'rules', 'alerts.yml')).toContain('SUCCESS');
  });

  it('every alert rule passes its unit tests (promtool test rules)', () => {
    expect(promtool('test', 'rules', 'alerts.test.yml')).toContain('SUCCESS');
    // Each alert is exercised by at least one test case.
    const tests = readFileSync(join(PROMETHEUS_DIR, 'alerts.test.yml'), 'utf8');
    for (const { name } of alertExpressions()) expect(tests).toContain(`alertname: ${name}`);
  });

  it('every metric an alert or a dashboard panel reads is one the code defines', () => {
    const source = sourceText();
    const read = [...alertExpressions(), ...dashboardExpressions()];
    expect(read.length).toBeGreaterThan(30);
    const unknown = read.flatMap(({ name, expr }) =>
      metricNamesOf(expr)
        .filter((m) => !PROVIDED.test(m) && !source.includes(`'${baseName(m)}'`))
        .map((m) => `${name}: ${m}`),
    );
    expect(unknown).toEqual([]);
  });

  it('every dashboard panel queries the provisioned Prometheus data source', () => {
    const datasource = readFileSync(
      join(REPO_ROOT, 'infra', 'grafana', 'provisioning', 'datasources', 'prometheus.yml'),
      'utf8',
    );
    expect(datasource).toContain('uid: desk-prometheus');
    for (const file of readdirSync(DASHBOARDS_DIR)) {
      const dashboard = JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) as {
        uid: string;
        panels: { datasource: { uid: string }; targets: { datasource: { uid: string } }[] }[];
      };
      expect(dashboard.uid).toMatch(/^desk-/);
      for (const panel of dashboard.panels) {
        expect(panel.datasource.uid).toBe('desk-prometheus');
        for (const target of panel.targets) expect(target.datasource.uid).toBe('desk-prometheus');
      }
    }
  });
});

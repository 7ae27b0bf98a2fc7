import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from './infra';

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression reads: identifiers that are not functions (followed by `(`),
 * keywords, label names (inside `{…}` or a `by (…)` / `without (…)` / `on (…)` list), strings or
 * durations. Enough for the expressions of our rules and dashboards; not a full PromQL parser.
 */
export function metricNamesOf(expr: string): string[] {
  const text = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of text.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const name = m[0];
    const after = text.slice((m.index ?? 0) + name.length);
    if (/^\s*\(/.test(after) || KEYWORDS.has(name.toLowerCase())) continue;
    // A number's exponent or unit suffix (1e3, 5m after an offset) never starts a name here.
    if (/[0-9.]$/.test(text.slice(0, m.index ?? 0))) continue;
    names.add(name);
  }
  return [...names].sort();
}

export const PROMETHEUS_DIR = join(REPO_ROOT, 'infra', 'prometheus');
export const DASHBOARDS_DIR = join(REPO_ROOT, 'infra', 'grafana', 'dashboards');

/** Every alert rule's expression, by alert name (infra/prometheus/alerts.yml). */
export function alertExpressions(): { name: string; expr: string }[] {
  const doc = parse(readFileSync(join(PROMETHEUS_DIR, 'alerts.yml'), 'utf8')) as {
    groups: { rules: { alert?: string; record?: string; expr: string }[] }[];
  };
  return doc.groups.flatMap((g) => g.rules.map((r) => ({ name: r.alert ?? r.record ?? '?', expr: r.expr })));
}

/** Every dashboard panel target's expression, named "<dashboard> / <panel>" (infra/grafana/dashboards). */
export function dashboardExpressions(): { name: string; expr: string }[] {
  return readdirSync(DASHBOARDS_DIR)
    .filter((f) => f.endsWith('.json'))
    .flatMap((file) => {
      const dashboard = JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) as {
        title: string;
        panels: { title: string; targets?: { expr?: string }[] }[];
      };
      return dashboard.panels.flatMap((panel) =>
        (panel.targets ?? []).flatMap((t) =>
          t.expr ? [{ name: `${dashboard.title} / ${panel.title}`, expr: t.expr }] : [],
        ),
      );
    });
}

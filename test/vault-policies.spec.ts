import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { DESK_SERVICES, secretsOf } from '@desk/platform';

/** The `path "…" { capabilities = [...] }` blocks of a policy file. */
function rules(service: string): { path: string; capabilities: string[] }[] {
  const text = readFileSync(join(__dirname, '..', 'infra', 'vault', 'policies', `${service}.hcl`), 'utf8');
  return [...text.matchAll(/^path "([^"]+)" \{\s*capabilities = \[([^\]]*)\]\s*\}/gm)].map((m) => ({
    path: m[1]!,
    capabilities: [...m[2]!.matchAll(/"([a-z]+)"/g)].map((c) => c[1]!),
  }));
}

/** Vault's glob: a trailing `*` matches anything after the prefix. */
const allows = (pattern: string, path: string) =>
  pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : path === pattern;

describe('infra/vault policies: each service reads only its own secrets and the shared ones', () => {
  const env = { EXCHANGE_VENUES: 'binance,kraken' };

  it.each(DESK_SERVICES)('%s: read-only rules on its own folder and shared/, nothing else', (service) => {
    expect(rules(service)).toEqual([
      { path: `__MOUNT__/data/__PREFIX__/${service}/*`, capabilities: ['read'] },
      { path: '__MOUNT__/data/__PREFIX__/shared/*', capabilities: ['read'] },
    ]);
  });

  it("every secret a service reads is allowed by its policy, and by no other service's (except shared/)", () => {
    for (const service of DESK_SERVICES) {
      for (const spec of secretsOf(service, env)) {
        const full = `__MOUNT__/data/__PREFIX__/${spec.path}`;
        const readers = DESK_SERVICES.filter((s) => rules(s).some((r) => allows(r.path, full)));
        expect({ secret: spec.name, readers }).toEqual({
          secret: spec.name,
          readers: spec.path.startsWith('shared/') ? DESK_SERVICES : [service],
        });
      }
    }
  });
});

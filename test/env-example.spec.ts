import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { z } from 'zod';
import { SECRETS_VARIABLES, SETUP_VARIABLES } from '@desk/platform';
import { agentAnalysisEnvSchema } from '../apps/agent-analysis/src/config';
import { auditEnvSchema } from '../apps/audit/src/config';
import { executionEnvSchema } from '../apps/execution/src/config';
import { gatewayEnvSchema } from '../apps/gateway/src/config';
import { riskEnvSchema } from '../apps/risk/src/config';

const schemas: Record<string, z.ZodObject> = {
  gateway: gatewayEnvSchema,
  'agent-analysis': agentAnalysisEnvSchema,
  risk: riskEnvSchema,
  execution: executionEnvSchema,
  audit: auditEnvSchema,
};

/** Variables named in .env.example, set or commented out (`# NAME=`). */
function documented(): Set<string> {
  const text = readFileSync(join(__dirname, '..', '.env.example'), 'utf8');
  return new Set([...text.matchAll(/^#?\s?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!));
}

describe('.env.example', () => {
  it('documents every variable that some service or the local set-up reads, and nothing else', () => {
    const read = new Set([
      ...Object.values(schemas).flatMap((s) => Object.keys(s.shape)),
      ...SETUP_VARIABLES,
      ...SECRETS_VARIABLES,
    ]);
    expect([...read].filter((name) => !documented().has(name)).sort()).toEqual([]);
    expect([...documented()].filter((name) => !read.has(name)).sort()).toEqual([]);
  });

  it('holds values every service accepts as they are', () => {
    const text = readFileSync(join(__dirname, '..', '.env.example'), 'utf8');
    const values = Object.fromEntries(
      [...text.matchAll(/^([A-Z][A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]),
    );
    for (const [service, schema] of Object.entries(schemas)) {
      const result = schema.safeParse(values);
      expect(result.success ? 'ok' : `${service}: ${result.error.message}`).toBe('ok');
    }
  });
});

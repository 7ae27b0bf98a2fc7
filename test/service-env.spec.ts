import { describe, expect, it } from '@jest/globals';
import type { z } from 'zod';
import {
  DESK_SERVICES,
  envFor,
  vaultAuthVars,
  withLocalDatabaseUrls,
  type DeskService,
} from '@desk/platform';
import { agentAnalysisEnvSchema } from '../apps/agent-analysis/src/config';
import { auditEnvSchema } from '../apps/audit/src/config';
import { executionEnvSchema } from '../apps/execution/src/config';
import { gatewayEnvSchema } from '../apps/gateway/src/config';
import { riskEnvSchema } from '../apps/risk/src/config';

const schemas: Record<DeskService, z.ZodObject> = {
  gateway: gatewayEnvSchema,
  'agent-analysis': agentAnalysisEnvSchema,
  risk: riskEnvSchema,
  execution: executionEnvSchema,
  audit: auditEnvSchema,
};

/** What `npm start` holds after reading .env, .env.local (generated secrets) and the shell. */
const local = withLocalDatabaseUrls({
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/trading',
  REDIS_URL: 'redis://127.0.0.1:6379',
  AUDIT_SIGNING_KEY: 'audit-private-key',
  AUDIT_SIGNING_PUBLIC_KEY: 'audit-public-key',
  APPROVAL_WEBHOOK_SECRET: 'webhook-secret-webhook-secret-webhook',
  OWNER_DATABASE_PASSWORD: 'owner-pw',
  GATEWAY_DATABASE_PASSWORD: 'gateway-pw',
  AGENT_ANALYSIS_DATABASE_PASSWORD: 'agents-pw',
  RISK_DATABASE_PASSWORD: 'risk-pw',
  EXECUTION_DATABASE_PASSWORD: 'execution-pw',
  AUDIT_DATABASE_PASSWORD: 'audit-pw',
  AWS_SECRET_ACCESS_KEY: 'from-the-operators-shell',
  GATEWAY_PORT: '3000',
  RISK_PORT: '3002',
  TRADING_SYMBOLS: 'BTC/USDT',
}).env;

const others = (service: DeskService) => DESK_SERVICES.filter((s) => s !== service);

describe('each service process receives only its own secrets (envFor, as npm start and the e2e tests spawn them)', () => {
  it('the audit signing key reaches audit and no other service', () => {
    expect(envFor('audit', local).AUDIT_SIGNING_KEY).toBe('audit-private-key');
    for (const service of others('audit')) {
      expect({ service, key: envFor(service, local).AUDIT_SIGNING_KEY }).toEqual({ service, key: undefined });
    }
    // The gateway verifies checkpoints: the public half only.
    expect(envFor('gateway', local).AUDIT_SIGNING_PUBLIC_KEY).toBe('audit-public-key');
  });

  it("each service's Vault credentials reach that service only; the Vault address and the exchange keys' owner as documented", () => {
    const withVault: Record<string, string> = {
      ...local,
      VAULT_ADDR: 'https://vault.internal:8200',
      EXCHANGE_VENUES: 'binance',
      EXCHANGE_BINANCE_API_KEY: 'binance-key',
      EXCHANGE_BINANCE_API_SECRET: 'binance-secret',
    };
    for (const service of DESK_SERVICES) {
      for (const name of Object.values(vaultAuthVars(service))) withVault[name] = `${service}-${name}`;
    }
    for (const service of DESK_SERVICES) {
      const own = envFor(service, withVault);
      expect(own.VAULT_ADDR).toBe('https://vault.internal:8200');
      const vaultVars = Object.keys(own)
        .filter((n) => n.includes('_VAULT_'))
        .sort();
      expect({ service, vaultVars }).toEqual({
        service,
        vaultVars: Object.values(vaultAuthVars(service)).sort(),
      });
      const exchange = Object.keys(own).filter((n) => n.startsWith('EXCHANGE_'));
      expect({ service, exchange }).toEqual({
        service,
        exchange:
          service === 'execution'
            ? ['EXCHANGE_VENUES', 'EXCHANGE_BINANCE_API_KEY', 'EXCHANGE_BINANCE_API_SECRET']
            : [],
      });
    }
  });

  it('the webhook secret reaches the gateway only', () => {
    expect(envFor('gateway', local).APPROVAL_WEBHOOK_SECRET).toBeDefined();
    for (const service of others('gateway'))
      expect(envFor(service, local).APPROVAL_WEBHOOK_SECRET).toBeUndefined();
  });

  it("no service finds another's database password, the owner's, or the admin URL anywhere in its environment", () => {
    const passwords = ['owner-pw', 'gateway-pw', 'agents-pw', 'risk-pw', 'execution-pw', 'audit-pw'];
    const own: Record<DeskService, string> = {
      gateway: 'gateway-pw',
      'agent-analysis': 'agents-pw',
      risk: 'risk-pw',
      execution: 'execution-pw',
      audit: 'audit-pw',
    };
    for (const service of DESK_SERVICES) {
      const text = JSON.stringify(envFor(service, local));
      const seen = passwords.filter((pw) => text.includes(pw));
      expect({ service, seen }).toEqual({ service, seen: [own[service]] });
      expect(envFor(service, local).DATABASE_URL).toBeUndefined();
    }
    expect(envFor('risk', local).RISK_DATABASE_URL).toBe(
      'postgres://desk_risk:risk-pw@127.0.0.1:5432/trading',
    );
  });

  it("nothing from the operator's shell passes but what a service reads", () => {
    for (const service of DESK_SERVICES) expect(envFor(service, local).AWS_SECRET_ACCESS_KEY).toBeUndefined();
    expect(envFor('risk', local).GATEWAY_PORT).toBeUndefined();
  });

  it('every variable a service reads still reaches it', () => {
    for (const service of DESK_SERVICES) {
      const names = Object.keys(schemas[service].shape);
      const env = Object.fromEntries(names.map((n) => [n, 'x']));
      const passed = envFor(service, env);
      expect({ service, missing: names.filter((n) => n !== 'DATABASE_URL' && !(n in passed)) }).toEqual({
        service,
        missing: [],
      });
    }
  });

  it("a per-service Redis user's URL becomes that service's REDIS_URL", () => {
    const env = { ...local, RISK_REDIS_URL: 'redis://risk:pw@127.0.0.1:6380' };
    expect(envFor('risk', env).REDIS_URL).toBe('redis://risk:pw@127.0.0.1:6380');
    expect(envFor('gateway', env).REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(JSON.stringify(envFor('gateway', env))).not.toContain('risk:pw');
  });
});

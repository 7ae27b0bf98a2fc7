import { z } from 'zod';
import { env, loadConfig, platformEnvSchema } from '@desk/platform';

export const AUDIT_CONFIG = Symbol('AUDIT_CONFIG');

export const auditEnvSchema = platformEnvSchema.extend({
  SERVICE_HOST: z.string().default('127.0.0.1'),
  AUDIT_PORT: env.port(3004),
});

export type AuditConfig = z.infer<typeof auditEnvSchema>;

/** The only place this service reads the environment. */
export function loadAuditConfig(source: Record<string, string | undefined> = process.env): AuditConfig {
  return loadConfig('audit', auditEnvSchema, source);
}

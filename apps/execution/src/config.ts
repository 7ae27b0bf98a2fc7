import { z } from 'zod';
import { env, loadConfig, platformEnvSchema } from '@desk/platform';

export const EXECUTION_CONFIG = Symbol('EXECUTION_CONFIG');

export const executionEnvSchema = platformEnvSchema.extend({
  SERVICE_HOST: z.string().default('127.0.0.1'),
  EXECUTION_PORT: env.port(3003),
});

export type ExecutionConfig = z.infer<typeof executionEnvSchema>;

/** The only place this service reads the environment. */
export function loadExecutionConfig(source: Record<string, string | undefined> = process.env): ExecutionConfig {
  return loadConfig('execution', executionEnvSchema, source);
}

import { z } from 'zod';
import { env, loadConfig, platformEnvSchema } from '@desk/platform';

export const AGENT_ANALYSIS_CONFIG = Symbol('AGENT_ANALYSIS_CONFIG');

export const agentAnalysisEnvSchema = platformEnvSchema.extend({
  SERVICE_HOST: z.string().default('127.0.0.1'),
  AGENT_ANALYSIS_PORT: env.port(3001),
});

export type AgentAnalysisConfig = z.infer<typeof agentAnalysisEnvSchema>;

/** The only place this service reads the environment. */
export function loadAgentAnalysisConfig(source: Record<string, string | undefined> = process.env): AgentAnalysisConfig {
  return loadConfig('agent-analysis', agentAnalysisEnvSchema, source);
}

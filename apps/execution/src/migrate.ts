import { runMigrationsCli } from '@desk/platform';
import { loadExecutionConfig } from './config';
import { EXECUTION_SCHEMA } from './schema';

void runMigrationsCli('execution', () => loadExecutionConfig().DATABASE_URL, EXECUTION_SCHEMA);

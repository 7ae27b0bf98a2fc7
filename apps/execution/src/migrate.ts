import { runMigrationsCli } from '@desk/platform';
import { EXECUTION_SCHEMA } from './schema';

void runMigrationsCli('execution', EXECUTION_SCHEMA);

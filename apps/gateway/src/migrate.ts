import { runMigrationsCli } from '@desk/platform';
import { GATEWAY_SCHEMA } from './schema';

void runMigrationsCli('gateway', GATEWAY_SCHEMA);

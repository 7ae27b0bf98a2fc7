import { runMigrationsCli } from '@desk/platform';
import { loadGatewayConfig } from './config';
import { GATEWAY_SCHEMA } from './schema';

void runMigrationsCli('gateway', () => loadGatewayConfig().DATABASE_URL, GATEWAY_SCHEMA);

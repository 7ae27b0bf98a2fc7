import { type ServiceSchema, outboxPublishedAsMigration } from '@desk/platform';
import { CreateAgentTables1732406600000 } from './migrations/1732406600000-create-agent-tables';
import { LeastPrivilege1732407300000 } from './migrations/1732407300000-least-privilege';
import { CreateIntentSourcesView1732407350000 } from './migrations/1732407350000-create-intent-sources-view';
import { CreateRunSlots1732408200100 } from './migrations/1732408200100-create-run-slots';
import { OutboxReceipts1732408300000 } from './migrations/1732408300000-outbox-receipts';

/** The agent-analysis service's own PostgreSQL schema: its tables and migrations (raw SQL, no entities). */
export const AGENT_ANALYSIS_SCHEMA: ServiceSchema = {
  schema: 'agents',
  entities: [],
  migrations: [
    CreateAgentTables1732406600000,
    LeastPrivilege1732407300000,
    CreateIntentSourcesView1732407350000,
    CreateRunSlots1732408200100,
    OutboxReceipts1732408300000,
    outboxPublishedAsMigration('agents'),
  ],
};

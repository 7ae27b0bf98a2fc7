import { type ServiceSchema, outboxPublishedAsMigration } from '@desk/platform';
import { CreateExecutionTables1732406700000 } from './migrations/1732406700000-create-execution-tables';
import { AddOrderControls1732407100000 } from './migrations/1732407100000-add-order-controls';
import { LeastPrivilege1732407300000 } from './migrations/1732407300000-least-privilege';
import { CreateOrderReportViews1732407350000 } from './migrations/1732407350000-create-order-report-views';
import { OutboxReceipts1732408300000 } from './migrations/1732408300000-outbox-receipts';
import { VenueTrading1732408400000 } from './migrations/1732408400000-venue-trading';

/** The execution service's own PostgreSQL schema: its tables and migrations (accessed with SQL, no entities). */
export const EXECUTION_SCHEMA: ServiceSchema = {
  schema: 'execution',
  entities: [],
  migrations: [
    CreateExecutionTables1732406700000,
    AddOrderControls1732407100000,
    LeastPrivilege1732407300000,
    CreateOrderReportViews1732407350000,
    OutboxReceipts1732408300000,
    VenueTrading1732408400000,
    outboxPublishedAsMigration('execution'),
  ],
};

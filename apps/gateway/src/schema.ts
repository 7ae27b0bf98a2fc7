import { type ServiceSchema, outboxPublishedAsMigration } from '@desk/platform';
import { CreateGatewayTables1732406600000 } from './migrations/1732406600000-create-gateway-tables';
import { CreateApprovalTables1732406900000 } from './migrations/1732406900000-create-approval-tables';
import { LeastPrivilege1732407300000 } from './migrations/1732407300000-least-privilege';
import { CreateIntentSourcesView1732407350000 } from './migrations/1732407350000-create-intent-sources-view';
import { CreateDeskSetup1732407400000 } from './migrations/1732407400000-create-desk-setup';
import { CreateControlSourcesView1732407600000 } from './migrations/1732407600000-create-control-sources-view';
import { CreateOrderProjection1732407700000 } from './migrations/1732407700000-create-order-projection';
import { RecordControlVersions1732407710000 } from './migrations/1732407710000-record-control-versions';
import { OutboxReceipts1732408300000 } from './migrations/1732408300000-outbox-receipts';
import { CreateCancelRequests1732408500000 } from './migrations/1732408500000-create-cancel-requests';
import { OrderOptions1732408510000 } from './migrations/1732408510000-order-options';
import { KeyChangeNotify1732408700000 } from './migrations/1732408700000-key-change-notify';
import { SetupChangeNotify1732408800000 } from './migrations/1732408800000-setup-change-notify';

/** The gateway's own PostgreSQL schema: its tables and migrations. */
export const GATEWAY_SCHEMA: ServiceSchema = {
  schema: 'gateway',
  entities: [],
  migrations: [
    CreateGatewayTables1732406600000,
    CreateApprovalTables1732406900000,
    LeastPrivilege1732407300000,
    CreateIntentSourcesView1732407350000,
    CreateDeskSetup1732407400000,
    CreateControlSourcesView1732407600000,
    CreateOrderProjection1732407700000,
    RecordControlVersions1732407710000,
    OutboxReceipts1732408300000,
    CreateCancelRequests1732408500000,
    OrderOptions1732408510000,
    KeyChangeNotify1732408700000,
    SetupChangeNotify1732408800000,
    outboxPublishedAsMigration('gateway'),
  ],
};

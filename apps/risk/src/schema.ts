import { type ServiceSchema, outboxPublishedAsMigration } from '@desk/platform';
import { CreateRiskTables1732406500000 } from './migrations/1732406500000-create-risk-tables';
import { CreateRiskEngineTables1732407000000 } from './migrations/1732407000000-create-risk-engine-tables';
import { AddLiveVenues1732407200000 } from './migrations/1732407200000-add-live-venues';
import { LeastPrivilege1732407300000 } from './migrations/1732407300000-least-privilege';
import { CreateOrderDecisionsView1732407350000 } from './migrations/1732407350000-create-order-decisions-view';
import { CreateCancelAllSourcesView1732407600000 } from './migrations/1732407600000-create-cancel-all-sources-view';
import { AddStateVersions1732407700000 } from './migrations/1732407700000-add-state-versions';
import { CreateControlOutcomesView1732407710000 } from './migrations/1732407710000-create-control-outcomes-view';
import { CreateApprovalHoldsView1732408200000 } from './migrations/1732408200000-create-approval-holds-view';
import { AddMaxOpenOrders1732407800000 } from './migrations/1732407800000-add-max-open-orders';
import { ExecutedQuantity1732408600000 } from './migrations/1732408600000-executed-quantity';
import { OutboxReceipts1732408300000 } from './migrations/1732408300000-outbox-receipts';
import { OrderOptions1732408500000 } from './migrations/1732408500000-order-options';

/** The risk service's own PostgreSQL schema: its tables and migrations (raw SQL in repositories, no entities). */
export const RISK_SCHEMA: ServiceSchema = {
  schema: 'risk',
  entities: [],
  migrations: [
    CreateRiskTables1732406500000,
    CreateRiskEngineTables1732407000000,
    AddLiveVenues1732407200000,
    LeastPrivilege1732407300000,
    CreateOrderDecisionsView1732407350000,
    CreateCancelAllSourcesView1732407600000,
    AddStateVersions1732407700000,
    CreateControlOutcomesView1732407710000,
    CreateApprovalHoldsView1732408200000,
    AddMaxOpenOrders1732407800000,
    OutboxReceipts1732408300000,
    OrderOptions1732408500000,
    ExecutedQuantity1732408600000,
    outboxPublishedAsMigration('risk'),
  ],
};

import type { ServiceSchema } from '@desk/platform';
import { CreateRiskTables1732406500000 } from './migrations/1732406500000-create-risk-tables';
import { CreateRiskEngineTables1732407000000 } from './migrations/1732407000000-create-risk-engine-tables';

/** The risk service's own PostgreSQL schema: its tables and migrations (raw SQL in repositories, no entities). */
export const RISK_SCHEMA: ServiceSchema = {
  schema: 'risk',
  entities: [],
  migrations: [CreateRiskTables1732406500000, CreateRiskEngineTables1732407000000],
};

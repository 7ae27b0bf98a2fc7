import { DynamicModule, Module } from '@nestjs/common';
import { ServiceName } from '@desk/contracts';
import { PlatformModule, type Secrets } from '@desk/platform';
import { AUDIT_CONFIG, type AuditConfig } from './config';
import { AuditLogModule } from './modules/audit-log/audit-log.module';
import { AUDIT_SCHEMA } from './schema';

@Module({})
export class AppModule {
  static forRoot(config: AuditConfig, secrets?: Secrets): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({
          secrets,
          service: ServiceName.Audit,
          // The service connects as its own role (INSERT and SELECT on the log), never as the owner.
          config,
          databaseRole: config.AUDIT_DATABASE_ROLE,
          databaseUrl: config.auditDatabaseUrl,
          configToken: AUDIT_CONFIG,
          schema: AUDIT_SCHEMA,
        }),
        AuditLogModule,
      ],
    };
  }
}

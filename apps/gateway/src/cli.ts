import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { Module, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Command, InvalidArgumentError } from 'commander';
import { ServiceName } from '@desk/contracts';
import { AppError, ConfigError, PlatformModule, SERVICE_DATABASE_ROLES } from '@desk/platform';
import { GATEWAY_CONFIG, loadGatewayConfig } from './config';
import { ALL_ROLES } from './modules/access/role';
import { ApiKeysService } from './modules/keys/api-keys.service';
import { BootstrapService, CONSOLE_ACTOR } from './modules/keys/bootstrap.service';
import { KeysModule } from './modules/keys/keys.module';
import { OperatorsModule } from './modules/operators/operators.module';
import { OperatorsService } from './modules/operators/operators.service';
import { GATEWAY_SCHEMA } from './schema';

/**
 * `npm run cli -- …`: operators and keys for the person at the console, through the same services as the
 * API (so the same rules and audit events). A new key is printed once, to stdout, and nowhere else; the
 * audit events wait in the gateway's outbox until a gateway publishes them.
 */
@Module({})
class CliModule {
  static forRoot(): DynamicModule {
    const config = loadGatewayConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'error' });
    return {
      module: CliModule,
      imports: [
        PlatformModule.forRoot({
          service: ServiceName.Gateway,
          config,
          configToken: GATEWAY_CONFIG,
          // The console acts as the gateway (same role, same rules), never as the owner.
          databaseRole: SERVICE_DATABASE_ROLES.gateway,
          databaseUrl: config.GATEWAY_DATABASE_URL,
          schema: GATEWAY_SCHEMA,
        }),
        OperatorsModule,
        KeysModule,
      ],
    };
  }
}

async function withApp<T>(work: (app: INestApplicationContext) => Promise<T>): Promise<void> {
  const app = await NestFactory.createApplicationContext(CliModule.forRoot(), { logger: ['error'] });
  try {
    const result = await work(app);
    if (result !== undefined) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await app.close();
  }
}

const command = () => ({
  actor: CONSOLE_ACTOR,
  idempotencyKey: undefined,
  correlationId: `console-${randomUUID()}`,
});
const rolesOption = (value: string) => {
  const roles = value.split(',').map((r) => r.trim());
  const unknown = roles.filter((r) => !(ALL_ROLES as readonly string[]).includes(r));
  if (unknown.length)
    throw new InvalidArgumentError(`unknown role ${unknown.join(', ')} (roles: ${ALL_ROLES.join(', ')})`);
  return roles;
};

const program = new Command('desk')
  .description('Trading desk console: operators and API keys')
  .showHelpAfterError();

const operator = program.command('operator').description('operators (people)');
operator
  .command('create <name>')
  .description('create an operator')
  .action((name: string) =>
    withApp(async (app) => (await app.get(OperatorsService).create(command(), { name })).body),
  );
operator
  .command('list')
  .description('list operators')
  .action(() => withApp((app) => app.get(OperatorsService).list()));
operator
  .command('disable <operatorId>')
  .description('disable an operator: all their keys stop working')
  .action((id: string) =>
    withApp(async (app) => (await app.get(OperatorsService).disable(command(), id)).body),
  );

const key = program.command('key').description('API keys');
key
  .command('create')
  .description('issue a key to an operator; printed once, here')
  .requiredOption('--operator <operatorId>', 'the operator who owns the key')
  .requiredOption('--roles <roles>', `comma-separated: ${ALL_ROLES.join(', ')}`, rolesOption)
  .option('--label <label>', 'what the key is for')
  .option('--expires-at <iso>', 'expiry, e.g. 2027-01-31T00:00:00Z')
  .action((o: { operator: string; roles: string[]; label?: string; expiresAt?: string }) =>
    withApp(
      async (app) =>
        (
          await app
            .get(ApiKeysService)
            .create(command(), o.operator, { roles: o.roles, label: o.label, expiresAt: o.expiresAt })
        ).body,
    ),
  );
key
  .command('list')
  .description('list keys (never the keys themselves)')
  .option('--operator <operatorId>', 'only this operator')
  .action((o: { operator?: string }) =>
    withApp((app) => app.get(ApiKeysService).list(o.operator ? { operatorId: o.operator } : {})),
  );
key
  .command('revoke <keyId>')
  .description('revoke a key at once')
  .action((id: string) => withApp(async (app) => (await app.get(ApiKeysService).revoke(command(), id)).body));
key
  .command('rotate <keyId>')
  .description('issue a replacement; the old key keeps working for the overlap')
  .option('--overlap-seconds <n>', 'how long the old key keeps working', (v) => Number.parseInt(v, 10))
  .action((id: string, o: { overlapSeconds?: number }) =>
    withApp(
      async (app) =>
        (
          await app
            .get(ApiKeysService)
            .rotate(command(), id, o.overlapSeconds === undefined ? {} : { overlapSeconds: o.overlapSeconds })
        ).body,
    ),
  );

program
  .command('bootstrap')
  .description('first admin key of a fresh install (only while no active admin key exists)')
  .option('--name <name>', 'name of the first admin operator', 'admin')
  .option('--write <file>', 'write the key to this file (mode 600) instead of printing it')
  .action((o: { name: string; write?: string }) =>
    withApp(async (app) => {
      // Only runs while no active admin key exists, so a file already there holds a dead key: replace it.
      const write = (issued: { key: string }) => {
        if (!o.write) return;
        // Created afresh with mode 600 ('wx'): a leftover .tmp would keep its own, wider mode.
        rmSync(`${o.write}.tmp`, { force: true });
        writeFileSync(`${o.write}.tmp`, `${issued.key}\n`, { mode: 0o600, flag: 'wx' });
        renameSync(`${o.write}.tmp`, o.write);
      };
      const issued = await app.get(BootstrapService).bootstrapAdmin(o.name, write);
      if (!issued) {
        process.stderr.write('an active admin key already exists: nothing to do\n');
        return undefined;
      }
      if (!o.write) return issued;
      process.stderr.write(
        `created operator "${o.name}" with admin key ${issued.keyId}; the key is in ${o.write}\n`,
      );
      return undefined;
    }),
  );

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
  else if (error instanceof AppError)
    process.stderr.write(
      `${error.code}: ${error.message}\n${(error.details ?? []).map((d) => `  - ${d.field}: ${d.reason}\n`).join('')}`,
    );
  else process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof AppError ? 2 : 1);
});

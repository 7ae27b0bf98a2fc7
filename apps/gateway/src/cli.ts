import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Module, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { Command, InvalidArgumentError } from 'commander';
import { QueueName, ServiceName } from '@desk/contracts';
import {
  AppError,
  ConfigError,
  PlatformModule,
  SERVICE_DATABASE_ROLES,
  resolveSecrets,
  type Secrets,
} from '@desk/platform';
import { ApiCommandError, registerApiCommands } from './cli-api-commands';
import { GATEWAY_CONFIG, loadGatewayConfig, type GatewayConfig } from './config';
import { generateApiKey } from './modules/access/api-key';
import { ALL_ROLES } from './modules/access/role';
import { replaceSecretFile, writeSecretFile } from './secret-file';
import { ApiKeysService } from './modules/keys/api-keys.service';
import { BootstrapService, CONSOLE_ACTOR } from './modules/keys/bootstrap.service';
import { KeysModule } from './modules/keys/keys.module';
import { OperatorsModule } from './modules/operators/operators.module';
import { OperatorsService } from './modules/operators/operators.service';
import { SetupModule } from './modules/setup/setup.module';
import { SetupService } from './modules/setup/setup.service';
import { GATEWAY_SCHEMA } from './schema';

/**
 * `npm run cli -- …`: operators and keys for the person at the console, through the same services as the
 * API (so the same rules and audit events). Trading commands (orders, balances, reconciliation) call the
 * API instead, with the operator's own key (cli-api-commands.ts). A new key is printed once, to stdout, and nowhere else; the
 * audit events wait in the gateway's outbox until a gateway publishes them.
 */
@Module({})
class CliModule {
  static forRoot(config: GatewayConfig, secrets: Secrets): DynamicModule {
    return {
      module: CliModule,
      imports: [
        PlatformModule.forRoot({
          secrets,
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
        SetupModule,
      ],
    };
  }
}

async function withApp<T>(work: (app: INestApplicationContext) => Promise<T>): Promise<void> {
  // As the gateway boots: its secrets (Vault, or the environment) first, then its config.
  const { env, secrets } = await resolveSecrets('gateway', {
    ...process.env,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
  });
  const config = loadGatewayConfig(env);
  const app = await NestFactory.createApplicationContext(CliModule.forRoot(config, secrets), {
    logger: ['error'],
  });
  try {
    const result = await work(app);
    if (result !== undefined) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await closeQuietly(app);
    secrets.close();
  }
}

/**
 * A quick command can end while the queue connections are still in their handshake; closing one then makes
 * ioredis raise "Connection is closed" where nothing catches it, and the console crashed after doing its
 * work. Each queue is let finish connecting first.
 */
async function closeQuietly(app: INestApplicationContext): Promise<void> {
  await Promise.all(
    Object.values(QueueName).map(async (name) => {
      try {
        await app.get<Queue>(getQueueToken(name), { strict: false }).waitUntilReady();
      } catch {
        /* not registered here, or already failed: nothing to wait for */
      }
    }),
  );
  await app.close();
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

const HOLDER_NOTICE =
  'keep the key to yourself; give only keyId and digest to an admin, who registers them (desk key register)';

const program = new Command('desk')
  .description('Trading desk console: operators and API keys; operator commands through the API')
  .showHelpAfterError();

const operator = program.command('operator').description('operators (people)');
operator
  .command('create <name>')
  .description('create an operator (waits for approvers once setup is closed)')
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
  .command('generate')
  .description(
    'generate your own key (no database needed): keep the key, give the key id and digest to an admin',
  )
  .option('--write <file>', 'write the key to this new file (mode 600) instead of printing it')
  .action((o: { write?: string }) => {
    const generated = generateApiKey();
    const registration = { keyId: generated.keyId, digest: generated.digest.toString('hex') };
    if (o.write) {
      writeSecretFile(o.write, `${generated.key}\n`);
      process.stdout.write(`${JSON.stringify(registration, null, 2)}\n`);
      process.stderr.write(`the key is in ${o.write}; give the key id and digest above to an admin\n`);
      return;
    }
    process.stdout.write(
      `${JSON.stringify({ key: generated.key, ...registration, notice: HOLDER_NOTICE }, null, 2)}\n`,
    );
  });
key
  .command('register')
  .description(
    'register a key its holder generated; roles beyond viewer wait for approvers once setup is closed',
  )
  .requiredOption('--operator <operatorId>', 'the operator who holds the key')
  .requiredOption('--roles <roles>', `comma-separated: ${ALL_ROLES.join(', ')}`, rolesOption)
  .requiredOption('--key-id <keyId>', 'the key id `desk key generate` printed for the holder')
  .requiredOption('--digest <digest>', 'the digest `desk key generate` printed for the holder')
  .option('--label <label>', 'what the key is for')
  .option('--expires-at <iso>', 'expiry, e.g. 2027-01-31T00:00:00Z')
  .action(
    (o: {
      operator: string;
      roles: string[];
      keyId: string;
      digest: string;
      label?: string;
      expiresAt?: string;
    }) =>
      withApp(
        async (app) =>
          (
            await app.get(ApiKeysService).register(command(), o.operator, {
              keyId: o.keyId,
              digest: o.digest,
              roles: o.roles,
              label: o.label,
              expiresAt: o.expiresAt,
            })
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

const setup = program.command('setup').description('the desk setup phase (first admin and first approvers)');
setup
  .command('status')
  .description('bootstrap (no two-man rule yet) or operational')
  .action(() => withApp((app) => app.get(SetupService).view()));
setup
  .command('close')
  .description('close setup for good: from now on new operators and privileged keys need approvers')
  .action(() => withApp((app) => app.get(SetupService).close(CONSOLE_ACTOR, command().correlationId)));

program
  .command('bootstrap')
  .description('first admin key of a fresh install (only while no active admin key exists)')
  .option('--name <name>', 'name of the first admin operator', 'admin')
  .option('--write <file>', 'write the key to this file (mode 600) instead of printing it')
  .action((o: { name: string; write?: string }) =>
    withApp(async (app) => {
      // Only runs while no active admin key exists, so a file already there holds a dead key: replace it.
      const write = (issued: { key: string }) => {
        if (o.write) replaceSecretFile(o.write, `${issued.key}\n`);
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

registerApiCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ApiCommandError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(error.exitCode);
  }
  if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
  else if (error instanceof AppError)
    process.stderr.write(
      `${error.code}: ${error.message}\n${(error.details ?? []).map((d) => `  - ${d.field}: ${d.reason}\n`).join('')}`,
    );
  else process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof AppError ? 2 : 1);
});

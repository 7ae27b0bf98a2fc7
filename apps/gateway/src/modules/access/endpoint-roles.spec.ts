import 'reflect-metadata';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { describe, expect, it } from '@jest/globals';
import { HealthController, IS_PUBLIC } from '@desk/platform';
import { REQUIRED_ROLE } from './require-role.decorator';

function controllerFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory()
      ? controllerFiles(path)
      : path.endsWith('.controller.ts')
        ? [path]
        : [];
  });
}

type Ctor = abstract new (...args: never[]) => unknown;

/** Every route handler of every controller the gateway serves: "GET v1/orders → OrdersController.list". */
async function routes(): Promise<
  { route: string; controller: Ctor; handler: (...args: unknown[]) => unknown }[]
> {
  const controllers: Ctor[] = [HealthController];
  for (const file of controllerFiles(join(__dirname, '..'))) {
    const mod = (await import(file)) as Record<string, unknown>;
    for (const value of Object.values(mod)) {
      if (typeof value === 'function' && Reflect.getMetadata(PATH_METADATA, value) !== undefined)
        controllers.push(value as Ctor);
    }
  }
  return controllers.flatMap((controller) =>
    Object.getOwnPropertyNames(controller.prototype)
      .map((name) => ({ name, handler: (controller.prototype as Record<string, unknown>)[name] }))
      .filter(
        (m): m is { name: string; handler: (...args: unknown[]) => unknown } =>
          typeof m.handler === 'function',
      )
      .filter((m) => Reflect.getMetadata(METHOD_METADATA, m.handler) !== undefined)
      .map((m) => ({ route: `${controller.name}.${m.name}`, controller, handler: m.handler })),
  );
}

describe('every gateway endpoint declares the role it needs', () => {
  it('has @RequireRole or @Public on each route handler (or its controller)', async () => {
    const all = await routes();
    expect(all.length).toBeGreaterThan(10);
    const undeclared = all
      .filter(
        ({ controller, handler }) =>
          Reflect.getMetadata(REQUIRED_ROLE, handler) === undefined &&
          Reflect.getMetadata(REQUIRED_ROLE, controller) === undefined &&
          Reflect.getMetadata(IS_PUBLIC, handler) !== true &&
          Reflect.getMetadata(IS_PUBLIC, controller) !== true,
      )
      .map((r) => r.route);
    expect(undeclared).toEqual([]);
  });

  it('keeps only health checks public', async () => {
    const publicRoutes = (await routes())
      .filter(
        ({ controller, handler }) =>
          Reflect.getMetadata(IS_PUBLIC, handler) || Reflect.getMetadata(IS_PUBLIC, controller),
      )
      .map((r) => r.route);
    expect(publicRoutes.sort()).toEqual(['HealthController.live', 'HealthController.ready']);
  });
});

describe('the gateway throttles by IP, key and order submission only', () => {
  it('has no @Throttle or @SkipThrottle on any endpoint (GatewayThrottlerGuard does not read them)', async () => {
    const carrying = (await routes())
      .filter(({ controller, handler }) =>
        [...Reflect.getMetadataKeys(handler), ...Reflect.getMetadataKeys(controller)].some(
          (key) => typeof key === 'string' && key.startsWith('THROTTLER:'),
        ),
      )
      .map((r) => r.route);
    expect(carrying).toEqual([]);
  });
});

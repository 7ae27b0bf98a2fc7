import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import { waitFor } from '@desk/testing';

/**
 * `npm start`'s supervisor (scripts/lib/supervisor.mjs) with real child processes: a service is SIGKILLed
 * and comes back while the others keep running; a service that keeps dying stops everything with a clear
 * message; Ctrl-C (SIGINT) stops all. The services are small Node processes standing in for the five (the
 * supervisor only sees processes), the policy's delays shortened.
 */
const SUPERVISOR = pathToFileURL(join(__dirname, '..', '..', 'scripts', 'lib', 'supervisor.mjs')).href;

const STEADY = 'setInterval(() => undefined, 1000)';
const CRASHING = 'setTimeout(() => process.exit(3), 50)';

interface Driver {
  process: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}

const drivers: Driver[] = [];

function startSupervisor(services: Record<string, string>): Driver {
  const code = `
    import { spawn } from 'node:child_process';
    import { supervise } from ${JSON.stringify(SUPERVISOR)};
    const services = ${JSON.stringify(services)};
    const { stop } = supervise({
      services: Object.keys(services),
      log: (line) => console.log('[desk] ' + line),
      exit: (code) => process.exit(code),
      policy: { initialDelayMs: 100, maxDelayMs: 400, maxRestarts: 3, windowMs: 60000 },
      stopTimeoutMs: 5000,
      spawnService: (name) => {
        const child = spawn(process.execPath, ['-e', services[name]], { stdio: 'ignore' });
        console.log('spawned ' + name + ' ' + child.pid);
        return child;
      },
    });
    process.on('SIGINT', () => stop(0));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop() ?? '';
      lines.push(...parts);
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const driver = { process: child, lines, exited };
  drivers.push(driver);
  return driver;
}

const pidsOf = (d: Driver, name: string): number[] =>
  d.lines.filter((l) => l.startsWith(`spawned ${name} `)).map((l) => Number(l.split(' ')[2]));

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

afterEach(async () => {
  for (const d of drivers.splice(0)) {
    if (d.process.exitCode === null && d.process.signalCode === null) {
      d.process.kill('SIGINT');
      await d.exited;
    }
  }
});

describe('npm start supervises the services', () => {
  it('restarts a SIGKILLed service, says so, and leaves the others running; Ctrl-C stops them all', async () => {
    const d = startSupervisor({ execution: STEADY, risk: STEADY });
    await waitFor(async () => (pidsOf(d, 'execution').length && pidsOf(d, 'risk').length ? true : undefined));
    const [execution] = pidsOf(d, 'execution');
    const [risk] = pidsOf(d, 'risk');

    process.kill(execution, 'SIGKILL');
    const restarted = await waitFor(
      async () => (pidsOf(d, 'execution').length === 2 ? pidsOf(d, 'execution')[1] : undefined),
      { what: 'execution to be started again' },
    );
    expect(d.lines).toContainEqual(
      expect.stringMatching(
        /^\[desk\] execution died \(signal SIGKILL\); the other services keep running\. Restarting execution in 100 ms \(restart 1 of at most 3/,
      ),
    );
    await waitFor(async () =>
      d.lines.some((l) => l === `[desk] execution restarted (pid ${restarted}).`) ? true : undefined,
    );
    expect(alive(restarted)).toBe(true);
    expect(alive(risk)).toBe(true);
    expect(pidsOf(d, 'risk')).toEqual([risk]);

    d.process.kill('SIGINT');
    expect(await d.exited).toBe(0);
    expect(d.lines).toContain('[desk] stopping the 2 running services');
    await waitFor(async () => (!alive(restarted) && !alive(risk) ? true : undefined), {
      what: 'both services to have stopped',
    });
  });

  it('stops everything, saying which service keeps dying, when one dies more often than the limit', async () => {
    const d = startSupervisor({ audit: CRASHING, gateway: STEADY });
    expect(await d.exited).toBe(1);
    expect(pidsOf(d, 'audit')).toHaveLength(4); // the first start and 3 restarts
    expect(
      d.lines.filter((l) => /^\[desk\] audit died \(exit code 3\); the other services keep running/.test(l)),
    ).toHaveLength(3);
    expect(d.lines).toContainEqual(
      expect.stringMatching(
        /^\[desk\] audit died \(exit code 3\) again: restarted 3 times within 1 min, it keeps dying\. Stopping everything/,
      ),
    );
    const [gateway] = pidsOf(d, 'gateway');
    expect(pidsOf(d, 'gateway')).toHaveLength(1);
    expect(alive(gateway)).toBe(false);
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { redisServerArgs } from './infra';

/**
 * A loopback TCP port nobody listens on right now, for a server that a test starts later (a child
 * process, a container). Taken outside the kernel's ephemeral range (ip_local_port_range): a port the OS
 * hands out for `listen(0)` comes from that range, the same one every outgoing connection (to PostgreSQL,
 * to Redis, from the parallel test workers) takes its local port from, so between this call and the
 * child's bind a client socket can take it and the child dies with EADDRINUSE. Below the range only
 * another test's free port can collide, and a random pick with a bind check makes that rare.
 */
export async function freePort(): Promise<number> {
  const [low] = ephemeralRange();
  const floor = 10_000;
  const ceiling = Math.max(floor + 1000, low);
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = floor + Math.floor(Math.random() * (ceiling - floor));
    if (await bindable(port)) return port;
  }
  throw new Error(`no free loopback port between ${floor} and ${ceiling} after 50 tries`);
}

function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return [low!, high!];
  } catch {
    // Not Linux: the IANA dynamic range.
  }
  return [49152, 65535];
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A Redis of the test's own on a free port, started as the desk starts one (`redisServerArgs`: noeviction,
 * append-only file in a temp dir) plus `extraArgs`; `stop()` shuts it down as an outage would look to the
 * services (connections drop, the port refuses), `start()` brings it back on the same port with its data.
 * Never the shared Redis: a fault test may stop only what it started.
 */
export interface PrivateRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Freezes it (SIGSTOP): connections stay open, nothing is answered, as a hung server. */
  pause(): void;
  /** Lets it go on (SIGCONT) after `pause()`. */
  resume(): void;
  /** Stops it for good and removes its files. */
  destroy(): Promise<void>;
}

export async function startPrivateRedis(extraArgs: string[] = []): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'desk-fault-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const answers = async (): Promise<boolean> => {
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await r.connect();
      return (await r.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      r.disconnect();
    }
  };

  const redis: PrivateRedis = {
    url,
    port,
    async start() {
      if (child && child.exitCode === null && child.signalCode === null) return; // already running: a second server would only fail to bind
      const started = spawn('redis-server', [...redisServerArgs(port, dir), ...extraArgs], {
        stdio: 'ignore',
      });
      child = started;
      const end = Date.now() + 15_000;
      while (!(await answers())) {
        if (started.exitCode !== null)
          throw new Error(`redis-server on ${port} exited (${started.exitCode})`);
        if (Date.now() > end) throw new Error(`redis-server on ${port} did not answer`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGCONT');
      running.kill('SIGTERM');
      await exited;
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async destroy() {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await redis.start();
  return redis;
}

/**
 * A TCP forwarder on a free port to `targetPort` on 127.0.0.1: pointing a service at it and calling
 * `cut()` is, for that service, its server going away (every open connection reset, new ones refused);
 * `restore()` listens again on the same port. For a server that other tests share and so cannot be stopped.
 */
export interface TcpLink {
  port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpLink(targetPort: number): Promise<TcpLink> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;

  const listen = async (): Promise<void> => {
    const s = createServer((client) => {
      const upstream = connect(targetPort, '127.0.0.1');
      sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    server = s;
  };

  const link: TcpLink = {
    port,
    async cut() {
      const s = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    restore: listen,
    close: () => link.cut(),
  };
  await listen();
  return link;
}

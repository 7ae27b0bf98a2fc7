import { createHash } from 'node:crypto';
import { Client } from 'pg';
import { pgConnectionConfig } from '../persistence/data-source-options';

/** What a service instance is doing: writing (it holds the lock) or waiting to take over. */
export type LeadershipRole = 'leader' | 'standby';

/** Readiness detail of a service that elects one writer (docs/adr/0015); injectable under this token. */
export const LEADERSHIP_STATUS = Symbol('LEADERSHIP_STATUS');

export interface LeadershipStatus {
  readonly role: LeadershipRole;
}

/** Anything that runs SQL: a TypeORM EntityManager inside a transaction, a DataSource, a pg Client. */
export interface SqlRunner {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

interface LeadershipLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface AdvisoryLockLeadershipOptions {
  /** The service's own PostgreSQL connection (a direct one: session locks do not survive a transaction pooler). */
  readonly connectionString: string;
  /** The password from Vault, asked on each new connection (rotation); default: the URL's own. */
  readonly password?: (() => Promise<string>) | undefined;
  /** Names the lock; two positive 31-bit keys are derived from it. One lock per database. */
  readonly lockName: string;
  /** A standby tries the lock, and the leader pings its lock session, this often. */
  readonly pollIntervalMs: number;
  /**
   * PostgreSQL ends the lock session (and so releases the lock) when it has heard nothing from it for this
   * long (idle_session_timeout, TCP keepalives): a frozen or cut-off leader cannot hold it for longer. The
   * leader pings every pollIntervalMs and steps down itself when a ping fails or takes longer than that.
   */
  readonly sessionTimeoutMs: number;
  /** Start acting as the single writer (workers, loops). A failure releases the lock again. */
  readonly onElected: () => Promise<void>;
  /**
   * Stop acting: at once when the lock is lost or in doubt (`graceful` false: work in hand is not waited
   * for, the fence refuses its writes); when shutting down (`graceful` true) work in hand may finish
   * first, and the lock is released only after this resolves.
   */
  readonly onDeposed: (reason: string, graceful: boolean) => Promise<void>;
  readonly logger: LeadershipLogger;
}

/**
 * One writer at a time, elected by a PostgreSQL session-level advisory lock held on a dedicated connection
 * (never a pooled one, where the session under a query can change). Every instance polls
 * `pg_try_advisory_lock`; the one that gets it is the leader until its session ends. PostgreSQL releases
 * the lock when the session dies (process killed, connection cut, idle_session_timeout), so a standby
 * takes over within one poll of the leader's death; the leader steps down as soon as its lock connection
 * errors, ends or stops answering. Writers also check `holds()` inside their transactions (a fence): a
 * deposed leader's in-flight work cannot commit once another instance may hold the lock.
 */
export class AdvisoryLockLeadership implements LeadershipStatus {
  readonly keys: readonly [number, number];
  private client: Client | undefined;
  private backendPid: number | undefined;
  /** Holds the lock (the fence passes). */
  private leading = false;
  /** Holds the lock and onElected completed: what the role reports. */
  private acting = false;
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  /** Deposition in progress (so a second cause does not run onDeposed twice). */
  private deposing: Promise<void> | undefined;

  constructor(private readonly options: AdvisoryLockLeadershipOptions) {
    this.keys = lockKeys(options.lockName);
  }

  /** 'leader' once onElected has completed (its duties started), until it steps down. */
  get role(): LeadershipRole {
    return this.acting && this.leading ? 'leader' : 'standby';
  }

  /** Makes the first attempt (a lone instance is leader when this resolves), then keeps polling. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.tick();
    this.schedule();
  }

  /** Steps down (onDeposed first, then the lock is released) and stops polling. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    if (this.leading) await this.depose('shutting down', true);
    await this.deposing;
    await this.disconnect();
  }

  /**
   * Whether this instance's lock session holds the lock at this moment, as PostgreSQL sees it: run inside a
   * writer's transaction (after it took the row lock writers share), a true answer means no other instance
   * can have written since, nor write until this transaction ends.
   */
  async holds(db: SqlRunner): Promise<boolean> {
    const pid = this.leading ? this.backendPid : undefined;
    if (pid === undefined) return false;
    const rows = (await db.query(
      `SELECT EXISTS (
         SELECT 1 FROM pg_locks
          WHERE locktype = 'advisory' AND granted AND pid = $3 AND objsubid = 2
            AND classid = $1::bigint::oid AND objid = $2::bigint::oid
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
       ) AS held`,
      [this.keys[0], this.keys[1], pid],
    )) as { held: boolean }[];
    return rows[0]?.held === true;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
        this.schedule();
      });
    }, this.options.pollIntervalMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.deposing) return;
    try {
      if (this.leading) await this.ping();
      else await this.tryAcquire();
    } catch (error) {
      const reason = `lock session failed: ${error instanceof Error ? error.message : String(error)}`;
      if (this.leading) await this.depose(reason);
      else {
        this.options.logger.warn(`cannot try the leader lock (${reason}); retrying`);
        await this.disconnect();
      }
    }
  }

  private async tryAcquire(): Promise<void> {
    const client = this.client ?? (await this.connect());
    const result = await client.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS got', [
      ...this.keys,
    ]);
    if (result.rows[0]?.got !== true || this.stopped) {
      if (result.rows[0]?.got === true) await this.disconnect();
      return;
    }
    this.leading = true;
    this.options.logger.log(
      `elected leader (advisory lock ${this.keys.join(',')}, session ${this.backendPid})`,
    );
    try {
      await this.options.onElected();
      this.acting = this.leading;
    } catch (error) {
      await this.depose(
        `could not start as leader: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  private async ping(): Promise<void> {
    const client = this.client;
    if (!client) throw new Error('lock connection gone');
    await client.query('SELECT 1');
  }

  /** Stops acting first (role standby at once), then lets the lock go with the session. */
  private depose(reason: string, graceful = false): Promise<void> {
    if (this.deposing) return this.deposing;
    this.leading = false;
    this.acting = false;
    this.options.logger.warn(`stepping down as leader: ${reason}`);
    this.deposing = (async () => {
      try {
        await this.options.onDeposed(reason, graceful);
      } catch (error) {
        this.options.logger.error(
          `stepping down failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      } finally {
        await this.disconnect();
        this.deposing = undefined;
      }
    })();
    return this.deposing;
  }

  private async connect(): Promise<Client> {
    const { pollIntervalMs, sessionTimeoutMs } = this.options;
    const client = new Client({
      ...pgConnectionConfig(this.options.connectionString, this.options.password),
      application_name: `leader:${this.options.lockName}`.slice(0, 63),
      connectionTimeoutMillis: Math.max(1000, pollIntervalMs),
      // A ping that takes longer than a poll is a failed ping: the leader steps down.
      query_timeout: Math.max(1000, pollIntervalMs),
      keepAlive: true,
      keepAliveInitialDelayMillis: pollIntervalMs,
    });
    // Runs only for this connection: a lost session deposes at once, not at the next ping.
    const lost = (why: string) => {
      if (this.client !== client) return;
      this.client = undefined;
      this.backendPid = undefined;
      if (this.leading) void this.depose(why);
    };
    client.on('error', (error) => lost(`lock connection error: ${error.message}`));
    client.on('end', () => lost('lock connection ended'));
    await client.connect();
    try {
      const seconds = Math.max(1, Math.floor(sessionTimeoutMs / 3000));
      // The server ends a session it has not heard from: the lock cannot outlive a frozen or cut-off leader.
      await client.query(`SET idle_session_timeout = ${Math.floor(sessionTimeoutMs)}`);
      await client.query(
        `SET tcp_keepalives_idle = ${seconds}; SET tcp_keepalives_interval = ${seconds}; SET tcp_keepalives_count = 3`,
      );
      const pid = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      this.backendPid = pid.rows[0]?.pid;
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.client = client;
    return client;
  }

  private async disconnect(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.backendPid = undefined;
    if (!client) return;
    // Ending the session releases the lock; a connection that no longer answers is not waited for.
    await Promise.race([
      client.end().catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, 1000).unref()),
    ]);
  }
}

/** Two positive 31-bit keys for pg_try_advisory_lock(int, int), derived from the lock's name. */
export function lockKeys(name: string): [number, number] {
  const digest = createHash('sha256').update(name).digest();
  return [digest.readUInt32BE(0) & 0x7fffffff, digest.readUInt32BE(4) & 0x7fffffff];
}

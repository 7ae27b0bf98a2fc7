import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  AdvisoryLockLeadership,
  SECRETS,
  SERVICE_DATABASE_ROLES,
  serviceDatabaseUrl,
  type LeadershipRole,
  type LeadershipStatus,
  type Secrets,
} from '@desk/platform';
import { RISK_CONFIG, type RiskConfig } from '../../config';
import { NotLeaderError } from './not-leader.error';

/** What the leader does while it holds the lock (LeaderDutiesService). */
export interface LeaderDuties {
  readonly onElected: () => Promise<void>;
  readonly onDeposed: (reason: string, graceful: boolean) => Promise<void>;
}

/**
 * Which risk instance writes the risk book (docs/adr/0015): the holder of a PostgreSQL session-level
 * advisory lock on a dedicated connection as risk's own role. Every writer checks `assertLeader` inside its
 * transaction after taking the book lock (BookLockService), so even a deposed leader's work in hand cannot
 * commit once another instance may hold the lock.
 */
@Injectable()
export class RiskLeadership implements LeadershipStatus {
  private readonly logger = new Logger(RiskLeadership.name);
  private lock: AdvisoryLockLeadership | undefined;

  constructor(
    @Inject(RISK_CONFIG) private readonly config: RiskConfig,
    @Inject(SECRETS) private readonly secrets: Secrets,
  ) {}

  get role(): LeadershipRole {
    return this.lock?.role ?? 'standby';
  }

  /** Makes the first attempt (a lone instance leads when this resolves) and keeps polling. */
  async start(duties: LeaderDuties): Promise<void> {
    const c = this.config;
    this.lock = new AdvisoryLockLeadership({
      connectionString: serviceDatabaseUrl(
        c.DATABASE_URL,
        SERVICE_DATABASE_ROLES['risk'],
        c.RISK_DATABASE_URL,
      ),
      // From Vault, risk's password (the URL has none then), asked on each reconnection.
      password: this.secrets.databasePassword(),
      lockName: 'desk.risk.writer',
      pollIntervalMs: c.RISK_LEADER_POLL_MS,
      sessionTimeoutMs: c.RISK_LEADER_SESSION_TIMEOUT_MS,
      onElected: duties.onElected,
      onDeposed: duties.onDeposed,
      logger: {
        log: (message) => this.logger.log(message),
        warn: (message) => this.logger.warn(message),
        error: (message) => this.logger.error(message),
      },
    });
    await this.lock.start();
  }

  /** Steps down (work in hand finishes first) and releases the lock. */
  async stop(): Promise<void> {
    await this.lock?.stop();
  }

  /** The fence: throws unless this instance holds the writer lock now, as PostgreSQL sees it. */
  async assertLeader(tx: EntityManager): Promise<void> {
    if (!(await this.lock?.holds(tx))) {
      throw new NotLeaderError('this risk instance does not hold the writer lock; another one decides');
    }
  }
}

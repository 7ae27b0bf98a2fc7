import { Controller, Get, Inject, Optional, Res, ServiceUnavailableException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  TypeOrmHealthIndicator,
  type HealthCheckResult,
} from '@nestjs/terminus';
import { Public } from '../http/public.decorator';
import { LEADERSHIP_STATUS, type LeadershipStatus } from '../leadership/advisory-lock-leadership';
import { SECRETS } from '../config/tokens';
import type { Secrets } from '../secrets/secrets';
import { RedisHealthIndicator } from './redis.health';

/**
 * Liveness: the process answers (stays up while a dependency is down: restarting would not help).
 * Readiness: its PostgreSQL and Redis answer, and Redis keeps queued jobs (noeviction); otherwise 503
 * with terminus's report, whose `error` names each dependency that is down and why. A service that elects
 * one writer (docs/adr/0015) shows its role; a standby is ready (healthy, waiting to take over). `secrets`
 * shows where the secrets came from (docs/secrets.md): a fallback is visible, never a value.
 */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(TypeOrmHealthIndicator) private readonly db: TypeOrmHealthIndicator,
    @Inject(RedisHealthIndicator) private readonly redis: RedisHealthIndicator,
    @Optional() @Inject(LEADERSHIP_STATUS) private readonly leadership?: LeadershipStatus,
    @Optional() @Inject(SECRETS) private readonly secrets?: Secrets,
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    const leadership = this.leadership;
    const secrets = this.secrets;
    try {
      return await this.health.check([
        () => this.db.pingCheck('postgres', { timeout: 1000 }),
        () => this.redis.ping('redis', 1000),
        ...(leadership ? [() => ({ leadership: { status: 'up' as const, role: leadership.role } })] : []),
        // Which source the secrets came from ('environment-fallback': Vault is configured but was down at boot).
        ...(secrets ? [() => ({ secrets: { status: 'up' as const, ...secrets.status() } })] : []),
      ]);
    } catch (error) {
      // Terminus reports "not ready" as an exception carrying the report; answer it as it is.
      if (!(error instanceof ServiceUnavailableException)) throw error;
      void reply.status(503);
      return error.getResponse() as HealthCheckResult;
    }
  }
}

import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Public } from '../http/public.decorator';
import { LEADERSHIP_STATUS, type LeadershipStatus } from '../leadership/advisory-lock-leadership';
import { RedisHealthIndicator } from './redis.health';

/**
 * Liveness: the process answers. Readiness: its PostgreSQL and Redis answer too. A service that elects one
 * writer (docs/adr/0015) shows its role; a standby is ready (healthy, waiting to take over).
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
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    const leadership = this.leadership;
    return this.health.check([
      () => this.db.pingCheck('postgres', { timeout: 1000 }),
      () => this.redis.ping('redis', 1000),
      ...(leadership ? [() => ({ leadership: { status: 'up' as const, role: leadership.role } })] : []),
    ]);
  }
}

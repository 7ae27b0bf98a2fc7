import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AuditAction, serviceActor, ServiceName } from '@desk/contracts';
import { AuditPublisher, REDIS_CLIENT, REDIS_PREFIX } from '@desk/platform';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';
import type { AuthenticatedRequest } from '../../http/request-context';
import { SecurityMetrics } from './security-metrics';

/** The refusals an unauthenticated (or unentitled) client can cause at will: aggregated, never one row each. */
export type SecurityAuditAction =
  AuditAction.AuthFailed | AuditAction.AccessDenied | AuditAction.RequestThrottled;

/**
 * Counts one event of a source in its window (a hash shared by every gateway instance). Returns the
 * source's total in the window; the first event past the bound registers the window for a summary.
 * KEYS: window hash, pending summaries (sorted set). ARGV: action, max, ttl ms, window end ms, member.
 */
const HIT_SCRIPT = `
local total = redis.call('HINCRBY', KEYS[1], 'total', 1)
if total == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
if total > tonumber(ARGV[2]) then
  redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
  if total == tonumber(ARGV[2]) + 1 then redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5]) end
end
return total`;

/** Takes (removes) the windows whose summaries are due: only one instance gets each. */
const CLAIM_SCRIPT = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
return due`;

/** A window's summary waits this long after the window ends (instances' clocks differ a little). */
const GRACE_MS = 500;
/** Window hashes outlive their window by this much, so a summary can be written after an outage. */
const KEEP_MS = 3_600_000;
const ACTIONS: readonly SecurityAuditAction[] = [
  AuditAction.AuthFailed,
  AuditAction.AccessDenied,
  AuditAction.RequestThrottled,
];

interface PendingWindow {
  /** The source: `ip:<address>` or `key:<key id>`. */
  source: string;
  start: number;
}

/**
 * Audits failed authentications, access denials and throttle hits without letting a client flood the
 * append-only log. Per source (the key id when a real key is known, else the client IP) and fixed window
 * (SECURITY_AUDIT_WINDOW_MS), shared by every instance through Redis: the first SECURITY_AUDIT_MAX_PER_WINDOW
 * events are audited one by one, the rest are only counted; once the window is over, one summary event per
 * action (the same action, payload `summary: true, suppressed: N, window`) tells how many were not written.
 * So a source adds at most max + 3 records per window. The Prometheus counters count every event.
 */
@Injectable()
export class SecurityAuditService implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('SecurityAudit');
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    @Inject(REDIS_PREFIX) private readonly prefix: string,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(AuditPublisher) private readonly audit: AuditPublisher,
    @Inject(SecurityMetrics) private readonly metrics: SecurityMetrics,
  ) {}

  onModuleInit(): void {
    const every = Math.min(5000, Math.max(200, Math.floor(this.config.SECURITY_AUDIT_WINDOW_MS / 4)));
    this.timer = setInterval(() => void this.flushDue(), every);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  /**
   * Records a refusal (never throws, never delays the response). `keyId`: the key the client presented,
   * when it is a real key (a revoked or expired one); otherwise the authenticated actor's key, or the IP.
   */
  record(
    request: AuthenticatedRequest,
    action: SecurityAuditAction,
    payload: Record<string, unknown>,
    options: { keyId?: string; subject?: { type: string; id: string } } = {},
  ): void {
    const keyId = options.keyId ?? request.actor?.keyId;
    const source = keyId ? `key:${keyId}` : `ip:${String(request.ip)}`;
    const event = {
      actor: request.actor ?? serviceActor(ServiceName.Gateway),
      action,
      subject: options.subject ?? { type: 'request', id: String(request.id) },
      // The route pattern, never the raw URL (as routeOf in the throttler guard, which imports this file).
      payload: {
        ...payload,
        method: request.method,
        path: request.routeOptions?.url ?? 'unknown',
        ip: request.ip,
      },
      correlationId: String(request.id),
    };
    void this.admit(action, source)
      .then((admitted) => (admitted ? this.audit.record(event) : undefined))
      .catch((error: unknown) => this.log.warn({ err: error }, `could not audit ${action}`));
  }

  /** Whether this event is within its source's bound (and so is audited on its own). */
  private async admit(action: SecurityAuditAction, source: string): Promise<boolean> {
    const windowMs = this.config.SECURITY_AUDIT_WINDOW_MS;
    const max = this.config.SECURITY_AUDIT_MAX_PER_WINDOW;
    const start = Math.floor(Date.now() / windowMs) * windowMs;
    const member: PendingWindow = { source, start };
    const total = Number(
      await this.redis.eval(
        HIT_SCRIPT,
        2,
        this.windowKey(member),
        this.pendingKey(),
        action,
        max,
        windowMs + KEEP_MS,
        start + windowMs,
        JSON.stringify(member),
      ),
    );
    if (total > max) this.metrics.auditSuppressed.inc({ action });
    return total <= max;
  }

  /** Writes the summaries of every window that is over and had suppressed events (any instance's). */
  flushDue(now = Date.now()): Promise<void> {
    this.sweeping ??= this.sweep(now).finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async sweep(now: number): Promise<void> {
    try {
      for (;;) {
        const due = (await this.redis.eval(
          CLAIM_SCRIPT,
          1,
          this.pendingKey(),
          now - GRACE_MS,
          100,
        )) as string[];
        for (const member of due) await this.summarize(member);
        if (due.length < 100) return;
      }
    } catch (error) {
      this.log.warn({ err: error }, 'could not write security audit summaries');
    }
  }

  private async summarize(member: string): Promise<void> {
    const window = JSON.parse(member) as PendingWindow;
    const counts = await this.redis.hgetall(this.windowKey(window));
    const windowMs = this.config.SECURITY_AUDIT_WINDOW_MS;
    const span = {
      start: new Date(window.start).toISOString(),
      end: new Date(window.start + windowMs).toISOString(),
    };
    try {
      for (const action of ACTIONS) {
        const suppressed = Number(counts[action] ?? 0);
        if (suppressed <= 0) continue;
        await this.audit.record({
          // One summary per source, window and action, even if two instances ever wrote it.
          eventId: summaryId(this.prefix, action, member),
          actor: serviceActor(ServiceName.Gateway),
          action,
          subject: { type: 'client', id: window.source },
          payload: {
            summary: true,
            source: window.source,
            suppressed,
            audited: this.config.SECURITY_AUDIT_MAX_PER_WINDOW,
            total: Number(counts.total ?? 0),
            window: span,
          },
          correlationId: `security-audit:${window.start}`,
        });
      }
    } catch (error) {
      // Not written: put the window back so the next sweep tries again.
      await this.redis.zadd(this.pendingKey(), window.start + windowMs, member);
      throw error;
    }
  }

  private windowKey(w: PendingWindow): string {
    return `${this.prefix}:security-audit:${w.source}:${w.start}`;
  }

  private pendingKey(): string {
    return `${this.prefix}:security-audit:pending`;
  }
}

/** A deterministic UUID (version 5 layout) for a summary. */
function summaryId(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\n')).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

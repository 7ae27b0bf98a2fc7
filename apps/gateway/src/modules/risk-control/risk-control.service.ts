import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  ApprovalKind,
  AuditAction,
  ControlCommandKind,
  JobName,
  SCHEMA_VERSION,
  money,
  type Actor,
} from '@desk/contracts';
import { AppError, ErrorCode, Outbox } from '@desk/platform';
import { parseInput } from '../../http/zod-input';
import { ApprovalsService } from '../approvals/approvals.service';
import {
  killSchema,
  putLimitsSchema,
  resumeSchema,
  type LimitView,
  type TradingStateView,
} from './risk-control.dto';
import { RiskStateQueryRepository } from './risk-state-query.repository';

/**
 * People's controls over risk. Killing is never gated: the command goes to risk at once. Resuming and any
 * limit change that raises risk go through the two-man rule; a change that only lowers risk applies at once.
 * For every limit, a higher value means more risk.
 */
@Injectable()
export class RiskControlService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(RiskStateQueryRepository) private readonly state: RiskStateQueryRepository,
    @Inject(ApprovalsService) private readonly approvals: ApprovalsService,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  async kill(actor: Actor, body: unknown, correlationId: string) {
    const input = parseInput(killSchema, body);
    const commandId = randomUUID();
    await this.db.transaction(async (tx) => {
      await this.outbox.add(tx, JobName.ControlCommand, {
        schemaVersion: SCHEMA_VERSION,
        commandId,
        command: ControlCommandKind.Kill,
        actor,
        reason: input.reason,
        flatten: input.flatten,
        issuedAt: new Date().toISOString(),
        correlationId,
      });
      await this.outbox.addAudit(tx, {
        actor,
        action: AuditAction.ControlIssued,
        subject: { type: 'control', id: commandId },
        payload: { command: ControlCommandKind.Kill, reason: input.reason, flatten: input.flatten },
        correlationId,
      });
    });
    await this.outbox.flush();
    return { commandId, command: ControlCommandKind.Kill, flatten: input.flatten, status: 'issued' };
  }

  async resume(actor: Actor, body: unknown, correlationId: string) {
    const input = parseInput(resumeSchema, body);
    const tradingState = (await this.state.tradingState()) ?? null;
    const request = await this.db.transaction((tx) =>
      this.approvals.request(tx, {
        kind: ApprovalKind.TradingResume,
        subjectId: `resume-${randomUUID()}`,
        action: { command: 'resume', reason: input.reason },
        context: { tradingState },
        requester: actor,
        correlationId,
      }),
    );
    void this.outbox.flush();
    if (!request) throw new Error('resume request was not created');
    return {
      status: 'pending_approval',
      approvalId: request.id,
      requiredApprovals: request.requiredApprovals,
      expiresAt: request.expiresAt.toISOString(),
    };
  }

  async tradingState(): Promise<TradingStateView> {
    const s = await this.state.tradingState();
    if (!s) throw new AppError(ErrorCode.NotReady, 'risk has not recorded a trading state yet');
    return s;
  }

  async limits(): Promise<{ items: LimitView[] }> {
    return { items: await this.state.limits() };
  }

  /** Lowering applies at once; if any value rises, the whole change waits for two approvers. */
  async putLimits(
    actor: Actor,
    body: unknown,
    correlationId: string,
  ): Promise<{ status: number; body: unknown }> {
    const input = parseInput(putLimitsSchema, body);
    const current = new Map((await this.state.limits()).map((l) => [l.name, l.value]));
    const unknown = Object.keys(input.limits).filter((name) => !current.has(name));
    if (unknown.length) {
      throw AppError.validation(
        unknown.map((name) => ({
          field: `limits.${name}`,
          reason: `unknown limit (known: ${[...current.keys()].join(', ')})`,
        })),
      );
    }
    const changes = Object.entries(input.limits).map(([name, value]) => ({
      name,
      old: current.get(name) ?? '0',
      new: value,
    }));
    const raises = changes.filter((c) => money(c.new).gt(money(c.old)));
    if (raises.length === 0) {
      const commandId = randomUUID();
      await this.db.transaction(async (tx) => {
        await this.outbox.add(tx, JobName.ControlCommand, {
          schemaVersion: SCHEMA_VERSION,
          commandId,
          command: ControlCommandKind.SetLimits,
          actor,
          reason: input.reason,
          limits: input.limits,
          issuedAt: new Date().toISOString(),
          correlationId,
        });
        await this.outbox.addAudit(tx, {
          actor,
          action: AuditAction.ControlIssued,
          subject: { type: 'control', id: commandId },
          payload: { command: ControlCommandKind.SetLimits, reason: input.reason, changes },
          correlationId,
        });
      });
      void this.outbox.flush();
      return { status: 202, body: { status: 'applying', commandId, changes } };
    }
    const request = await this.db.transaction((tx) =>
      this.approvals.request(tx, {
        kind: ApprovalKind.RaiseLimits,
        subjectId: `limits-${randomUUID()}`,
        action: { limits: input.limits, reason: input.reason },
        context: { changes, raises: raises.map((r) => r.name) },
        requester: actor,
        correlationId,
      }),
    );
    void this.outbox.flush();
    if (!request) throw new Error('limits request was not created');
    return {
      status: 202,
      body: {
        status: 'pending_approval',
        approvalId: request.id,
        changes,
        expiresAt: request.expiresAt.toISOString(),
      },
    };
  }
}

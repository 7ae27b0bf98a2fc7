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
  limitsAction,
  liveVenueAction,
  money,
  resumeAction,
  type Actor,
  type ControlCommand,
} from '@desk/contracts';
import { AppError, ErrorCode, Outbox } from '@desk/platform';
import { parseInput } from '../../http/zod-input';
import type { ApprovalRecord } from '../approvals/approvals.repository';
import { recordControlRequest } from '../approvals/control-requests.repository';
import { ApprovalsService, type NewApproval } from '../approvals/approvals.service';
import {
  killSchema,
  liveVenueParamSchema,
  putLimitsSchema,
  resumeSchema,
  venueSwitchSchema,
  type LimitView,
  type TradingStateView,
  type VenueView,
} from './risk-control.dto';
import { RiskStateQueryRepository } from './risk-state-query.repository';

/**
 * People's controls over risk. Killing and switching a venue off live trading are never gated: the command
 * goes to risk at once. Resuming, any limit change that raises risk, and enabling live trading (real
 * money) on a venue go through the two-man rule; a change that only lowers risk applies at once. For every
 * limit, a higher value means more risk.
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
    const commandId = await this.issue(
      actor,
      { command: ControlCommandKind.Kill, reason: input.reason, flatten: input.flatten },
      correlationId,
    );
    return { commandId, command: ControlCommandKind.Kill, flatten: input.flatten, status: 'issued' };
  }

  async resume(actor: Actor, body: unknown, correlationId: string) {
    const input = parseInput(resumeSchema, body);
    const tradingState = await this.state.tradingState();
    if (!tradingState) throw new Error('risk.trading_state has no row: run the risk migrations');
    const request = await this.hold({
      kind: ApprovalKind.TradingResume,
      subjectId: `resume-${randomUUID()}`,
      // Bound to this halt: approved after another kill, it lifts nothing (the new halt needs its own).
      action: resumeAction(input.reason, tradingState.version),
      context: { tradingState },
      requester: actor,
      correlationId,
    });
    return {
      status: 'pending_approval',
      approvalId: request.id,
      requiredApprovals: request.requiredApprovals,
      expiresAt: request.expiresAt.toISOString(),
    };
  }

  async venues(): Promise<{ items: VenueView[] }> {
    return { items: await this.state.venues() };
  }

  /** Live trading on a venue: two approvers must agree; risk records it when the request executes. */
  async enableLiveVenue(actor: Actor, params: unknown, body: unknown, correlationId: string) {
    const { venue } = parseInput(liveVenueParamSchema, params, '(path)');
    const input = parseInput(venueSwitchSchema, body);
    const current = (await this.state.venues()).find((v) => v.venue === venue);
    if (current?.live) throw new AppError(ErrorCode.Conflict, `live trading on ${venue} is already enabled`);
    const request = await this.hold({
      kind: ApprovalKind.EnableLiveVenue,
      subjectId: `venue-live-${venue}-${randomUUID()}`,
      action: liveVenueAction(venue, input.reason),
      context: { venue, live: false, warning: 'orders on this venue will move real money' },
      requester: actor,
      correlationId,
    });
    return {
      status: 'pending_approval',
      venue,
      approvalId: request.id,
      requiredApprovals: request.requiredApprovals,
      expiresAt: request.expiresAt.toISOString(),
    };
  }

  /** Stopping is never gated: the venue stops trading real money as soon as risk takes the command. */
  async disableLiveVenue(actor: Actor, params: unknown, body: unknown, correlationId: string) {
    const { venue } = parseInput(liveVenueParamSchema, params, '(path)');
    const input = parseInput(venueSwitchSchema, body);
    const commandId = await this.issue(
      actor,
      { command: ControlCommandKind.DisableLiveVenue, venue, reason: input.reason },
      correlationId,
    );
    return { commandId, command: ControlCommandKind.DisableLiveVenue, venue, status: 'issued' };
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
    // The version first: a change between the two reads leaves the approval bound to the older version, so it
    // is refused at quorum rather than released against limits the approvers never saw.
    const limitsVersion = await this.state.limitsVersion();
    const limits = await this.state.limits();
    const current = new Map(limits.map((l) => [l.name, l.value]));
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
      const commandId = await this.issue(
        actor,
        { command: ControlCommandKind.SetLimits, reason: input.reason, limits: input.limits },
        correlationId,
        { changes },
      );
      return { status: 202, body: { status: 'applying', commandId, changes } };
    }
    const request = await this.hold({
      kind: ApprovalKind.RaiseLimits,
      subjectId: `limits-${randomUUID()}`,
      // Bound to these limits: any change before quorum voids the approval.
      action: limitsAction(input.limits, input.reason, limitsVersion),
      context: { changes, raises: raises.map((r) => r.name) },
      requester: actor,
      correlationId,
    });
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

  /** A command people may give without approval (stopping, lowering): sent to risk and audited at once. */
  private async issue(
    actor: Actor,
    c: Pick<ControlCommand, 'command' | 'reason' | 'flatten' | 'limits' | 'venue'>,
    correlationId: string,
    audited: Record<string, unknown> = {},
  ): Promise<string> {
    const commandId = randomUUID();
    const command: ControlCommand = {
      schemaVersion: SCHEMA_VERSION,
      commandId,
      actor,
      issuedAt: new Date().toISOString(),
      correlationId,
      ...c,
    };
    await this.db.transaction(async (tx) => {
      // Risk applies the command only if it matches this record (docs/adr/0010).
      await recordControlRequest(tx, command);
      await this.outbox.add(tx, JobName.ControlCommand, command);
      const { limits: _limits, ...payload } = c;
      await this.outbox.addAudit(tx, {
        actor,
        action: AuditAction.ControlIssued,
        subject: { type: 'control', id: commandId },
        payload: { ...payload, ...audited },
        correlationId,
      });
    });
    await this.outbox.flush();
    return commandId;
  }

  /** A critical control: held for the two-man rule (risk gets the command only on quorum). */
  private async hold(a: NewApproval): Promise<ApprovalRecord> {
    const request = await this.db.transaction((tx) => this.approvals.request(tx, a));
    void this.outbox.flush();
    if (!request) throw new Error(`${a.kind} request was not created`);
    return request;
  }
}

import { Inject, Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import type { EntityManager } from 'typeorm';
import {
  ApprovalKind,
  AuditAction,
  ControlCommandKind,
  OrderSide,
  PAPER_VENUE,
  ServiceName,
  TradingState,
  actionHash,
  approvalProblem,
  controlCommandDifferences,
  limitsAction,
  liveVenueAction,
  resumeAction,
  serviceActor,
  toWire,
  type ControlCommand,
} from '@desk/contracts';
import { Outbox, UnverifiedJobError, uuidFromHash } from '@desk/platform';
import { BookLockService } from '../state/book-lock.service';
import { EquityRepository } from '../state/equity.repository';
import { checkLimitChange, raises } from '../state/limits';
import { LimitsRepository, toValues } from '../state/limits.repository';
import { LimitsService } from '../state/limits.service';
import { PositionsRepository } from '../state/positions.repository';
import { RiskOrdersService } from '../state/risk-orders.service';
import { TradingStateService } from '../state/trading-state.service';
import { VenuesRepository } from '../state/venues.repository';
import { ControlRepository } from './control.repository';
import { ControlSourcesRepository } from './control-sources.repository';

export interface ControlOutcome {
  readonly command: ControlCommandKind;
  /** False for a redelivered command: it was applied the first time. */
  readonly applied: boolean;
  /** Kill with flatten: the closing orders sent. */
  readonly closingOrders?: number;
}

/**
 * Applies people's commands, each once (risk.control_commands) and only as the gateway issued them
 * (gateway.control_sources), its effects and audit events in one transaction. Kill is never gated: HALTED at once, every open order cancelled at execution, and with
 * flatten every position closed by a reduce-only order; nor is switching a venue off live trading.
 * Resuming, raising a limit and enabling a live venue arrive only after two approvers agreed at the
 * gateway, and risk never takes the command's word for it: it reads the approval record itself (executed,
 * of this kind, for exactly this action, still enough valid approvers) and lets one approval release one
 * command only. Every command's transaction first holds the risk book (BookLockService): commands take
 * turns with decisions, and only the writer instance applies them (docs/adr/0015).
 */
@Injectable()
export class ControlService {
  private readonly logger = new Logger(ControlService.name);

  constructor(
    @Inject(ControlRepository) private readonly commands: ControlRepository,
    @Inject(BookLockService) private readonly book: BookLockService,
    @Inject(ControlSourcesRepository) private readonly sources: ControlSourcesRepository,
    @Inject(TradingStateService) private readonly tradingState: TradingStateService,
    @Inject(PositionsRepository) private readonly positions: PositionsRepository,
    @Inject(RiskOrdersService) private readonly riskOrders: RiskOrdersService,
    @Inject(LimitsRepository) private readonly limits: LimitsRepository,
    @Inject(LimitsService) private readonly limitsService: LimitsService,
    @Inject(EquityRepository) private readonly equity: EquityRepository,
    @Inject(VenuesRepository) private readonly venues: VenuesRepository,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  async handle(command: ControlCommand): Promise<ControlOutcome> {
    await this.verifyIssued(command);
    switch (command.command) {
      case ControlCommandKind.Kill:
        return this.kill(command);
      case ControlCommandKind.Resume:
        return this.resume(command);
      case ControlCommandKind.SetLimits:
        return this.setLimits(command);
      case ControlCommandKind.EnableLiveVenue:
        return this.setVenueLive(command, true);
      case ControlCommandKind.DisableLiveVenue:
        return this.setVenueLive(command, false);
      default: {
        const unreachable: never = command.command;
        throw new UnrecoverableError(`unknown control command ${String(unreachable)}`);
      }
    }
  }

  private async kill(command: ControlCommand): Promise<ControlOutcome> {
    const result = await this.commands.transaction(async (tx) => {
      await this.book.hold(tx);
      if (!(await this.commands.record(tx, command, 'applied', null))) return undefined;
      await this.tradingState.change(tx, {
        to: TradingState.Halted,
        reason: command.reason,
        actor: command.actor,
        source: 'kill',
        correlationId: command.correlationId,
        commandId: command.commandId,
        figures: { commandId: command.commandId, flatten: command.flatten ?? false },
      });
      return command.flatten ? this.flatten(tx, command) : 0;
    });
    void this.outbox.flush();
    if (result === undefined) return { command: command.command, applied: false };
    this.logger.warn(
      {
        actor: command.actor,
        reason: command.reason,
        flatten: command.flatten ?? false,
        closingOrders: result,
      },
      'KILL SWITCH: trading halted',
    );
    return { command: command.command, applied: true, closingOrders: result };
  }

  /** One reduce-only market order per open position (risk's view, from fills). */
  private async flatten(tx: EntityManager, command: ControlCommand): Promise<number> {
    let sent = 0;
    for (const p of await this.positions.all(tx)) {
      if (p.quantity.isZero()) continue;
      const sent1 = await this.riskOrders.close(tx, {
        intentId: uuidFromHash(`kill.flatten:${command.commandId}:${p.symbol}`),
        symbol: p.symbol,
        side: p.quantity.isNegative() ? OrderSide.Buy : OrderSide.Sell,
        quantity: p.quantity.abs(),
        actor: command.actor,
        origin: 'kill.flatten',
        reason: command.reason,
        correlationId: command.correlationId,
        figures: {
          commandId: command.commandId,
          position: toWire(p.quantity),
          averagePrice: toWire(p.averagePrice),
        },
      });
      if (sent1) sent += 1;
    }
    return sent;
  }

  private async resume(command: ControlCommand): Promise<ControlOutcome> {
    type Outcome = { refused: string } | { applied: boolean };
    const outcome = await this.commands.transaction(async (tx): Promise<Outcome> => {
      await this.book.hold(tx);
      const problem = await this.approvalRefusal(
        tx,
        command,
        ApprovalKind.TradingResume,
        resumeAction(command.reason, command.stateVersion ?? ''),
      );
      if (problem) return { refused: problem };
      // Bound to the halt it was approved for: after another kill or breaker trip it lifts nothing.
      const current = await this.tradingState.lock(tx);
      if (current.version !== command.stateVersion) {
        return {
          refused: `the trading state changed since this resume was requested (version ${command.stateVersion ?? '(none)'}, now ${current.version}: ${current.source}): the new halt needs its own approval`,
        };
      }
      if (!(await this.commands.record(tx, command, 'applied', null))) return { applied: false };
      await this.tradingState.change(tx, {
        to: TradingState.Active,
        reason: command.reason,
        actor: command.actor,
        source: 'resume',
        correlationId: command.correlationId,
        commandId: command.commandId,
        figures: { commandId: command.commandId, approvalId: command.approvalId ?? null },
      });
      // The drawdown is measured afresh from here: resuming accepts the equity of this moment.
      await this.equity.resetPeak(tx);
      return { applied: true };
    });
    if ('refused' in outcome) return this.refuse(command, outcome.refused);
    void this.outbox.flush();
    return { command: command.command, applied: outcome.applied };
  }

  private async setLimits(command: ControlCommand): Promise<ControlOutcome> {
    type Outcome = { refused: string } | { applied: boolean };
    const outcome = await this.commands.transaction(async (tx): Promise<Outcome> => {
      await this.book.hold(tx);
      const current = toValues(await this.limits.rows(tx, true));
      const check = checkLimitChange(current, command.limits ?? {});
      if (!check.ok) return { refused: check.problems.join('; ') };
      const raising = raises(check.changes);
      if (raising.length && !command.approvalId) {
        return {
          refused: `raising ${raising.map((c) => c.name).join(', ')} needs an approval (two approvers)`,
        };
      }
      // A command that claims an approval must hold it, even when it happens to lower only.
      if (command.approvalId) {
        const problem = await this.approvalRefusal(
          tx,
          command,
          ApprovalKind.RaiseLimits,
          limitsAction(command.limits ?? {}, command.reason, command.limitsVersion ?? ''),
        );
        if (problem) return { refused: problem };
        // Bound to the limits it was approved against: any change in between voids it.
        const version = await this.limits.version(tx);
        if (version !== command.limitsVersion) {
          return {
            refused: `the limits changed since this raise was requested (version ${command.limitsVersion ?? '(none)'}, now ${version}): ask again`,
          };
        }
      }
      if (!(await this.commands.record(tx, command, 'applied', null))) return { applied: false };
      if (check.changes.length) {
        await this.limitsService.apply(
          tx,
          check.changes,
          command.actor,
          command.actor.id,
          command.reason,
          command.correlationId,
          {
            commandId: command.commandId,
            ...(command.approvalId ? { approvalId: command.approvalId } : {}),
          },
        );
      }
      return { applied: true };
    });
    if ('refused' in outcome) return this.refuse(command, outcome.refused);
    void this.outbox.flush();
    return { command: command.command, applied: outcome.applied };
  }

  /**
   * Enabling live trading needs the approval of exactly this venue and reason; switching off never waits.
   * Either way the venue's row changes and the change is audited in the same transaction.
   */
  private async setVenueLive(command: ControlCommand, live: boolean): Promise<ControlOutcome> {
    type Outcome = { refused: string } | { applied: boolean };
    const venue = command.venue;
    if (!venue) return this.refuse(command, 'a venue command names its venue');
    const outcome = await this.commands.transaction(async (tx): Promise<Outcome> => {
      await this.book.hold(tx);
      if (live) {
        if (venue === PAPER_VENUE) return { refused: 'the paper venue never trades real money' };
        const problem = await this.approvalRefusal(
          tx,
          command,
          ApprovalKind.EnableLiveVenue,
          liveVenueAction(venue, command.reason),
        );
        if (problem) return { refused: problem };
      }
      if (!(await this.commands.record(tx, command, 'applied', null))) return { applied: false };
      const before = await this.venues.lock(tx, venue);
      await this.venues.set(tx, {
        venue,
        live,
        approvalId: live ? (command.approvalId ?? null) : null,
        reason: command.reason,
        setBy: command.actor,
        commandId: command.commandId,
      });
      await this.outbox.addAudit(tx, {
        eventId: uuidFromHash(`venue.live:${command.commandId}`),
        actor: command.actor,
        action: live ? AuditAction.VenueLiveEnabled : AuditAction.VenueLiveDisabled,
        subject: { type: 'venue', id: venue },
        payload: {
          venue,
          live,
          wasLive: before?.live ?? false,
          reason: command.reason,
          commandId: command.commandId,
          ...(command.approvalId ? { approvalId: command.approvalId } : {}),
        },
        correlationId: command.correlationId,
      });
      return { applied: true };
    });
    if ('refused' in outcome) return this.refuse(command, outcome.refused);
    void this.outbox.flush();
    if (outcome.applied) {
      this.logger.warn(
        { venue, live, actor: command.actor, approvalId: command.approvalId },
        live ? 'LIVE TRADING ENABLED on a venue' : 'live trading switched off on a venue',
      );
    }
    return { command: command.command, applied: outcome.applied };
  }

  /**
   * The gateway must have issued exactly this command (gateway.control_sources: same id, kind, actor,
   * reason, flatten, limits as decimals, venue and approval id): otherwise the job did not come from the
   * gateway, and nothing is recorded or changed (a forged kill with flatten halts nothing and closes
   * nothing). The record is written once, so reading it outside the command's transaction is enough.
   */
  private async verifyIssued(command: ControlCommand): Promise<void> {
    const issued = await this.sources.issued(command.commandId);
    if (!issued) throw new UnverifiedJobError(`the gateway issued no control command ${command.commandId}`);
    const differences = controlCommandDifferences(issued, command);
    if (differences.length) {
      throw new UnverifiedJobError(
        `the job differs from control command ${command.commandId} as the gateway issued it: ${differences.join('; ')}`,
      );
    }
  }

  /**
   * Why this command's approval does not release it (undefined when it does): the record must say
   * executed, of this kind, for exactly this action, with enough valid approvers, and must not have
   * released another command already (a replayed approval id).
   */
  private async approvalRefusal(
    tx: EntityManager,
    command: ControlCommand,
    kind: ApprovalKind,
    action: unknown,
  ): Promise<string | undefined> {
    const row = command.approvalId ? await this.commands.approval(tx, command.approvalId) : undefined;
    const problem = approvalProblem(row, {
      approvalId: command.approvalId,
      kind,
      actionHash: actionHash(kind, action),
    });
    if (problem || !command.approvalId) return problem ?? `${kind} without an approval`;
    const used = await this.commands.commandUsing(tx, command.approvalId, command.commandId);
    return used ? `approval ${command.approvalId} already released command ${used}` : undefined;
  }

  /** Records and audits the refusal, then fails the job terminally (retrying would not change the answer). */
  private async refuse(command: ControlCommand, why: string): Promise<never> {
    await this.commands.transaction(async (tx) => {
      await this.book.hold(tx);
      if (!(await this.commands.record(tx, command, 'refused', why))) return;
      await this.outbox.addAudit(tx, {
        eventId: uuidFromHash(`${AuditAction.ControlRefused}:${command.commandId}`),
        actor: serviceActor(ServiceName.Risk),
        action: AuditAction.ControlRefused,
        subject: { type: 'control', id: command.commandId },
        payload: {
          command: command.command,
          reason: why,
          requestedBy: command.actor,
          ...(command.limits ? { limits: command.limits } : {}),
          ...(command.venue ? { venue: command.venue } : {}),
          ...(command.approvalId ? { approvalId: command.approvalId } : {}),
        },
        correlationId: command.correlationId,
      });
    });
    void this.outbox.flush();
    this.logger.warn(
      { commandId: command.commandId, command: command.command, why },
      'control command refused',
    );
    throw new UnrecoverableError(`${command.command} refused: ${why}`);
  }
}

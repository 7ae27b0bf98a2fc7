import { Inject, Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import type { EntityManager } from 'typeorm';
import {
  AuditAction,
  ControlCommandKind,
  OrderSide,
  ServiceName,
  TradingState,
  serviceActor,
  toWire,
  type ControlCommand,
} from '@desk/contracts';
import { Outbox, uuidFromHash } from '@desk/platform';
import { EquityRepository } from '../state/equity.repository';
import { checkLimitChange, raises } from '../state/limits';
import { LimitsRepository, toValues } from '../state/limits.repository';
import { LimitsService } from '../state/limits.service';
import { PositionsRepository } from '../state/positions.repository';
import { RiskOrdersService } from '../state/risk-orders.service';
import { TradingStateService } from '../state/trading-state.service';
import { ControlRepository } from './control.repository';

export interface ControlOutcome {
  readonly command: ControlCommandKind;
  /** False for a redelivered command: it was applied the first time. */
  readonly applied: boolean;
  /** Kill with flatten: the closing orders sent. */
  readonly closingOrders?: number;
}

/**
 * Applies people's commands, each once (risk.control_commands), its effects and audit events in one
 * transaction. Kill is never gated: HALTED at once, every open order cancelled at execution, and with
 * flatten every position closed by a reduce-only order. Resume and limit raises arrive only after two
 * approvers agreed at the gateway; risk refuses them without an approval id.
 */
@Injectable()
export class ControlService {
  private readonly logger = new Logger(ControlService.name);

  constructor(
    @Inject(ControlRepository) private readonly commands: ControlRepository,
    @Inject(TradingStateService) private readonly tradingState: TradingStateService,
    @Inject(PositionsRepository) private readonly positions: PositionsRepository,
    @Inject(RiskOrdersService) private readonly riskOrders: RiskOrdersService,
    @Inject(LimitsRepository) private readonly limits: LimitsRepository,
    @Inject(LimitsService) private readonly limitsService: LimitsService,
    @Inject(EquityRepository) private readonly equity: EquityRepository,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  async handle(command: ControlCommand): Promise<ControlOutcome> {
    switch (command.command) {
      case ControlCommandKind.Kill:
        return this.kill(command);
      case ControlCommandKind.Resume:
        return this.resume(command);
      case ControlCommandKind.SetLimits:
        return this.setLimits(command);
      default: {
        const unreachable: never = command.command;
        throw new UnrecoverableError(`unknown control command ${String(unreachable)}`);
      }
    }
  }

  private async kill(command: ControlCommand): Promise<ControlOutcome> {
    const result = await this.commands.transaction(async (tx) => {
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
    if (!command.approvalId) return this.refuse(command, 'resuming needs an approval (two approvers)');
    const applied = await this.commands.transaction(async (tx) => {
      if (!(await this.commands.record(tx, command, 'applied', null))) return false;
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
      return true;
    });
    void this.outbox.flush();
    return { command: command.command, applied };
  }

  private async setLimits(command: ControlCommand): Promise<ControlOutcome> {
    type Outcome = { refused: string } | { applied: boolean };
    const outcome = await this.commands.transaction(async (tx): Promise<Outcome> => {
      const current = toValues(await this.limits.rows(tx, true));
      const check = checkLimitChange(current, command.limits ?? {});
      if (!check.ok) return { refused: check.problems.join('; ') };
      const raising = raises(check.changes);
      if (raising.length && !command.approvalId) {
        return {
          refused: `raising ${raising.map((c) => c.name).join(', ')} needs an approval (two approvers)`,
        };
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

  /** Records and audits the refusal, then fails the job terminally (retrying would not change the answer). */
  private async refuse(command: ControlCommand, why: string): Promise<never> {
    await this.commands.transaction(async (tx) => {
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

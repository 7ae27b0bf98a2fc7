import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  AuditAction,
  JobName,
  OrderStatus,
  SCHEMA_VERSION,
  ServiceName,
  serviceActor,
  toWire,
  type AuditEvent,
} from '@desk/contracts';
import { Outbox, PeriodicTask, uuidFromHash } from '@desk/platform';
import { EXECUTION_CONFIG, type ExecutionConfig } from '../../config';
import { EXCHANGE_ADAPTER, type ExchangeAdapter, type VenueBalance } from '../exchange/exchange-adapter';
import { observeReconciliation } from '../orders/execution-metrics.service';
import { OrderExecutionService } from '../orders/order-execution.service';
import { fillIdOf } from '../orders/order-recorder.service';
import { OrdersRepository } from '../orders/orders.repository';
import {
  FINDING_KINDS,
  ReconciliationRepository,
  type ReconciliationFinding,
} from './reconciliation.repository';

/** An order whose placement is in doubt (its own steps settle it by asking the venue). */
function unsettled(status: OrderStatus): boolean {
  return status === OrderStatus.Placing || status === OrderStatus.Unknown;
}

/** At most this many findings are audited one by one per run (all are in the run's record). */
const AUDITED_FINDINGS = 50;

/**
 * Compares the desk's book with the venue at start and every EXECUTION_RECONCILE_MS (docs/adr/0023): the
 * venue's open orders against the desk's working ones, its recent trades against the desk's fills, its
 * balances against the last ones plus the desk's fills since. Each difference is resolved by the venue's
 * truth where the desk's state machine allows (an order's status and fills are applied as reported, marked
 * RECONCILED), recorded with the run (execution.reconciliations: GET /v1/reconciliations) and audited; risk
 * counts findings toward its error-rate breaker.
 */
@Injectable()
export class ReconciliationService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ReconciliationService.name);
  private readonly loop: PeriodicTask;
  private trigger = 'startup';

  constructor(
    @Inject(EXECUTION_CONFIG) private readonly config: ExecutionConfig,
    @Inject(EXCHANGE_ADAPTER) private readonly exchange: ExchangeAdapter,
    @Inject(OrdersRepository) private readonly orders: OrdersRepository,
    @Inject(OrderExecutionService) private readonly execution: OrderExecutionService,
    @Inject(ReconciliationRepository) private readonly repository: ReconciliationRepository,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {
    this.loop = new PeriodicTask(
      config.EXECUTION_RECONCILE_MS,
      async () => {
        await this.reconcile(this.trigger);
        this.trigger = 'periodic';
      },
      (error) => this.logger.error({ err: error }, 'reconciliation could not be recorded'),
    );
  }

  onApplicationBootstrap(): void {
    this.loop.start({ runNow: true });
  }

  async onModuleDestroy(): Promise<void> {
    await this.loop.stop();
  }

  /** One reconciliation run; returns its findings (also recorded and audited). */
  async reconcile(trigger: string): Promise<{ id: string; findings: ReconciliationFinding[] }> {
    const startedAt = new Date();
    const findings: ReconciliationFinding[] = [];
    let balances: VenueBalance[] | undefined;
    let failed = false;
    try {
      await this.openOrders(findings);
      await this.trades(findings, startedAt);
      balances = await this.exchange.fetchBalances();
      await this.balanceDrift(findings, balances);
    } catch (error) {
      failed = true;
      findings.push({
        kind: 'reconciliation_failed',
        key: 'reconciliation_failed',
        detail: (error instanceof Error ? error.message : String(error)).slice(0, 300),
        action: 'none: the next run tries again',
      });
    }
    const finishedAt = new Date();
    const outcome = failed ? 'failed' : findings.length ? 'differences' : 'in_sync';
    const id = await this.repository.transaction(async (tx) => {
      if (balances) await this.repository.saveBalances(tx, this.exchange.venue, balances);
      const runId = await this.repository.record(tx, {
        venue: this.exchange.venue,
        trigger,
        startedAt,
        finishedAt,
        outcome,
        findings,
      });
      await this.audit(tx, runId, AuditAction.ReconciliationCompleted, `${runId}`, finishedAt, {
        venue: this.exchange.venue,
        trigger,
        outcome,
        findings: findings.length,
        kinds: [...new Set(findings.map((f) => f.kind))],
      });
      for (const [i, f] of findings.slice(0, AUDITED_FINDINGS).entries()) {
        await this.audit(tx, runId, AuditAction.ReconciliationFinding, `${runId}:${i}`, finishedAt, {
          venue: this.exchange.venue,
          kind: f.kind,
          detail: f.detail,
          action: f.action,
          key: f.key,
          ...(f.orderId ? { orderId: f.orderId } : {}),
          ...(f.figures ?? {}),
        });
      }
      return runId;
    });
    void this.outbox.flush();
    observeReconciliation(
      finishedAt,
      Object.fromEntries(FINDING_KINDS.map((kind) => [kind, findings.filter((f) => f.kind === kind).length])),
    );
    if (findings.length)
      this.logger.warn({ runId: id, outcome, findings: findings.length }, 'reconciliation found differences');
    return { id, findings };
  }

  /** The venue's open orders against the desk's working ones. */
  private async openOrders(findings: ReconciliationFinding[]): Promise<void> {
    const atVenue = await this.exchange.fetchOpenOrders();
    const ours = await this.orders.placedWorkingOrders();
    const byClientId = new Map(atVenue.filter((v) => v.clientOrderId).map((v) => [v.clientOrderId, v]));
    const oursById = new Set(ours.map((o) => o.clientOrderId));
    for (const o of ours) {
      // Placement in doubt: the order's own steps ask the venue by its client order id (docs/adr/0023).
      if (unsettled(o.status)) continue;
      const open = byClientId.get(o.clientOrderId);
      const agrees =
        open !== undefined &&
        open.filledQuantity.eq(o.filledQuantity) &&
        (o.status === OrderStatus.Open || o.status === OrderStatus.PartiallyFilled);
      if (agrees) continue;
      // The order's own step first (the tick may simply not have got there yet): what it settles is no
      // difference. What it leaves disagreeing is one, settled by the venue's word as RECONCILED.
      const settled = await this.execution.advance(o.id).catch(() => undefined);
      if (settled !== undefined && settled !== o.status) continue;
      const changed = await this.execution.reconcileOrder(o.id);
      if (changed && changed.before !== changed.after) {
        findings.push({
          kind: 'order_status',
          key: o.id,
          orderId: o.id,
          detail: `the desk had ${changed.before}; the venue ${open ? 'has it open' : 'no longer has it open'}`,
          action: `applied the venue's state: ${changed.after}`,
        });
      }
    }
    for (const v of atVenue) {
      if (v.clientOrderId && oursById.has(v.clientOrderId)) continue;
      const orderId = v.clientOrderId
        ? await this.orders.orderIdByClientOrderId(this.exchange.venue, v.clientOrderId)
        : undefined;
      const figures = {
        venueOrderId: v.venueOrderId,
        symbol: v.symbol,
        side: v.side,
        quantity: toWire(v.quantity),
        filledQuantity: toWire(v.filledQuantity),
      };
      if (orderId) {
        // Final in the desk's book yet working at the venue: the desk holds no such order any more.
        findings.push({
          kind: 'terminal_order_open_at_venue',
          key: v.venueOrderId,
          orderId,
          detail: 'the desk recorded the order final; the venue has it open',
          action:
            'none: an operator cancels it at the venue after review (the fills it takes are reconciled)',
          figures,
        });
      } else {
        findings.push({
          kind: 'foreign_open_order',
          key: v.venueOrderId,
          detail: 'an open order on the account that the desk did not place',
          action: 'none: not the desk’s order; its fills will show as balance drift',
          figures,
        });
      }
    }
  }

  /** The venue's recent trades against the desk's fills. */
  private async trades(findings: ReconciliationFinding[], now: Date): Promise<void> {
    const since = new Date(now.getTime() - this.config.EXECUTION_RECONCILE_LOOKBACK_MS);
    const symbols = await this.repository.tradedSymbols(since);
    if (symbols.length === 0) return;
    const trades = await this.exchange.fetchTrades(symbols, since);
    const unsettledIds = new Set(
      (await this.orders.placedWorkingOrders()).filter((o) => unsettled(o.status)).map((o) => o.id),
    );
    const recorded = await this.orders.fillIdsSince(new Date(since.getTime() - 24 * 3600 * 1000));
    for (const t of trades) {
      const orderId =
        (t.clientOrderId
          ? await this.orders.orderIdByClientOrderId(this.exchange.venue, t.clientOrderId)
          : undefined) ??
        (t.venueOrderId
          ? await this.orders.orderIdByVenueOrderId(this.exchange.venue, t.venueOrderId)
          : undefined);
      const figures = {
        tradeId: t.tradeId,
        symbol: t.symbol,
        side: t.side,
        price: toWire(t.price),
        quantity: toWire(t.quantity),
      };
      if (!orderId) {
        findings.push({
          kind: 'foreign_trade',
          key: `${t.symbol}:${t.tradeId}`,
          detail: 'a trade on the account that is not from a desk order',
          action: 'none: not the desk’s; it shows in the balances',
          figures,
        });
        continue;
      }
      if (recorded.has(fillIdOf(orderId, t.tradeId))) continue;
      if (unsettledIds.has(orderId)) continue; // its own lookup records the trade
      // The order's own step first (the tick may not have got there yet): a trade it records is no difference.
      await this.execution.advance(orderId).catch(() => undefined);
      const fillId = fillIdOf(orderId, t.tradeId);
      if ((await this.orders.fillIdsSince(since)).has(fillId)) continue;
      const changed = await this.execution.reconcileOrder(orderId);
      if ((await this.orders.fillIdsSince(since)).has(fillId)) {
        findings.push({
          kind: 'missing_fill',
          key: `${t.symbol}:${t.tradeId}`,
          orderId,
          detail: 'a trade of a desk order that the desk had not recorded',
          action: `recorded the fill (order now ${changed?.after ?? 'unchanged'})`,
          figures,
        });
      } else {
        findings.push({
          kind: 'fill_on_closed_order',
          key: `${t.symbol}:${t.tradeId}`,
          orderId,
          detail: 'a trade of a desk order the desk recorded final without it',
          action: 'none: an operator reviews the order (its position differs from the venue by this trade)',
          figures,
        });
      }
    }
  }

  /** The venue's balances against the last ones plus what the desk's fills moved since. */
  private async balanceDrift(
    findings: ReconciliationFinding[],
    balances: readonly VenueBalance[],
  ): Promise<void> {
    const previous = await this.repository.balances(this.exchange.venue);
    if (previous.length === 0) return;
    // While a placement is in doubt its trades may be at the venue and not yet in the book: comparing
    // now would report them as drift. The venue's balances are still recorded (the new baseline).
    if ((await this.orders.placedWorkingOrders()).some((o) => unsettled(o.status))) return;
    const since = new Date(Math.min(...previous.map((p) => p.updatedAt.getTime())));
    const moved = await this.repository.fillMovements(since);
    const now = new Map(balances.map((b) => [b.asset, b.total]));
    const assets = new Set([...previous.map((p) => p.asset), ...now.keys()]);
    for (const asset of assets) {
      const before = previous.find((p) => p.asset === asset)?.total;
      const expected = (before ?? now.get(asset)?.minus(moved.get(asset) ?? 0))?.plus(moved.get(asset) ?? 0);
      const actual = now.get(asset);
      if (!expected || !actual || expected.eq(actual)) continue;
      findings.push({
        kind: 'balance_drift',
        key: `${asset}:${toWire(actual.minus(expected))}`,
        detail: `${asset} at the venue differs from the last balance plus the desk's fills since`,
        action: "the venue's balance is recorded",
        figures: {
          asset,
          expected: toWire(expected),
          venue: toWire(actual),
          difference: toWire(actual.minus(expected)),
        },
      });
    }
  }

  private async audit(
    tx: EntityManager,
    runId: string,
    action: AuditAction,
    key: string,
    at: Date,
    payload: AuditEvent['payload'],
  ): Promise<void> {
    await this.outbox.add(tx, JobName.AuditEvent, {
      schemaVersion: SCHEMA_VERSION,
      eventId: uuidFromHash(`${action}:${this.exchange.venue}:${key}`),
      occurredAt: at.toISOString(),
      actor: serviceActor(ServiceName.Execution),
      action,
      subject: { type: 'reconciliation', id: runId },
      payload,
      correlationId: `reconciliation-${runId}`,
    });
  }
}

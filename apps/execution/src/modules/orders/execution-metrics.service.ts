import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ORDER_STATE_MACHINE, OrderStatus, ServiceName, WORKING_ORDER_STATUSES } from '@desk/contracts';
import { LATENCY_BUCKETS, deskGauge, deskHistogram } from '@desk/platform';
import { OrdersRepository } from './orders.repository';

const orderToFill = () =>
  deskHistogram(
    'desk_execution_order_to_fill_seconds',
    'From execution recording an accepted order to its fill',
    [],
    LATENCY_BUCKETS,
  );

/** An order filled (after its transaction committed), recorded by execution at `since`. */
export function observeOrderToFill(since: Date): void {
  orderToFill().observe(Math.max(0, (Date.now() - since.getTime()) / 1000));
}

/**
 * Read from execution.orders when Prometheus scrapes: orders by status (the counts of final statuses only
 * grow, so `increase()` over them is orders by outcome, restarts included) and the age of the oldest order
 * still in each non-final status (an order stuck short of a final state).
 */
@Injectable()
export class ExecutionMetrics implements OnModuleInit {
  constructor(@Inject(OrdersRepository) private readonly orders: OrdersRepository) {}

  onModuleInit(): void {
    orderToFill();
    let last: Awaited<ReturnType<OrdersRepository['statusCounts']>> | undefined;
    let read: Promise<void> | undefined;
    // One query serves both gauges of a scrape.
    const refresh = () => {
      read ??= this.orders
        .statusCounts()
        .then((rows) => {
          last = rows;
        })
        .finally(() => {
          read = undefined;
        });
      return read;
    };
    deskGauge('desk_execution_orders', 'Orders execution holds, by status', ['status'], async (gauge) => {
      await refresh();
      for (const status of EXECUTION_STATUSES) {
        gauge.set({ status }, last?.find((r) => r.status === status)?.orders ?? 0);
      }
    });
    deskGauge(
      'desk_execution_oldest_active_order_age_seconds',
      'Age of the oldest order in each status that may still fill (0: none)',
      ['status'],
      async (gauge) => {
        await refresh();
        for (const status of WORKING_ORDER_STATUSES) {
          gauge.set({ status }, last?.find((r) => r.status === status)?.oldestActiveAgeSeconds ?? 0);
        }
      },
    );
  }
}

/** The statuses an order has while execution owns it. */
const EXECUTION_STATUSES = (Object.keys(ORDER_STATE_MACHINE) as OrderStatus[]).filter(
  (status) => ORDER_STATE_MACHINE[status].owner === ServiceName.Execution,
);

/**
 * The last reconciliation run: when it finished (epoch s) and how many differences of each kind it found
 * (every kind has a series, 0 when in sync, so an alert on it always has data).
 */
export function observeReconciliation(
  finishedAt: Date,
  findingsByKind: Readonly<Record<string, number>>,
): void {
  deskGauge(
    'desk_execution_reconciliation_last_run_timestamp_seconds',
    'When the last reconciliation with the venue finished',
    [],
  ).set(finishedAt.getTime() / 1000);
  const byKind = deskGauge(
    'desk_execution_reconciliation_findings',
    'Differences the last reconciliation with the venue found, by kind',
    ['kind'],
  );
  for (const [kind, count] of Object.entries(findingsByKind)) byKind.set({ kind }, count);
}

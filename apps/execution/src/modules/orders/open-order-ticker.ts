import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { EXECUTION_CONFIG, type ExecutionConfig } from '../../config';
import { OrderExecutionService } from './order-execution.service';
import { OrdersRepository, type ActiveOrderCursor } from './orders.repository';

/** Orders read from the database at a time; a tick reads page after page until it has seen them all. */
const PAGE = 200;

/**
 * Every EXECUTION_TICK_MS, asks the venue about each order that may still fill (resting limit orders,
 * market orders waiting for a price, orders whose placement was interrupted). Every such order is looked at
 * in every tick, risk's reduce-only closes (stop-loss, flatten) first: however many resting orders wait
 * far from the market, a close fills on the next tick that finds its price. Memory stays at one page.
 */
@Injectable()
export class OpenOrderTicker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OpenOrderTicker.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    @Inject(EXECUTION_CONFIG) private readonly config: ExecutionConfig,
    @Inject(OrdersRepository) private readonly orders: OrdersRepository,
    @Inject(OrderExecutionService) private readonly execution: OrderExecutionService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      // A slow tick is not stacked on: the next one starts after it ends.
      if (!this.running) {
        this.running = this.tick().finally(() => {
          this.running = undefined;
        });
      }
    }, this.config.EXECUTION_TICK_MS);
    this.timer.unref();
  }

  /** Stops before the database connection closes (that happens at application shutdown). */
  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async tick(): Promise<void> {
    let cursor: ActiveOrderCursor | undefined;
    do {
      let page: Awaited<ReturnType<OrdersRepository['activeOrderPage']>>;
      try {
        page = await this.orders.activeOrderPage(cursor, PAGE);
      } catch (error) {
        this.logger.warn({ err: error }, 'could not list open orders; will retry');
        return;
      }
      for (const id of page.ids) {
        try {
          await this.execution.advance(id);
        } catch (error) {
          this.logger.warn({ err: error, orderId: id }, 'could not advance order; will retry');
        }
      }
      cursor = page.next;
    } while (cursor);
  }
}

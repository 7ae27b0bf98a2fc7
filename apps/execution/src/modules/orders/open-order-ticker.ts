import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { EXECUTION_CONFIG, type ExecutionConfig } from '../../config';
import { OrderExecutionService } from './order-execution.service';
import { OrdersRepository } from './orders.repository';

/** Orders looked at per tick; the rest wait for the next tick. */
const BATCH = 200;

/**
 * Every EXECUTION_TICK_MS, asks the venue about each order that may still fill (resting limit orders,
 * market orders waiting for a price, orders whose placement was interrupted).
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
    let ids: string[];
    try {
      ids = await this.orders.activeOrderIds(BATCH);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not list open orders; will retry');
      return;
    }
    for (const id of ids) {
      try {
        await this.execution.advance(id);
      } catch (error) {
        this.logger.warn({ err: error, orderId: id }, 'could not advance order; will retry');
      }
    }
  }
}

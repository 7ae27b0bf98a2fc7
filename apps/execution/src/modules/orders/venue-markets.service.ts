import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import {
  AuditAction,
  JobName,
  SCHEMA_VERSION,
  ServiceName,
  serviceActor,
  type MarketSpec,
} from '@desk/contracts';
import { DependencyUnavailableError, Outbox, PeriodicTask, uuidFromHash } from '@desk/platform';
import { EXECUTION_CONFIG, type ExecutionConfig } from '../../config';
import { EXCHANGE_ADAPTER, type ExchangeAdapter } from '../exchange/exchange-adapter';
import { VenueMarketsRepository } from './venue-markets.repository';

/**
 * The traded venue's market catalog (symbols, tick and lot sizes, minimums): loaded from the venue at start
 * and every EXECUTION_MARKETS_REFRESH_MS, published to execution.markets for the gateway's and risk's
 * validation (a change is audited), and kept in memory for execution's own checks. While the venue cannot
 * be reached the last published catalog stands.
 */
@Injectable()
export class VenueMarkets implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(VenueMarkets.name);
  private catalog: Map<string, MarketSpec> | undefined;
  private readonly refresh: PeriodicTask;

  constructor(
    @Inject(EXECUTION_CONFIG) config: ExecutionConfig,
    @Inject(EXCHANGE_ADAPTER) private readonly exchange: ExchangeAdapter,
    @Inject(VenueMarketsRepository) private readonly repository: VenueMarketsRepository,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {
    this.refresh = new PeriodicTask(
      config.EXECUTION_MARKETS_REFRESH_MS,
      () => this.load(),
      (error) =>
        this.logger.warn({ err: error }, 'could not load the venue markets; the last catalog stands'),
    );
  }

  onApplicationBootstrap(): void {
    this.refresh.start({ runNow: true });
  }

  async onModuleDestroy(): Promise<void> {
    await this.refresh.stop();
  }

  /**
   * The market, from the venue's catalog (the published one until the venue has answered). With no
   * catalog at all (a new venue that cannot be reached yet) the caller's job is retried, never refused.
   */
  async find(symbol: string): Promise<MarketSpec | undefined> {
    if (!this.catalog) {
      const published = await this.repository.read(this.exchange.venue);
      if (published.length === 0) await this.refresh.trigger();
      else this.catalog = new Map(published.map((m) => [m.symbol, m]));
    }
    if (!this.catalog) {
      throw new DependencyUnavailableError(
        'market-catalog',
        `no market catalog of ${this.exchange.venue} yet: the venue could not be reached`,
      );
    }
    return this.catalog.get(symbol);
  }

  /** Loads the catalog from the venue and publishes it when it changed. */
  async load(): Promise<void> {
    const markets = await this.exchange.loadMarkets();
    if (markets.length === 0) throw new Error(`${this.exchange.venue} lists no spot market`);
    const published = await this.repository.read(this.exchange.venue);
    const next = new Map(markets.map((m) => [m.symbol, m]));
    if (!sameCatalog(published, markets)) {
      const at = new Date();
      await this.repository.replace(this.exchange.venue, markets, (tx) =>
        this.outbox.add(tx, JobName.AuditEvent, {
          schemaVersion: SCHEMA_VERSION,
          eventId: uuidFromHash(`${AuditAction.MarketsLoaded}:${this.exchange.venue}:${at.toISOString()}`),
          occurredAt: at.toISOString(),
          actor: serviceActor(ServiceName.Execution),
          action: AuditAction.MarketsLoaded,
          subject: { type: 'venue', id: this.exchange.venue },
          payload: { venue: this.exchange.venue, markets: markets.length, previous: published.length },
          correlationId: `markets-${this.exchange.venue}`,
        }),
      );
      void this.outbox.flush();
      this.logger.log({ venue: this.exchange.venue, markets: markets.length }, 'venue markets published');
    }
    this.catalog = next;
  }
}

function sameCatalog(a: readonly MarketSpec[], b: readonly MarketSpec[]): boolean {
  const key = (m: MarketSpec) =>
    [m.symbol, m.base, m.quote, m.tickSize, m.stepSize, m.minQuantity, m.minNotional ?? ''].join('|');
  const left = a.map(key).sort();
  const right = b.map(key).sort();
  return left.length === right.length && left.every((k, i) => k === right[i]);
}

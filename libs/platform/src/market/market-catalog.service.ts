import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { money, toWire, type MarketSpec } from '@desk/contracts';
import type { PlatformConfig } from '../config/load-config';
import { PLATFORM_CONFIG } from '../config/tokens';
import { DependencyUnavailableError } from '../errors/dependency-failure';

/** The catalog as last read: one venue's markets. */
export interface MarketCatalog {
  /** The venue whose markets these are (execution trades one venue at a time). */
  readonly venue: string;
  readonly markets: ReadonlyMap<string, MarketSpec>;
  /** When execution loaded the newest of these rows from its venue. */
  readonly loadedAt: Date;
  /** When this service read them. */
  readonly readAt: Date;
}

interface CatalogRow {
  venue: string;
  symbol: string;
  base: string;
  quote: string;
  tick_size: string;
  step_size: string;
  min_quantity: string;
  min_notional: string | null;
  price_precision: number;
  quantity_precision: number;
  loaded_at: Date;
}

const CATALOG_SQL = `
  SELECT venue, symbol, base, quote, tick_size::text, step_size::text, min_quantity::text,
         min_notional::text, price_precision, quantity_precision, loaded_at
    FROM execution.market_catalog ORDER BY symbol`;

/**
 * The markets of the venue execution trades, as execution publishes them (execution.market_catalog: the
 * paper catalog seeded by its migration, replaced by ccxt's loadMarkets() at its boot and on refresh), read
 * by the gateway and risk to validate orders (orderMarketProblems) before any venue sees them.
 *
 * Read once at boot and again every MARKET_CATALOG_REFRESH_MS; answered from memory in between.
 * - A read that fails (PostgreSQL down, view missing) keeps the last good catalog: a venue's filters rarely
 *   change, and refusing every order for a database blip would be worse.
 * - A read that finds no rows (or rows of more than one venue) means execution has no catalog of its venue
 *   (it clears the old venue's rows when it switches venue): nothing is served until it has one, since the
 *   previous catalog may be another venue's.
 * Without a catalog, `find` throws DependencyUnavailableError (the gateway answers 503 DEPENDENCY_UNAVAILABLE,
 * risk's job is retried): it never falls back to the static MARKET_CATALOG.
 */
@Injectable()
export class MarketCatalogService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(MarketCatalogService.name);
  private timer: NodeJS.Timeout | undefined;
  private catalog: MarketCatalog | undefined;
  /** Why there is no catalog to serve (set until a read finds one). */
  private missing = 'the market catalog (execution.market_catalog) has not been read yet';
  private reading: Promise<boolean> | undefined;
  private lastWarning = 0;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(PLATFORM_CONFIG) private readonly config: Pick<PlatformConfig, 'MARKET_CATALOG_REFRESH_MS'>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.config.MARKET_CATALOG_REFRESH_MS);
    this.timer.unref();
  }

  beforeApplicationShutdown(): Promise<boolean> | undefined {
    clearInterval(this.timer);
    return this.reading;
  }

  /**
   * The symbol's market on the venue, undefined when the venue's catalog has no such symbol. Throws
   * DependencyUnavailableError when there is no catalog (never read, empty, or unreadable since boot); a
   * catalog that was never read is read now.
   */
  async find(symbol: string): Promise<MarketSpec | undefined> {
    return (await this.require()).markets.get(symbol);
  }

  /** The catalog being served (read now if there is none yet); DependencyUnavailableError without one. */
  async require(): Promise<MarketCatalog> {
    if (!this.catalog) await this.refresh();
    if (!this.catalog) throw new DependencyUnavailableError('market-catalog', this.missing);
    return this.catalog;
  }

  /** The catalog being served, if any (no read). */
  current(): MarketCatalog | undefined {
    return this.catalog;
  }

  /**
   * Reads the view now (concurrent calls share one read). True when it was read (the catalog now served is
   * what it holds, possibly none); false when the read failed and the last good catalog is kept.
   */
  refresh(): Promise<boolean> {
    this.reading ??= this.read().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async read(): Promise<boolean> {
    let rows: CatalogRow[];
    try {
      rows = await this.db.query(CATALOG_SQL);
    } catch (error) {
      if (!this.catalog) this.missing = 'the market catalog (execution.market_catalog) could not be read';
      // Retried every refresh; said at most every 5 minutes while the cause lasts.
      if (Date.now() - this.lastWarning >= 300_000) {
        this.lastWarning = Date.now();
        this.logger.warn(
          { err: error, serving: this.catalog?.venue ?? null },
          'reading the market catalog failed; keeping the last one read',
        );
      }
      return false;
    }
    const venues = [...new Set(rows.map((r) => r.venue))];
    if (venues.length !== 1) {
      const missing = venues.length
        ? `the market catalog (execution.market_catalog) holds several venues (${venues.join(', ')})`
        : 'the market catalog (execution.market_catalog) is empty: execution has not published its venue';
      if (this.catalog || missing !== this.missing) {
        this.logger.warn({ venues, serving: null }, `${missing}; orders are refused until it has one`);
      }
      this.catalog = undefined;
      this.missing = missing;
      return true;
    }
    const previous = this.catalog;
    this.catalog = {
      venue: venues[0] as string,
      markets: new Map(rows.map((r) => [r.symbol, specOfRow(r)])),
      loadedAt: new Date(Math.max(...rows.map((r) => r.loaded_at.getTime()))),
      readAt: new Date(),
    };
    if (!previous || previous.venue !== this.catalog.venue || previous.markets.size !== rows.length) {
      this.logger.log(
        { venue: this.catalog.venue, markets: rows.length, loadedAt: this.catalog.loadedAt.toISOString() },
        'market catalog read',
      );
    }
    return true;
  }
}

/** numeric comes back as text ("0.01000000"): the spec holds canonical decimal strings ("0.01"). */
function specOfRow(r: CatalogRow): MarketSpec {
  return {
    symbol: r.symbol,
    base: r.base,
    quote: r.quote,
    tickSize: toWire(money(r.tick_size)),
    stepSize: toWire(money(r.step_size)),
    minQuantity: toWire(money(r.min_quantity)),
    minNotional: r.min_notional === null ? null : toWire(money(r.min_notional)),
    pricePrecision: r.price_precision,
    quantityPrecision: r.quantity_precision,
  };
}

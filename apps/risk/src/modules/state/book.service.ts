import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { money, type Money } from '@desk/contracts';
import { MarketPriceStore, type MarketPrice } from '@desk/platform';
import { RISK_CONFIG, type RiskConfig } from '../../config';
import { equityOf, type Book, type SymbolBook } from './book';
import { EquityRepository } from './equity.repository';
import { IntentsRepository, type Pending } from './intents.repository';
import { Position } from './position';
import { PositionsRepository } from './positions.repository';
import { tradingDay } from './trading-day';
import { readOnce, type BatchReads } from './batch-reads';

/** Takes the book at one moment: positions from fills, pending orders, last prices, equity, day start. */
@Injectable()
export class BookService {
  private readonly startingEquity: Money;

  constructor(
    @Inject(RISK_CONFIG) private readonly config: RiskConfig,
    @Inject(PositionsRepository) private readonly positions: PositionsRepository,
    @Inject(IntentsRepository) private readonly intents: IntentsRepository,
    @Inject(EquityRepository) private readonly equity: EquityRepository,
    @Inject(MarketPriceStore) private readonly prices: MarketPriceStore,
  ) {
    this.startingEquity = money(config.RISK_STARTING_EQUITY);
  }

  /**
   * The book now. `decision`: taken inside a decision's transaction (`tx`, holding the book lock), whose
   * reads are what that transaction sees; the pending exposure is the decision's (DecisionLedger), and the
   * positions and the day's starting equity, which no decision changes, are read once per `batch` (the same
   * `lastPrices` for all of it).
   */
  async snapshot(
    now: Date,
    lastPrices?: ReadonlyMap<string, MarketPrice>,
    decision?: {
      readonly tx: EntityManager;
      readonly batch?: BatchReads;
      readonly pending: ReadonlyMap<string, Pending>;
    },
  ): Promise<Book> {
    const tx = decision?.tx;
    const batch = decision?.batch;
    const [positions, pending, prices] = decision
      ? [
          await readOnce(batch, 'positions', () => this.positions.all(decision.tx)),
          decision.pending,
          lastPrices ?? (await this.prices.getAll()),
        ]
      : await Promise.all([this.positions.all(), this.intents.pending(), lastPrices ?? this.prices.getAll()]);
    const marks = new Map([...prices].map(([symbol, p]) => [symbol, p.price]));
    const equity = equityOf(this.startingEquity, positions, marks);
    const day = tradingDay(now, this.config.RISK_DAY_TIMEZONE);
    const dayStartEquity = await readOnce(batch, `dayStart:${day}`, () =>
      this.equity.dayStart(day, this.config.RISK_DAY_TIMEZONE, equity, tx),
    );
    const symbols = new Map<string, SymbolBook>();
    const zero = money('0');
    for (const symbol of new Set([...positions.map((p) => p.symbol), ...pending.keys()])) {
      const position = positions.find((p) => p.symbol === symbol);
      symbols.set(symbol, {
        position: position ?? Position.flat(symbol),
        pendingBuy: pending.get(symbol)?.buy ?? zero,
        pendingSell: pending.get(symbol)?.sell ?? zero,
        mark: marks.get(symbol),
      });
    }
    return { symbols, equity, dayStartEquity };
  }
}

import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { RiskLeadership } from '../leadership/risk-leadership.service';
import { TradingStateRepository, type TradingStateRecord } from './trading-state.repository';

/**
 * The risk book's lock (docs/adr/0015): every transaction that decides or changes what the limits measure
 * (an intent's decision, a fill, a closing order, the trading state, the limits, live venues) takes it
 * first. It is the row lock on risk.trading_state, so those writes take turns and each one evaluates what
 * the previous ones committed; then the fence: only the instance holding the writer lock may go on.
 * Taken first in every such transaction (one lock order, no deadlock).
 */
@Injectable()
export class BookLockService {
  constructor(
    @Inject(TradingStateRepository) private readonly tradingState: TradingStateRepository,
    @Inject(RiskLeadership) private readonly leadership: RiskLeadership,
  ) {}

  /** Locks the book until the transaction ends and returns the trading state it holds. */
  async hold(tx: EntityManager): Promise<TradingStateRecord> {
    const state = await this.tradingState.lock(tx);
    await this.leadership.assertLeader(tx);
    return state;
  }
}

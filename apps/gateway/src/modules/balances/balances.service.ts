import { Inject, Injectable } from '@nestjs/common';
import { money, toWire } from '@desk/contracts';
import { parseInput } from '../../http/zod-input';
import { BalanceQueryRepository } from './balance-query.repository';
import { listBalancesQuerySchema, type BalanceView } from './balances.dto';

@Injectable()
export class BalancesService {
  constructor(@Inject(BalanceQueryRepository) private readonly balances: BalanceQueryRepository) {}

  async list(query: unknown): Promise<{ items: BalanceView[] }> {
    const rows = await this.balances.list(parseInput(listBalancesQuerySchema, query, '(query)'));
    return {
      items: rows.map((r) => ({
        venue: r.venue,
        asset: r.asset,
        // numeric comes back as text ("0.50000000"): the canonical decimal string ("0.5").
        free: toWire(money(r.free)),
        used: toWire(money(r.used)),
        total: toWire(money(r.total)),
        updatedAt: r.updated_at.toISOString(),
      })),
    };
  }
}

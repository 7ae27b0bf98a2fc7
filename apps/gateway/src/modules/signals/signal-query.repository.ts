import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { money, toWire } from '@desk/contracts';
import { AppError } from '@desk/platform';
import { decodeCursor, encodeCursor, type Page } from '../../http/cursor';
import type { ListSignalsQuery, SignalView } from './signals.dto';

interface SignalRow {
  id: string;
  run_id: string;
  agent: string;
  symbol: string;
  direction: string;
  conviction: string | null;
  rationale: string;
  price: string;
  created_at: Date;
  created_at_text: string;
  blended_conviction: string | null;
  intent_id: string | null;
  outcome: string | null;
}

/** Reads agent-analysis's signals and decisions (agent-analysis owns and writes them). */
@Injectable()
export class SignalQueryRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async list(query: ListSignalsQuery): Promise<Page<SignalView>> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.symbol) {
      params.push(query.symbol);
      where.push(`s.symbol = $${params.length}`);
    }
    if (query.agent) {
      params.push(query.agent);
      where.push(`s.agent = $${params.length}`);
    }
    if (query.cursor) {
      const [at, id] = decodeCursor(query.cursor, 2) as [string, string];
      if (Number.isNaN(Date.parse(at)) || !/^[0-9a-f-]{36}$/.test(id)) {
        throw AppError.validation([{ field: 'cursor', reason: 'is not a cursor returned by this API' }]);
      }
      params.push(at, id);
      where.push(`(s.created_at, s.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(query.limit + 1);
    const rows: SignalRow[] = await this.db.query(
      `SELECT s.id, s.run_id, s.agent, s.symbol, s.direction, s.conviction::text, s.rationale, s.price::text, s.created_at,
              to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at_text,
              d.blended_conviction::text, d.intent_id, d.outcome
         FROM agents.signals_v s
         LEFT JOIN agents.decisions_v d ON d.run_id = s.run_id AND d.symbol = s.symbol
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY s.created_at DESC, s.id DESC LIMIT $${params.length}`,
      params,
    );
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => ({
        id: r.id,
        runId: r.run_id,
        agent: r.agent,
        symbol: r.symbol,
        direction: r.direction,
        conviction: r.conviction === null ? null : toWire(money(r.conviction)),
        abstained: r.direction === 'abstain',
        rationale: r.rationale,
        price: toWire(money(r.price)),
        createdAt: r.created_at.toISOString(),
        decision: {
          blendedConviction: r.blended_conviction === null ? null : toWire(money(r.blended_conviction)),
          outcome: r.outcome,
          intentId: r.intent_id,
        },
      })),
      nextCursor: rows.length > query.limit && last ? encodeCursor([last.created_at_text, last.id]) : null,
    };
  }
}

import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { TradingState, type Actor, type OrdersCancelAll } from '@desk/contracts';

export interface TradingStateRecord {
  readonly state: TradingState;
  readonly reason: string;
  readonly setBy: Actor;
  /** What set it: 'kill', 'resume', 'breaker.drawdown', 'breaker.error_rate', 'breaker.volatility', 'initial'. */
  readonly source: string;
  readonly setAt: Date;
  /** Bumped by every change: a resume names the version (the halt) its approval lifts. */
  readonly version: string;
}

interface Row {
  state: TradingState;
  reason: string;
  set_by_type: Actor['type'];
  set_by_id: string;
  set_by_key_id: string | null;
  source: string;
  set_at: Date;
  version: string;
}

const COLUMNS = 'state, reason, set_by_type, set_by_id, set_by_key_id, source, set_at, version::text';

/** risk.trading_state: the single row every service reads before it lets an order through. */
@Injectable()
export class TradingStateRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async get(tx?: EntityManager): Promise<TradingStateRecord> {
    const rows: Row[] = await (tx ?? this.db).query(`SELECT ${COLUMNS} FROM risk.trading_state WHERE id = 1`);
    return toRecord(rows[0]);
  }

  /** The row, locked until the transaction ends: state changes take turns. */
  async lock(tx: EntityManager): Promise<TradingStateRecord> {
    const rows: Row[] = await tx.query(`SELECT ${COLUMNS} FROM risk.trading_state WHERE id = 1 FOR UPDATE`);
    return toRecord(rows[0]);
  }

  async set(tx: EntityManager, record: Omit<TradingStateRecord, 'version'>): Promise<void> {
    await tx.query(
      `UPDATE risk.trading_state
          SET state = $1, reason = $2, set_by_type = $3, set_by_id = $4, set_by_key_id = $5, source = $6, set_at = $7,
              version = version + 1
        WHERE id = 1`,
      [
        record.state,
        record.reason,
        record.setBy.type,
        record.setBy.id,
        record.setBy.keyId ?? null,
        record.source,
        record.setAt,
      ],
    );
  }

  /**
   * The cancel-all risk asks of execution on a halt (risk.cancel_all_requests, read by execution through
   * risk.cancel_all_sources, docs/adr/0010), in the transaction that adds its outbox row.
   */
  async recordCancelAll(tx: EntityManager, c: OrdersCancelAll & { source: string }): Promise<void> {
    await tx.query(
      `INSERT INTO risk.cancel_all_requests
         (command_id, actor_type, actor_id, actor_key_id, reason_code, reason, source, correlation_id, requested_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (command_id) DO NOTHING`,
      [
        c.commandId,
        c.actor.type,
        c.actor.id,
        c.actor.keyId ?? null,
        c.reasonCode,
        c.reason,
        c.source,
        c.correlationId,
        c.requestedAt,
      ],
    );
  }
}

function toRecord(row: Row | undefined): TradingStateRecord {
  if (!row) throw new Error('risk.trading_state has no row: run the risk migrations');
  return {
    state: row.state,
    reason: row.reason,
    setBy: {
      type: row.set_by_type,
      id: row.set_by_id,
      ...(row.set_by_key_id ? { keyId: row.set_by_key_id } : {}),
    },
    source: row.source,
    setAt: row.set_at,
    version: row.version,
  };
}

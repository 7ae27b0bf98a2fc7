import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { toWire, type Money, type OrderParams } from '@desk/contracts';
import { uuidFromHash } from '@desk/platform';
import type { Signal } from './agent';
import type { Outcome } from './blend';

export interface DecisionRecord {
  runId: string;
  symbol: string;
  blend: Money | null;
  intentId: string | null;
  outcome: Outcome;
  /** The order an intent carries (risk checks the intent against it: agents.intent_sources). */
  order: OrderParams | null;
}

/** Signals and decisions of agent runs (schema `agents`), in raw SQL; the gateway reads the same tables. */
@Injectable()
export class AgentsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /**
   * Claims a scheduler slot for a run: 'claimed' for a new slot at least `everyMs` after the latest one,
   * 'redelivered' when this very job claimed it before, otherwise the latest slot it conflicts with. Claims
   * are serialised (a transaction-scoped advisory lock), so two runs can never both pass the check.
   */
  async claimRunSlot(
    slot: number,
    jobId: string,
    everyMs: number,
  ): Promise<'claimed' | 'redelivered' | { latest: string; jobId: string }> {
    return this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('agents.run_slots'))`);
      const [same]: { job_id: string }[] = await tx.query(
        `SELECT job_id FROM agents.run_slots WHERE slot = $1`,
        [slot],
      );
      if (same?.job_id === jobId) return 'redelivered';
      const [near]: { slot: string; job_id: string }[] = await tx.query(
        `SELECT slot::text, job_id FROM agents.run_slots WHERE slot > $1::bigint - $2::bigint
          ORDER BY slot DESC LIMIT 1`,
        [slot, everyMs],
      );
      if (near) return { latest: near.slot, jobId: near.job_id };
      await tx.query(`INSERT INTO agents.run_slots (slot, job_id) VALUES ($1, $2)`, [slot, jobId]);
      return 'claimed';
    });
  }

  /** Symbols that had an intent within the last `cooldownMs`. */
  async symbolsInCooldown(tx: EntityManager, cooldownMs: number): Promise<Set<string>> {
    const rows: { symbol: string }[] = await tx.query(
      `SELECT DISTINCT symbol FROM agents.decisions
        WHERE outcome = 'intent' AND created_at > now() - $1 * interval '1 millisecond'`,
      [cooldownMs],
    );
    return new Set(rows.map((r) => r.symbol));
  }

  /** Returns false when this run already decided on this symbol (a redelivered run job). */
  async insertDecision(tx: EntityManager, d: DecisionRecord): Promise<boolean> {
    const rows: unknown[] = await tx.query(
      `INSERT INTO agents.decisions (run_id, symbol, blended_conviction, intent_id, outcome, side, type, quantity, price)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (run_id, symbol) DO NOTHING
       RETURNING run_id`,
      [
        d.runId,
        d.symbol,
        d.blend ? toWire(d.blend) : null,
        d.intentId,
        d.outcome,
        d.order?.side ?? null,
        d.order?.type ?? null,
        d.order?.quantity ?? null,
        d.order?.price ?? null,
      ],
    );
    return rows.length > 0;
  }

  async insertSignals(
    tx: EntityManager,
    runId: string,
    symbol: string,
    price: Money,
    signals: readonly Signal[],
  ): Promise<void> {
    for (const s of signals) {
      await tx.query(
        `INSERT INTO agents.signals (id, run_id, agent, symbol, direction, conviction, rationale, price)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (id) DO NOTHING`,
        [
          uuidFromHash(`signal:${runId}:${symbol}:${s.agent}`),
          runId,
          s.agent,
          symbol,
          s.direction,
          s.conviction ? toWire(s.conviction) : null,
          s.rationale,
          toWire(price),
        ],
      );
    }
  }
}

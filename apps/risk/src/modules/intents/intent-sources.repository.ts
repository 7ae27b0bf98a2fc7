import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { type Actor, type ApprovalRow, type OrderParams, type RecordedOrder } from '@desk/contracts';
import { actorOfRow, orderOfRow, readApproval } from '@desk/platform';

type SourceView = 'gateway.intent_sources' | 'agents.intent_sources';

/**
 * The order options each source records: the gateway its operators' time in force and post-only; the agents
 * emit neither (their intents are market or GTC limit orders), so an agent intent carrying one matches
 * nothing recorded and is refused.
 */
const ORDER_OPTIONS: Readonly<Record<SourceView, string>> = {
  'gateway.intent_sources': 'time_in_force, post_only',
  'agents.intent_sources': 'NULL::text AS time_in_force, false AS post_only',
};

/**
 * What the services that produce intents recorded, read-only through the views they declare for risk
 * (docs/adr/0010): the gateway's operator submissions (gateway.intent_sources), the agents' intents
 * (agents.intent_sources) and the approvals that still count (gateway.approval_validity).
 */
@Injectable()
export class IntentSourcesRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * The orders operators submitted through the gateway under these intent ids, and who submitted each
   * (one read for all of them), by intent id; an id the gateway never recorded is absent.
   */
  operatorSubmissions(intentIds: readonly string[]): Promise<Map<string, RecordedOrder>> {
    return this.read('gateway.intent_sources', intentIds);
  }

  /** The orders the agents emitted under these intent ids, by intent id. */
  agentIntents(intentIds: readonly string[]): Promise<Map<string, RecordedOrder>> {
    return this.read('agents.intent_sources', intentIds);
  }

  approval(approvalId: string): Promise<ApprovalRow | undefined> {
    return readApproval(this.db.manager, approvalId);
  }

  private async read(view: SourceView, intentIds: readonly string[]): Promise<Map<string, RecordedOrder>> {
    const found = new Map<string, RecordedOrder>();
    if (intentIds.length === 0) return found;
    const rows: {
      intent_id: string;
      actor_type: Actor['type'];
      actor_id: string;
      actor_key_id: string | null;
      symbol: string;
      side: OrderParams['side'] | null;
      type: OrderParams['type'] | null;
      quantity: string | null;
      price: string | null;
      time_in_force: string | null;
      post_only: boolean;
    }[] = await this.db.query(
      `SELECT intent_id::text, actor_type, actor_id, actor_key_id, symbol, side, type, quantity::text,
              price::text, ${ORDER_OPTIONS[view]}
         FROM ${view} WHERE intent_id = ANY($1)`,
      [intentIds],
    );
    for (const r of rows) {
      // A row without its order (an agent decision recorded before orders were kept) proves nothing.
      if (r.side === null || r.type === null || r.quantity === null) continue;
      found.set(r.intent_id.toLowerCase(), {
        actor: actorOfRow(r),
        order: orderOfRow({ ...r, side: r.side, type: r.type, quantity: r.quantity }),
      });
    }
    return found;
  }
}

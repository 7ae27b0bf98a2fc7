import type { Client } from 'pg';

/** An order as the services record it (decimal strings; price only for limit orders). */
export interface RecordedOrderParams {
  symbol: string;
  side: string;
  type: string;
  quantity: string;
  price?: string;
  timeInForce?: string;
  postOnly?: boolean;
}

export interface RecordedActor {
  type: 'operator' | 'service';
  id: string;
  keyId?: string;
}

/**
 * Risk's decision on an intent as risk records it (risk.intents, read by execution through
 * risk.order_decisions), written directly as the superuser: for execution tests that send `order.accepted`
 * jobs without running risk. Recording the same intent twice keeps the first.
 */
export async function recordRiskDecision(
  pg: Client,
  d: {
    intentId: string;
    actor: RecordedActor;
    order: RecordedOrderParams;
    status?: 'ACCEPTED' | 'REJECTED' | 'PENDING_APPROVAL';
    source?: string;
    reduceOnly?: boolean;
    approvalId?: string;
  },
): Promise<void> {
  await pg.query(
    `INSERT INTO risk.intents
       (id, source, actor_type, actor_id, actor_key_id, symbol, side, type, quantity, price, status,
        correlation_id, submitted_at, reduce_only, approval_id, time_in_force, post_only)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'test', now(), $12, $13, $14, $15)
     ON CONFLICT (id) DO NOTHING`,
    [
      d.intentId,
      d.source ?? (d.reduceOnly ? 'risk' : 'operator'),
      d.actor.type,
      d.actor.id,
      d.actor.keyId ?? null,
      d.order.symbol,
      d.order.side,
      d.order.type,
      d.order.quantity,
      d.order.price ?? null,
      d.status ?? 'ACCEPTED',
      d.reduceOnly ?? false,
      d.approvalId ?? null,
      d.order.timeInForce ?? null,
      d.order.postOnly ?? false,
    ],
  );
}

/**
 * An operator's order as the gateway records it when it answers 202 (gateway.submissions, read by risk
 * through gateway.intent_sources), written directly as the superuser: for risk tests that send
 * `intent.submitted` jobs without running a gateway.
 */
export async function recordSubmission(
  pg: Client,
  s: { intentId: string; actor: RecordedActor; order: RecordedOrderParams },
): Promise<void> {
  await pg.query(
    `INSERT INTO gateway.submissions
       (id, actor_id, actor_key_id, idempotency_key, symbol, side, type, quantity, price, correlation_id,
        submitted_at, time_in_force, post_only)
     VALUES ($1, $2, $3, $9, $4, $5, $6, $7, $8, 'test', now(), $10, $11)
     ON CONFLICT (id) DO NOTHING`,
    [
      s.intentId,
      s.actor.id,
      s.actor.keyId ?? null,
      s.order.symbol,
      s.order.side,
      s.order.type,
      s.order.quantity,
      s.order.price ?? null,
      `test-${s.intentId}`,
      s.order.timeInForce ?? null,
      s.order.postOnly ?? false,
    ],
  );
}

/**
 * An intent as the agents record it (agents.decisions, read by risk through agents.intent_sources), written
 * directly as the superuser. Recording the same intent twice keeps the first.
 */
export async function recordAgentIntent(
  pg: Client,
  a: { intentId: string; order: RecordedOrderParams },
): Promise<void> {
  await pg.query(
    `INSERT INTO agents.decisions
       (run_id, symbol, blended_conviction, intent_id, outcome, side, type, quantity, price)
     VALUES (gen_random_uuid(), $2, 0.9, $1, 'intent', $3, $4, $5, $6)
     ON CONFLICT (intent_id) WHERE intent_id IS NOT NULL DO NOTHING`,
    [a.intentId, a.order.symbol, a.order.side, a.order.type, a.order.quantity, a.order.price ?? null],
  );
}

/**
 * What execution records when it reports on an order (execution.orders, order_events and fills, read by risk
 * through execution.order_status_history and execution.order_fills), written directly as the superuser: for
 * risk tests that send `execution.reported` jobs without running execution. Recording twice keeps the first.
 */
export async function recordExecutionReport(
  pg: Client,
  r: {
    intentId: string;
    symbol: string;
    side: string;
    status: string;
    fill?: { fillId: string; price: string; quantity: string; fee: string; feeCurrency: string };
  },
): Promise<void> {
  await pg.query(
    `INSERT INTO execution.orders (id, venue, symbol, side, type, quantity, status, correlation_id, client_order_id)
     VALUES ($1::uuid, 'paper', $2, $3, 'market', $4, $5, 'test', replace($1::text, '-', ''))
     ON CONFLICT (id) DO NOTHING`,
    [r.intentId, r.symbol, r.side, r.fill?.quantity ?? '1', r.status],
  );
  // One history event per status, or per fill (each partial fill is a PARTIALLY_FILLED event of its own).
  await pg.query(
    `INSERT INTO execution.order_events (order_id, status, event_key) VALUES ($1, $2, $3)
     ON CONFLICT (order_id, event_key) DO NOTHING`,
    [r.intentId, r.status, r.fill ? `FILL:${r.fill.fillId}` : r.status],
  );
  if (r.fill) {
    await pg.query(
      `INSERT INTO execution.fills (id, order_id, symbol, side, price, quantity, fee, fee_currency, at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
       ON CONFLICT (id) DO NOTHING`,
      [
        r.fill.fillId,
        r.intentId,
        r.symbol,
        r.side,
        r.fill.price,
        r.fill.quantity,
        r.fill.fee,
        r.fill.feeCurrency,
      ],
    );
  }
}

/**
 * A control command as the gateway records it when it issues one (gateway.control_requests, read by risk
 * through gateway.control_sources), written directly as the superuser: for risk tests that send
 * `control.command` jobs without running a gateway. Recording the same command twice keeps the first.
 */
export async function recordControlRequest(
  pg: Client,
  c: {
    commandId: string;
    command: string;
    actor: RecordedActor;
    reason: string;
    correlationId?: string;
    flatten?: boolean;
    limits?: Record<string, string>;
    venue?: string;
    approvalId?: string;
    stateVersion?: string;
    limitsVersion?: string;
  },
): Promise<void> {
  await pg.query(
    `INSERT INTO gateway.control_requests
       (command_id, command, reason, flatten, limits, venue, approval_id, actor_type, actor_id, actor_key_id,
        correlation_id, state_version, limits_version)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT (command_id) DO NOTHING`,
    [
      c.commandId,
      c.command,
      c.reason,
      c.flatten ?? false,
      c.limits ? JSON.stringify(c.limits) : null,
      c.venue ?? null,
      c.approvalId ?? null,
      c.actor.type,
      c.actor.id,
      c.actor.keyId ?? null,
      c.correlationId ?? 'test',
      c.stateVersion ?? null,
      c.limitsVersion ?? null,
    ],
  );
}

/**
 * A cancel-all as risk records it when it halts the desk (risk.cancel_all_requests, read by execution
 * through risk.cancel_all_sources), written directly as the superuser: for execution tests that send
 * `orders.cancel_all` jobs without running risk. Recording the same command twice keeps the first.
 */
export async function recordCancelAll(
  pg: Client,
  c: {
    commandId: string;
    actor: RecordedActor;
    reasonCode: string;
    reason: string;
    requestedAt: string;
    correlationId?: string;
  },
): Promise<void> {
  await pg.query(
    `INSERT INTO risk.cancel_all_requests
       (command_id, actor_type, actor_id, actor_key_id, reason_code, reason, source, correlation_id, requested_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'kill', $7, $8)
     ON CONFLICT (command_id) DO NOTHING`,
    [
      c.commandId,
      c.actor.type,
      c.actor.id,
      c.actor.keyId ?? null,
      c.reasonCode,
      c.reason,
      c.correlationId ?? 'test',
      c.requestedAt,
    ],
  );
}

import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SERVICE_DATABASE_ROLES, viewReadersSql } from '@desk/platform';

/**
 * risk.approval_holds: every intent risk held for the two-man rule (it went through PENDING_APPROVAL), with
 * the actor and the parameters it held, the figures it showed approvers and its current decision. A
 * declared read-only view for the gateway, which opens an approval request for an order only if risk holds
 * exactly that order from exactly that actor (docs/adr/0016). The gateway's role gets SELECT on this view
 * only. Keep its name and columns: they are risk's contract with the gateway.
 */
export class CreateApprovalHoldsView1732408200000 implements MigrationInterface {
  name = 'CreateApprovalHoldsView1732408200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE VIEW risk.approval_holds AS
        SELECT i.id AS intent_id, i.status AS decision, i.actor_type, i.actor_id, i.actor_key_id,
               i.symbol, i.side, i.type, i.quantity, i.price, i.notional, i.reference_price
          FROM risk.intents i
         WHERE EXISTS (SELECT 1 FROM risk.intent_events e
                        WHERE e.intent_id = i.id AND e.status = 'PENDING_APPROVAL')`);
    for (const sql of viewReadersSql('risk', 'approval_holds', [SERVICE_DATABASE_ROLES.gateway]))
      await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW risk.approval_holds`);
  }
}

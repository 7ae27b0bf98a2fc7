import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateApprovalTables1732406900000 implements MigrationInterface {
  name = 'CreateApprovalTables1732406900000';

  async up(q: QueryRunner): Promise<void> {
    // A critical action held for the two-man rule: the exact action, its hash, who asked, how many must agree.
    await q.query(`
      CREATE TABLE gateway.approval_requests (
        id                  uuid PRIMARY KEY,
        kind                text NOT NULL,
        subject_id          text NOT NULL,
        action              text NOT NULL,
        action_hash         text NOT NULL CHECK (action_hash ~ '^[0-9a-f]{64}$'),
        context             text NOT NULL,
        requester_type      text NOT NULL,
        requester_id        text NOT NULL,
        requester_key_id    text,
        required_approvals  integer NOT NULL CHECK (required_approvals >= 1),
        status              text NOT NULL CHECK (status IN ('pending', 'denied', 'expired', 'executed', 'refused')),
        status_reason       text,
        correlation_id      text NOT NULL,
        created_at          timestamptz NOT NULL DEFAULT now(),
        expires_at          timestamptz NOT NULL,
        decided_at          timestamptz,
        executed_at         timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX approval_requests_subject_idx ON gateway.approval_requests (kind, subject_id)
                     WHERE status IN ('pending', 'executed')`);
    await q.query(
      `CREATE INDEX approval_requests_status_idx ON gateway.approval_requests (status, created_at)`,
    );
    // One decision per operator per request: a second approval by the same person (any key) counts once.
    await q.query(`
      CREATE TABLE gateway.approval_decisions (
        request_id  uuid NOT NULL REFERENCES gateway.approval_requests (id),
        operator_id uuid NOT NULL REFERENCES gateway.operators (id),
        key_id      text NOT NULL REFERENCES gateway.api_keys (id),
        decision    text NOT NULL CHECK (decision IN ('approve', 'deny')),
        reason      text,
        decided_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (request_id, operator_id)
      )`);
    // Approvals that still count: by an approver whose key and operator are still active. Execution reads
    // this view to check a critical order itself, never trusting a job's claim.
    await q.query(`
      CREATE VIEW gateway.approval_validity AS
      SELECT r.id, r.kind, r.subject_id, r.action_hash, r.status, r.required_approvals, r.expires_at, r.executed_at,
             (SELECT count(*) FROM gateway.approval_decisions d
                JOIN gateway.api_keys k ON k.id = d.key_id
                JOIN gateway.operators o ON o.id = d.operator_id
               WHERE d.request_id = r.id AND d.decision = 'approve'
                 AND k.status = 'active' AND (k.expires_at IS NULL OR k.expires_at > now())
                 AND o.status = 'active' AND 'approver' = ANY (k.roles)
                 AND d.operator_id::text <> r.requester_id)::int AS valid_approvals
        FROM gateway.approval_requests r`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW gateway.approval_validity`);
    await q.query(`DROP TABLE gateway.approval_decisions`);
    await q.query(`DROP TABLE gateway.approval_requests`);
  }
}

import { JobName } from '@desk/contracts';

/**
 * How a producer knows its consumer recorded a job (docs/runbook.md, "Nothing accepted is lost"): for each
 * state-changing job, an SQL condition over the producer's outbox row `o` (its `job_id` and `payload`) that
 * holds once the consumer has recorded the job, read through a view the consumer declares for its producers.
 * A job published and not received after REDRIVE_AFTER_MS is sent again by the outbox's re-drive sweep.
 *
 * Every job the outbox carries is here, or in NO_RECEIPT with the reason it needs none.
 */
export const OUTBOX_RECEIPTS: Readonly<Partial<Record<JobName, string>>> = {
  // Gateway and agents → risk: risk recorded the intent (decided or refused).
  [JobName.IntentSubmitted]: `SELECT 1 FROM risk.intent_receipts r WHERE r.id = o.job_id::uuid`,
  // Gateway → risk: the held order left PENDING_APPROVAL.
  [JobName.IntentApproved]: `SELECT 1 FROM risk.intent_receipts r
     WHERE r.id = (o.payload->>'intentId')::uuid AND r.status <> 'PENDING_APPROVAL'`,
  [JobName.IntentNotApproved]: `SELECT 1 FROM risk.intent_receipts r
     WHERE r.id = (o.payload->>'intentId')::uuid AND r.status <> 'PENDING_APPROVAL'`,
  // Gateway → risk: risk recorded the control command (applied or refused).
  [JobName.ControlCommand]: `SELECT 1 FROM risk.control_outcomes r WHERE r.command_id = o.job_id::uuid`,
  // Risk → execution: execution recorded the order.
  [JobName.OrderAccepted]: `SELECT 1 FROM execution.order_status_history r WHERE r.intent_id = o.job_id::uuid`,
  // Risk → execution: execution ran the cancel-all.
  [JobName.OrdersCancelAll]: `SELECT 1 FROM execution.cancel_all_receipts r
     WHERE r.command_id = (o.payload->>'commandId')::uuid`,
  // Gateway → execution: execution ran the operator's cancel.
  [JobName.OrderCancelRequested]: `SELECT 1 FROM execution.cancel_request_receipts r
     WHERE r.request_id = (o.payload->>'requestId')::uuid`,
  // Execution → risk: risk applied the report (the job id is the report's id).
  [JobName.ExecutionReported]: `SELECT 1 FROM risk.execution_report_receipts r WHERE r.id = o.job_id`,
  // Risk → gateway: the gateway opened the approval request for the held order.
  [JobName.ApprovalRequested]: `SELECT 1 FROM gateway.approval_validity r
     WHERE r.kind = 'order' AND r.subject_id = o.job_id`,
  // Risk and execution → gateway: the projection recorded the transition.
  [JobName.OrderUpdated]: `SELECT 1 FROM gateway.order_event_receipts r
     WHERE r.order_id = (o.payload->>'intentId')::uuid AND r.owner = o.payload->>'owner'
       AND r.seq = (o.payload->>'seq')::bigint`,
  // Every service → audit: the event is in the log.
  [JobName.AuditEvent]: `SELECT 1 FROM audit.event_receipts r WHERE r.event_id = o.job_id::uuid`,
};

/** Jobs the outbox carries that are not re-driven, and why. */
export const NO_RECEIPT: Readonly<Partial<Record<JobName, string>>> = {
  [JobName.ApprovalNotify]:
    'a courtesy webhook: the approval request itself is durable and listed by GET /v1/approvals',
  [JobName.AgentRun]: 'a scheduler tick, never written to an outbox; the next tick runs again',
  [JobName.AuditEventBatch]:
    'packed by the relay from outbox rows (job-batches.ts), never written to an outbox: each event is re-driven alone',
  [JobName.OrderUpdateBatch]:
    'packed by the relay from outbox rows (job-batches.ts), never written to an outbox: each update is re-driven alone',
};

/** Job names in re-drive priority: a kill (and the cancel-all it causes) before any order. */
export const REDRIVE_FIRST: readonly JobName[] = [JobName.ControlCommand, JobName.OrdersCancelAll];

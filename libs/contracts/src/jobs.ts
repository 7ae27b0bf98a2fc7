import { z } from 'zod';
import { unsignedDecimalString } from './money';
import { IntentSource, OrderSide, OrderStatus, orderParamsSchema } from './orders';
import { JobName, ServiceName } from './queues';
import { venueIdSchema } from './venues';

/** Bump when a payload changes shape; consumers refuse versions they do not know. */
export const SCHEMA_VERSION = 1 as const;

const id = z.uuid();
const isoTime = z.iso.datetime({ offset: false });
/** A version counter (PostgreSQL bigint) as a decimal string. */
export const versionString = z.string().regex(/^[0-9]{1,19}$/, 'must be a version number');

export const actorSchema = z
  .object({
    type: z.enum(['operator', 'service']),
    id: z.string().min(1).max(100),
    keyId: z.string().min(1).max(100).optional(),
  })
  .strict();
export type Actor = z.infer<typeof actorSchema>;

export function serviceActor(service: ServiceName): Actor {
  return { type: 'service', id: service };
}

const envelope = {
  schemaVersion: z.literal(SCHEMA_VERSION),
  correlationId: z.string().min(1).max(100),
};

export const intentSubmittedSchema = z
  .object({
    ...envelope,
    intentId: id,
    source: z.enum(IntentSource),
    actor: actorSchema,
    order: orderParamsSchema,
    submittedAt: isoTime,
  })
  .strict();

export const orderAcceptedSchema = z
  .object({
    ...envelope,
    intentId: id,
    actor: actorSchema,
    order: orderParamsSchema,
    acceptedAt: isoTime,
    /** Set for a critical order; execution checks the approval record itself, never this claim alone. */
    approvalId: id.optional(),
    /**
     * Risk's own closing orders (kill with flatten, stop-loss): they may only reduce a position. Execution
     * checks that against its own position and refuses (REDUCE_ONLY) an order that would not.
     */
    reduceOnly: z.boolean().optional(),
  })
  .strict();

/** Risk asks execution to cancel every open order: the kill switch, or a breaker that halts the desk. */
export const ordersCancelAllSchema = z
  .object({
    ...envelope,
    /** The kill command (or breaker trip) that asked; the job id is `${commandId}.cancel_all`. */
    commandId: id,
    actor: actorSchema,
    /** Shown on every cancelled order: TRADING_HALTED. */
    reasonCode: z.string().min(1).max(64),
    reason: z.string().min(1).max(500),
    requestedAt: isoTime,
  })
  .strict();

export const fillSchema = z
  .object({
    fillId: z.string().min(1).max(100),
    price: unsignedDecimalString,
    quantity: unsignedDecimalString,
    fee: unsignedDecimalString,
    feeCurrency: z.string().min(1).max(10),
  })
  .strict();

export const executionReportedSchema = z
  .object({
    ...envelope,
    intentId: id,
    symbol: z.string().min(1).max(21),
    side: z.enum(OrderSide),
    status: z.enum([
      OrderStatus.Submitted,
      OrderStatus.Placing,
      OrderStatus.Open,
      OrderStatus.PartiallyFilled,
      OrderStatus.Filled,
      OrderStatus.Cancelled,
      OrderStatus.Expired,
      OrderStatus.VenueRejected,
      OrderStatus.Unknown,
    ]),
    /** The fill this transition records (PARTIALLY_FILLED, FILLED; a reconciled fill may come with others). */
    fill: fillSchema.optional(),
    /** Why an order ended or went UNKNOWN (TRADING_HALTED, REDUCE_ONLY, APPROVAL_INVALID, VENUE_ERROR, …). */
    reasonCode: z.string().min(1).max(64).optional(),
    detail: z.string().min(1).max(500).optional(),
    at: isoTime,
  })
  .strict();

/** An operator's cancel: one order, or every working order of a symbol (trader role, at the gateway). */
export const orderCancelRequestedSchema = z
  .object({
    ...envelope,
    /** The gateway's record of the request (gateway.cancel_request_sources); the job id is `${requestId}.cancel`. */
    requestId: id,
    actor: actorSchema,
    target: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('order'), intentId: id }).strict(),
      z.object({ kind: z.literal('symbol'), symbol: z.string().min(1).max(21) }).strict(),
    ]),
    requestedAt: isoTime,
  })
  .strict();

/** JSON-safe payload: nothing but plain data (money as decimal strings). Never a secret. */
const jsonValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);

/** Risk found an order critical: the gateway holds it for the two-man rule. */
export const approvalRequestedSchema = z
  .object({
    ...envelope,
    intentId: id,
    /** Who proposed the order (the requester: may not approve it). */
    actor: actorSchema,
    order: orderParamsSchema,
    reasonCode: z.string().min(1).max(64),
    /** The numbers an approver needs: notional, threshold, reference price … (decimal strings). */
    context: z.record(z.string(), jsonValue),
    requestedAt: isoTime,
  })
  .strict();

/** An approved critical order goes back through risk (limits may have changed) before execution. */
export const intentApprovedSchema = z
  .object({
    ...envelope,
    intentId: id,
    approvalId: id,
    actor: actorSchema,
    order: orderParamsSchema,
    approvedAt: isoTime,
  })
  .strict();

/** How a held order's approval ended without release; each maps to the order's reason code. */
export enum ApprovalOutcome {
  Denied = 'denied',
  Expired = 'expired',
  /** Quorum reached but the release was refused (the action no longer matched its hash). */
  Refused = 'refused',
}

/**
 * A held order will never be approved: risk, which owns the order's state until execution takes it,
 * moves it from PENDING_APPROVAL to REJECTED. Risk checks the gateway's approval record says the same.
 */
export const intentNotApprovedSchema = z
  .object({
    ...envelope,
    intentId: id,
    approvalId: id,
    outcome: z.enum(ApprovalOutcome),
    reason: z.string().min(1).max(500),
    at: isoTime,
  })
  .strict();

export enum ControlCommandKind {
  Kill = 'kill',
  Resume = 'resume',
  SetLimits = 'limits.set',
  /** After two approvers: the venue may trade real money. */
  EnableLiveVenue = 'venue.live.enable',
  /** Never gated: the venue stops trading real money at once. */
  DisableLiveVenue = 'venue.live.disable',
}

/**
 * Commands from people to risk: kill and switching a venue off live (never gated); resume, limit raises and
 * enabling a live venue (after approval).
 */
export const controlCommandSchema = z
  .object({
    ...envelope,
    commandId: id,
    command: z.enum(ControlCommandKind),
    actor: actorSchema,
    reason: z.string().min(1).max(500),
    issuedAt: isoTime,
    /** kill: also close positions with reduce-only orders. */
    flatten: z.boolean().optional(),
    /** limits.set: the new values, by limit name, as decimal strings. */
    limits: z.record(z.string().max(64), unsignedDecimalString).optional(),
    /** venue.live.enable / venue.live.disable: the venue. */
    venue: venueIdSchema.optional(),
    /** resume, raising limits and enabling a live venue: the approval that released this command. */
    approvalId: id.optional(),
    /** resume: the trading state's version it lifts (the halt named by its approval). */
    stateVersion: versionString.optional(),
    /** limits.set after approval: the limits' version the approval was asked against. */
    limitsVersion: versionString.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const venueCommand =
      c.command === ControlCommandKind.EnableLiveVenue || c.command === ControlCommandKind.DisableLiveVenue;
    if (venueCommand !== (c.venue !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['venue'],
        message: venueCommand ? 'is required for a venue command' : 'is only for venue commands',
      });
    }
  });

export const auditEventSchema = z
  .object({
    ...envelope,
    eventId: id,
    occurredAt: isoTime,
    actor: actorSchema,
    action: z.string().regex(/^[a-z][a-z0-9_.-]{1,99}$/, 'must be a dotted lower-case action name'),
    subject: z.object({ type: z.string().min(1).max(50), id: z.string().min(1).max(200) }).strict(),
    payload: z.record(z.string(), jsonValue),
  })
  .strict();

/** Tell people an approval request waits (outbound webhook); retried, never blocking the request. */
export const approvalNotifySchema = z
  .object({
    ...envelope,
    approvalId: id,
    kind: z.string().min(1).max(50),
    summary: z.string().min(1).max(500),
    requiredApprovals: z.number().int().min(1).max(10),
    expiresAt: isoTime,
  })
  .strict();

/**
 * One transition of an order, published by its owner in the transaction that records it: risk from intent
 * to decision (RECEIVED is the gateway's own), execution from placement to fill. The gateway keeps one
 * projection of every order from these (docs/architecture.md, "Order state machine"). Updates of one order
 * may arrive out of order: `seq` is the owner's event id, and a status never moves back in the state machine.
 */
export const orderUpdatedSchema = z
  .object({
    ...envelope,
    intentId: id,
    owner: z.enum([ServiceName.Risk, ServiceName.Execution]),
    /** The owner's event id (risk.intent_events.id, execution.order_events.id). */
    seq: versionString,
    status: z.enum(OrderStatus),
    reasonCode: z.string().min(1).max(64).optional(),
    detail: z.string().min(1).max(500).optional(),
    at: isoTime,
    order: orderParamsSchema,
    /** Risk's updates: where the intent came from, and when it was submitted. */
    source: z.enum(IntentSource).optional(),
    submittedAt: isoTime.optional(),
    /** Execution's FILLED (and later partial fills): the fill. */
    fill: fillSchema.extend({ at: isoTime }).strict().optional(),
  })
  .strict();

/** Most jobs one batch carries (the outbox relay reads 200 rows a round). */
export const MAX_JOB_BATCH = 100;

/**
 * Jobs of one kind that a producer's outbox relay publishes together as one job (docs/adr/0024): fewer jobs
 * per order on the fan-in queues (audit, order updates). `batchId` is derived from the member jobs' ids, so
 * the same batch published twice is one job; a consumer treats every member as if it had come alone, and
 * members are idempotent, so a member published again in another batch (or alone, by the re-drive sweep)
 * changes nothing.
 */
function batchOf<T extends z.ZodType>(item: T) {
  return z.object({ ...envelope, batchId: id, jobs: z.array(item).min(1).max(MAX_JOB_BATCH) }).strict();
}

export const auditEventBatchSchema = batchOf(auditEventSchema);
export const orderUpdateBatchSchema = batchOf(orderUpdatedSchema);

/** One run of the agents, fired by agent-analysis's BullMQ job scheduler. */
export const agentRunSchema = z.object({ ...envelope }).strict();

export const JOB_SCHEMAS = {
  [JobName.IntentSubmitted]: intentSubmittedSchema,
  [JobName.OrderAccepted]: orderAcceptedSchema,
  [JobName.OrdersCancelAll]: ordersCancelAllSchema,
  [JobName.ExecutionReported]: executionReportedSchema,
  [JobName.ApprovalRequested]: approvalRequestedSchema,
  [JobName.IntentApproved]: intentApprovedSchema,
  [JobName.IntentNotApproved]: intentNotApprovedSchema,
  [JobName.ControlCommand]: controlCommandSchema,
  [JobName.AuditEvent]: auditEventSchema,
  [JobName.AuditEventBatch]: auditEventBatchSchema,
  [JobName.AgentRun]: agentRunSchema,
  [JobName.ApprovalNotify]: approvalNotifySchema,
  [JobName.OrderUpdated]: orderUpdatedSchema,
  [JobName.OrderUpdateBatch]: orderUpdateBatchSchema,
  [JobName.OrderCancelRequested]: orderCancelRequestedSchema,
} as const satisfies Record<JobName, z.ZodType>;

export type JobData<N extends JobName> = z.infer<(typeof JOB_SCHEMAS)[N]>;
export type IntentSubmitted = JobData<JobName.IntentSubmitted>;
export type OrderAccepted = JobData<JobName.OrderAccepted>;
export type OrdersCancelAll = JobData<JobName.OrdersCancelAll>;
export type ExecutionReported = JobData<JobName.ExecutionReported>;
export type ApprovalRequested = JobData<JobName.ApprovalRequested>;
export type IntentApproved = JobData<JobName.IntentApproved>;
export type IntentNotApproved = JobData<JobName.IntentNotApproved>;
export type ControlCommand = JobData<JobName.ControlCommand>;
export type AuditEvent = JobData<JobName.AuditEvent>;
export type AgentRun = JobData<JobName.AgentRun>;
export type ApprovalNotify = JobData<JobName.ApprovalNotify>;
export type OrderUpdated = JobData<JobName.OrderUpdated>;
export type OrderCancelRequested = JobData<JobName.OrderCancelRequested>;

/** The job that carries a batch of each batchable job, and back (docs/adr/0024). */
export type BatchableJob = JobName.AuditEvent | JobName.OrderUpdated;
export const BATCHED_AS: Readonly<Record<BatchableJob, JobName.AuditEventBatch | JobName.OrderUpdateBatch>> =
  {
    [JobName.AuditEvent]: JobName.AuditEventBatch,
    [JobName.OrderUpdated]: JobName.OrderUpdateBatch,
  };

/**
 * The BullMQ job id of each job. The intent id is the job id on every hop, so adding the same job twice
 * is a no-op; reports of one order are told apart by their status (and fill id).
 */
export function jobIdOf<N extends JobName>(name: N, data: JobData<N>): string {
  switch (name) {
    case JobName.IntentSubmitted:
    case JobName.OrderAccepted:
    case JobName.ApprovalRequested:
      return (data as IntentSubmitted).intentId;
    case JobName.ExecutionReported: {
      const r = data as ExecutionReported;
      return r.fill ? `${r.intentId}.${r.status}.${r.fill.fillId}` : `${r.intentId}.${r.status}`;
    }
    case JobName.IntentApproved:
      return `${(data as IntentApproved).intentId}.approved`;
    case JobName.IntentNotApproved:
      return `${(data as IntentNotApproved).intentId}.not_approved`;
    case JobName.OrdersCancelAll:
      return `${(data as OrdersCancelAll).commandId}.cancel_all`;
    case JobName.ControlCommand:
      return (data as ControlCommand).commandId;
    case JobName.AuditEvent:
      return (data as AuditEvent).eventId;
    case JobName.AuditEventBatch:
    case JobName.OrderUpdateBatch:
      return `${(data as JobData<JobName.AuditEventBatch>).batchId}.batch`;
    case JobName.ApprovalNotify:
      return `${(data as ApprovalNotify).approvalId}.notify`;
    case JobName.AgentRun:
      return data.correlationId;
    case JobName.OrderUpdated: {
      const u = data as OrderUpdated;
      return `${u.intentId}.${u.owner}.${u.seq}`;
    }
    case JobName.OrderCancelRequested:
      return `${(data as OrderCancelRequested).requestId}.cancel`;
    default: {
      const unreachable: never = name;
      throw new Error(`unknown job ${String(unreachable)}`);
    }
  }
}

/** Human-readable summary of a schema failure: "order.quantity: must be a decimal string; …". */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ');
}

/**
 * Queue and job names. NEVER rename a value: jobs already waiting in Redis under the old name would be
 * stranded. Add a new name and migrate instead.
 */
export enum QueueName {
  Intents = 'intents',
  Orders = 'orders',
  Executions = 'executions',
  Approvals = 'approvals',
  Control = 'control',
  /**
   * Retired (docs/adr/0016): every service now writes its own audit queue below. Still consumed by audit
   * until the events left in it at deploy time are drained; no service produces to it.
   */
  Audit = 'audit',
  AgentSchedule = 'agent-schedule',
  Notifications = 'notifications',
  OrderUpdates = 'order-updates',
  /** An operator's cancels (one order, or every working order of a symbol): gateway → execution. */
  OrderCancels = 'order-cancels',
  /** Each service's own audit queue: its Redis user alone may write it, so the queue names the producer. */
  AuditGateway = 'audit.gateway',
  AuditAgentAnalysis = 'audit.agent-analysis',
  AuditRisk = 'audit.risk',
  AuditExecution = 'audit.execution',
  AuditAudit = 'audit.audit',
}

export enum JobName {
  IntentSubmitted = 'intent.submitted',
  IntentApproved = 'intent.approved',
  /** The gateway tells risk a held order will never be approved (denied, expired or refused). */
  IntentNotApproved = 'intent.not_approved',
  OrderAccepted = 'order.accepted',
  /** Risk asks execution to cancel every open order (kill switch, or a breaker halting the desk). */
  OrdersCancelAll = 'orders.cancel_all',
  ExecutionReported = 'execution.reported',
  ApprovalRequested = 'approval.requested',
  ControlCommand = 'control.command',
  AuditEvent = 'audit.event',
  /**
   * Audit events one producer's outbox relay published together, as one job (docs/adr/0024): each event is
   * checked and stored as if it came alone; the outbox still holds (and re-drives) each event on its own.
   */
  AuditEventBatch = 'audit.event_batch',
  AgentRun = 'agent.run',
  ApprovalNotify = 'approval.notify',
  /** A transition of an order, published by the service that owns that part of its life (risk, execution). */
  OrderUpdated = 'order.updated',
  /** Order transitions one owner's outbox relay published together, as one job (as AuditEventBatch). */
  OrderUpdateBatch = 'order.update_batch',
  /** An operator asks execution to cancel one order or every working order of a symbol. */
  OrderCancelRequested = 'order.cancel_requested',
}

export enum ServiceName {
  Gateway = 'gateway',
  AgentAnalysis = 'agent-analysis',
  Risk = 'risk',
  Execution = 'execution',
  /**
   * Retired (docs/adr/0016): every service now writes its own audit queue below. Still consumed by audit
   * until the events left in it at deploy time are drained; no service produces to it.
   */
  Audit = 'audit',
}

export interface QueueRoute {
  readonly queue: QueueName;
  readonly jobs: readonly JobName[];
  readonly producers: readonly ServiceName[];
  readonly consumers: readonly ServiceName[];
  /** Declared for a feature still to come: no consumer processes it yet. */
  readonly planned?: string;
  /** No longer produced to: consumed until what is left in it is drained, then removable. */
  readonly retired?: string;
}

/** The audit queue each service writes (docs/adr/0016): the queue, not the event, says who sent it. */
export const AUDIT_QUEUES = {
  [ServiceName.Gateway]: QueueName.AuditGateway,
  [ServiceName.AgentAnalysis]: QueueName.AuditAgentAnalysis,
  [ServiceName.Risk]: QueueName.AuditRisk,
  [ServiceName.Execution]: QueueName.AuditExecution,
  [ServiceName.Audit]: QueueName.AuditAudit,
} as const satisfies Record<ServiceName, QueueName>;

const auditRoute = (service: ServiceName): QueueRoute => ({
  queue: AUDIT_QUEUES[service],
  jobs: [JobName.AuditEvent, JobName.AuditEventBatch],
  producers: [service],
  consumers: [ServiceName.Audit],
});

/** The queue topology. docs/architecture.md shows the same table; a test keeps the two equal. */
export const QUEUE_TOPOLOGY: readonly QueueRoute[] = [
  {
    queue: QueueName.Intents,
    jobs: [JobName.IntentSubmitted, JobName.IntentApproved, JobName.IntentNotApproved],
    producers: [ServiceName.Gateway, ServiceName.AgentAnalysis],
    consumers: [ServiceName.Risk],
  },
  {
    queue: QueueName.Orders,
    jobs: [JobName.OrderAccepted, JobName.OrdersCancelAll],
    producers: [ServiceName.Risk],
    consumers: [ServiceName.Execution],
  },
  {
    queue: QueueName.Executions,
    jobs: [JobName.ExecutionReported],
    producers: [ServiceName.Execution],
    consumers: [ServiceName.Risk],
  },
  {
    queue: QueueName.Approvals,
    jobs: [JobName.ApprovalRequested],
    producers: [ServiceName.Risk],
    consumers: [ServiceName.Gateway],
  },
  {
    queue: QueueName.Control,
    jobs: [JobName.ControlCommand],
    producers: [ServiceName.Gateway],
    consumers: [ServiceName.Risk],
  },
  {
    queue: QueueName.Audit,
    jobs: [JobName.AuditEvent],
    producers: [],
    consumers: [ServiceName.Audit],
    retired: 'drained, then removed (docs/adr/0016)',
  },
  {
    queue: QueueName.AgentSchedule,
    jobs: [JobName.AgentRun],
    producers: [ServiceName.AgentAnalysis],
    consumers: [ServiceName.AgentAnalysis],
  },
  {
    queue: QueueName.Notifications,
    jobs: [JobName.ApprovalNotify],
    producers: [ServiceName.Gateway],
    consumers: [ServiceName.Gateway],
  },
  {
    queue: QueueName.OrderUpdates,
    jobs: [JobName.OrderUpdated, JobName.OrderUpdateBatch],
    producers: [ServiceName.Risk, ServiceName.Execution],
    consumers: [ServiceName.Gateway],
  },
  {
    queue: QueueName.OrderCancels,
    jobs: [JobName.OrderCancelRequested],
    producers: [ServiceName.Gateway],
    consumers: [ServiceName.Execution],
  },
  auditRoute(ServiceName.Gateway),
  auditRoute(ServiceName.AgentAnalysis),
  auditRoute(ServiceName.Risk),
  auditRoute(ServiceName.Execution),
  auditRoute(ServiceName.Audit),
];

/** The queue `producer` adds `job` to (audit events: the producer's own audit queue). */
export function queueOf(job: JobName, producer: ServiceName): QueueName {
  const route = QUEUE_TOPOLOGY.find(
    (r) => !r.retired && r.jobs.includes(job) && r.producers.includes(producer),
  );
  if (!route) throw new Error(`${producer} produces no ${job} job in QUEUE_TOPOLOGY`);
  return route.queue;
}

/** The queues a service produces to or consumes from: all it registers, and all its Redis user may touch. */
export function queuesOf(service: ServiceName): QueueName[] {
  return QUEUE_TOPOLOGY.filter((r) => r.producers.includes(service) || r.consumers.includes(service)).map(
    (r) => r.queue,
  );
}

/** The service whose audit queue this is; undefined for any other queue (the retired shared one too). */
export function producerOfAuditQueue(queue: string): ServiceName | undefined {
  return (Object.entries(AUDIT_QUEUES) as [ServiceName, QueueName][]).find(
    ([, q]) => String(q) === queue,
  )?.[0];
}

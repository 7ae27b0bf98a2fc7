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
  Audit = 'audit',
  AgentSchedule = 'agent-schedule',
  Notifications = 'notifications',
  OrderUpdates = 'order-updates',
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
  AgentRun = 'agent.run',
  ApprovalNotify = 'approval.notify',
  /** A transition of an order, published by the service that owns that part of its life (risk, execution). */
  OrderUpdated = 'order.updated',
}

export enum ServiceName {
  Gateway = 'gateway',
  AgentAnalysis = 'agent-analysis',
  Risk = 'risk',
  Execution = 'execution',
  Audit = 'audit',
}

export interface QueueRoute {
  readonly queue: QueueName;
  readonly jobs: readonly JobName[];
  readonly producers: readonly ServiceName[];
  readonly consumers: readonly ServiceName[];
  /** Declared for a feature still to come: no consumer processes it yet. */
  readonly planned?: string;
}

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
    producers: [
      ServiceName.Gateway,
      ServiceName.AgentAnalysis,
      ServiceName.Risk,
      ServiceName.Execution,
      ServiceName.Audit,
    ],
    consumers: [ServiceName.Audit],
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
    jobs: [JobName.OrderUpdated],
    producers: [ServiceName.Risk, ServiceName.Execution],
    consumers: [ServiceName.Gateway],
  },
];

export function queueOf(job: JobName): QueueName {
  const route = QUEUE_TOPOLOGY.find((r) => r.jobs.includes(job));
  if (!route) throw new Error(`job ${job} has no queue in QUEUE_TOPOLOGY`);
  return route.queue;
}

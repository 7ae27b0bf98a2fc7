import { Processor } from '@nestjs/bullmq';
import { QueueName } from '@desk/contracts';
import { AuditEventProcessor } from './audit-event.processor';

/*
 * One processor per audit queue (docs/adr/0016): each service's own queue, and the retired shared queue,
 * consumed until the events left in it at deploy time are drained (they name no producer and are appended
 * as before).
 */

@Processor(QueueName.AuditGateway)
export class GatewayAuditProcessor extends AuditEventProcessor {}

@Processor(QueueName.AuditAgentAnalysis)
export class AgentAnalysisAuditProcessor extends AuditEventProcessor {}

@Processor(QueueName.AuditRisk)
export class RiskAuditProcessor extends AuditEventProcessor {}

@Processor(QueueName.AuditExecution)
export class ExecutionAuditProcessor extends AuditEventProcessor {}

@Processor(QueueName.AuditAudit)
export class AuditAuditProcessor extends AuditEventProcessor {}

@Processor(QueueName.Audit)
export class RetiredAuditProcessor extends AuditEventProcessor {}

export const AUDIT_QUEUE_PROCESSORS = [
  GatewayAuditProcessor,
  AgentAnalysisAuditProcessor,
  RiskAuditProcessor,
  ExecutionAuditProcessor,
  AuditAuditProcessor,
  RetiredAuditProcessor,
];

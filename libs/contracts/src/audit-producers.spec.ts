import { describe, expect, it } from '@jest/globals';
import { AuditAction } from './audit-actions';
import { auditActorProblem } from './audit-producers';
import {
  AUDIT_QUEUES,
  JobName,
  QueueName,
  ServiceName,
  producerOfAuditQueue,
  queueOf,
  queuesOf,
} from './queues';

describe('who an audit queue vouches for', () => {
  const service = (id: string) => ({ type: 'service' as const, id });
  const operator = { type: 'operator' as const, id: 'op-alice', keyId: 'kid_1' };

  it('each service writes its own audit queue, and only that queue names it', () => {
    for (const s of Object.values(ServiceName)) {
      expect(queueOf(JobName.AuditEvent, s)).toBe(AUDIT_QUEUES[s]);
      expect(producerOfAuditQueue(AUDIT_QUEUES[s])).toBe(s);
      const others: QueueName[] = Object.values(AUDIT_QUEUES).filter((q) => q !== AUDIT_QUEUES[s]);
      if (s !== ServiceName.Audit) expect(queuesOf(s).filter((q) => others.includes(q))).toEqual([]);
    }
    expect(producerOfAuditQueue(QueueName.Audit)).toBeUndefined();
    expect(producerOfAuditQueue(QueueName.Intents)).toBeUndefined();
  });

  it('a service names itself; another service only on its behalf where declared', () => {
    expect(
      auditActorProblem(ServiceName.Risk, { actor: service('risk'), action: 'order.accepted' }),
    ).toBeUndefined();
    expect(
      auditActorProblem(ServiceName.Risk, {
        actor: service('agent-analysis'),
        action: AuditAction.OrderReceived,
      }),
    ).toBeUndefined();
    expect(
      auditActorProblem(ServiceName.Risk, {
        actor: service('agent-analysis'),
        action: AuditAction.OrderFilled,
      }),
    ).toMatch(/claims the actor service agent-analysis/);
    expect(
      auditActorProblem(ServiceName.Execution, { actor: service('risk'), action: 'order.accepted' }),
    ).toMatch(/claims the actor service risk/);
  });

  it("the gateway's console (its CLI) is the gateway; no other service may name it", () => {
    expect(
      auditActorProblem(ServiceName.Gateway, { actor: service('gateway-console'), action: 'key.created' }),
    ).toBeUndefined();
    expect(
      auditActorProblem(ServiceName.Risk, { actor: service('gateway-console'), action: 'key.created' }),
    ).toMatch(/claims the actor service gateway-console/);
  });

  it('only the gateway and risk name operators', () => {
    expect(
      auditActorProblem(ServiceName.Gateway, { actor: operator, action: 'key.created' }),
    ).toBeUndefined();
    expect(
      auditActorProblem(ServiceName.Risk, { actor: operator, action: 'order.received' }),
    ).toBeUndefined();
    for (const s of [ServiceName.Execution, ServiceName.AgentAnalysis, ServiceName.Audit]) {
      expect(auditActorProblem(s, { actor: operator, action: 'approval.approved' })).toMatch(
        /records no operator/,
      );
    }
  });
});

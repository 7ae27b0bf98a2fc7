import { AuditAction } from './audit-actions';
import type { AuditEvent } from './jobs';
import { ServiceName } from './queues';

/**
 * Which actors a service's audit events may name (docs/adr/0016). The audit queue an event arrives on names
 * the service that sent it (only that service's Redis user may write it); the event's actor is a claim:
 * - a service names itself;
 * - only the gateway (which authenticates operators) and risk (which records operators' intents and
 *   control commands after checking them against the gateway's records, docs/adr/0010) name operators;
 * - a service names another service only where it records that service's request on its behalf: risk's
 *   `order.received` and the gateway's `approval.requested` for an agent's order;
 * - the gateway also names its console (`gateway-console`: the CLI run on the gateway's host with the
 *   gateway's credentials, which bootstraps the first admin and issues keys there).
 */
const OPERATOR_RECORDERS: readonly ServiceName[] = [ServiceName.Gateway, ServiceName.Risk];

/** Actors that are part of a service (run with its credentials), besides the service itself. */
export const SERVICE_CONSOLES: Readonly<Partial<Record<ServiceName, readonly string[]>>> = {
  [ServiceName.Gateway]: ['gateway-console'],
};

const ON_BEHALF: readonly { producer: ServiceName; action: AuditAction; actor: ServiceName }[] = [
  { producer: ServiceName.Risk, action: AuditAction.OrderReceived, actor: ServiceName.AgentAnalysis },
  { producer: ServiceName.Gateway, action: AuditAction.ApprovalRequested, actor: ServiceName.AgentAnalysis },
];

/** Why `producer` may not have recorded this event in this actor's name; undefined when it may. */
export function auditActorProblem(
  producer: ServiceName,
  event: Pick<AuditEvent, 'actor' | 'action'>,
): string | undefined {
  const { actor, action } = event;
  if (actor.type === 'operator') {
    return OPERATOR_RECORDERS.includes(producer)
      ? undefined
      : `${producer} records no operator's actions, yet the event names operator ${actor.id}`;
  }
  // Actor ids and actions arrive as plain strings: compared as strings.
  const claimed: string = actor.id;
  const named: string = action;
  if (claimed === String(producer) || SERVICE_CONSOLES[producer]?.includes(claimed)) return undefined;
  if (
    ON_BEHALF.some(
      (r) => r.producer === producer && String(r.action) === named && String(r.actor) === claimed,
    )
  )
    return undefined;
  return `an event from ${producer}'s audit queue claims the actor service ${actor.id} (action ${action})`;
}

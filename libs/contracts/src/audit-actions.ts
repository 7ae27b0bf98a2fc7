/** Audit action names. Never rename a value: stored records refer to them. */
export enum AuditAction {
  OrderReceived = 'order.received',
  OrderAccepted = 'order.accepted',
  OrderRejected = 'order.rejected',
  OrderSubmitted = 'order.submitted',
  OrderOpen = 'order.open',
  OrderFilled = 'order.filled',
  OrderCancelled = 'order.cancelled',
  PositionUpdated = 'position.updated',
  SignalEmitted = 'signal.emitted',
  IntentEmitted = 'agent.intent_emitted',
  JobRejected = 'job.rejected',
}

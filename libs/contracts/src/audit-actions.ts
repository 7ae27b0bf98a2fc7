/** Audit action names. Never rename a value: stored records refer to them. */
export enum AuditAction {
  OrderReceived = 'order.received',
  OrderAccepted = 'order.accepted',
  OrderRejected = 'order.rejected',
  OrderSubmitted = 'order.submitted',
  OrderOpen = 'order.open',
  OrderFilled = 'order.filled',
  /** Execution committed that it is placing the order (the venue call follows). */
  OrderPlacing = 'order.placing',
  OrderPartiallyFilled = 'order.partially_filled',
  OrderExpired = 'order.expired',
  OrderVenueRejected = 'order.venue_rejected',
  /** An operator asked to cancel an order or every working order of a symbol (gateway). */
  OrderCancelRequested = 'order.cancel_requested',
  /** Reconciliation with a venue ran; its findings are in the payload. */
  ReconciliationCompleted = 'venue.reconciled',
  /** One difference reconciliation found between the desk's book and the venue, and what it did. */
  ReconciliationFinding = 'venue.reconciliation_finding',
  /** The venue's market catalog was loaded and differs from the one in use. */
  MarketsLoaded = 'venue.markets_loaded',
  OrderCancelled = 'order.cancelled',
  PositionUpdated = 'position.updated',
  SignalEmitted = 'signal.emitted',
  IntentEmitted = 'agent.intent_emitted',
  JobRejected = 'job.rejected',
  OperatorCreated = 'operator.created',
  OperatorDisabled = 'operator.disabled',
  KeyCreated = 'key.created',
  KeyRevoked = 'key.revoked',
  KeyRotated = 'key.rotated',
  /** The desk's setup phase (first admin and first approvers, no two-man rule yet) ended, for good. */
  SetupClosed = 'desk.setup_closed',
  AuthFailed = 'auth.failed',
  AccessDenied = 'access.denied',
  RequestThrottled = 'request.throttled',
  ApprovalRequested = 'approval.requested',
  ApprovalApproved = 'approval.approved',
  ApprovalDenied = 'approval.denied',
  ApprovalExpired = 'approval.expired',
  ApprovalExecuted = 'approval.executed',
  ApprovalRefused = 'approval.refused',
  ControlIssued = 'control.issued',
  OrderPendingApproval = 'order.pending_approval',
  /** Execution would not place an order (no valid approval, trading halted, not reduce-only): CANCELLED. */
  OrderRefused = 'order.refused',
  /** The venue failed to take an order; its fate is UNKNOWN until reconciled. */
  OrderUnknown = 'order.unknown',
  TradingStateChanged = 'trading.state_changed',
  RiskLimitsChanged = 'risk.limits_changed',
  /** Risk refused a control command (unknown limit, raise or resume without approval). */
  ControlRefused = 'control.refused',
  /** A breaker reached 80 % of its threshold. */
  BreakerWarning = 'risk.breaker_warning',
  StopLossTriggered = 'risk.stop_loss_triggered',
  /** Two approvers enabled live trading (real money) on a venue. */
  VenueLiveEnabled = 'venue.live_enabled',
  /** Live trading on a venue was switched off (never gated: stopping is never gated). */
  VenueLiveDisabled = 'venue.live_disabled',
  /**
   * A well-formed job whose claims do not match what the service that owns them recorded (an order risk
   * never accepted, other parameters, an actor the gateway did not record, an approval that does not
   * release it): refused, terminal, nothing done (docs/adr/0010).
   */
  JobForged = 'job.forged',
}

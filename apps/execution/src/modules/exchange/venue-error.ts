import type { RiskReasonCode } from '@desk/contracts';

/**
 * What a failed venue call means for the order (docs/adr/0023):
 * - `rejected`: the venue refused it and holds nothing: final, with a reason code;
 * - `not-taken`: the venue surely did not act (rate limit, maintenance, our request refused before it was
 *   processed): try again after a backoff — after looking the order up, like any retry;
 * - `unknown`: the venue may have acted (timeout, connection lost, a 5xx after sending): the order's fate is
 *   UNKNOWN until the venue is asked by its client order id.
 */
export type VenueErrorKind = 'rejected' | 'not-taken' | 'unknown';

export class VenueError extends Error {
  constructor(
    readonly kind: VenueErrorKind,
    message: string,
    /** For `rejected`: why, as the desk's reason code. */
    readonly reasonCode?: RiskReasonCode,
    /** For `not-taken`: how long the venue asked us to wait, when it said. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'VenueError';
  }
}

/** The client order id sent to a venue: the intent id without its dashes (32 hex characters), a form every
 * venue the desk knows accepts (Binance ≤ 36 of [.A-Z:/a-z0-9_-], OKX ≤ 32 alphanumerics, Bybit ≤ 36, …). */
export function clientOrderIdFor(intentId: string): string {
  return intentId.replace(/-/g, '').toLowerCase();
}

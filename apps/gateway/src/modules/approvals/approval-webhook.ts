import { createHmac } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { ApprovalNotify } from '@desk/contracts';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';

/** Signature an endpoint checks: HMAC-SHA256 over `${timestamp}.${body}` with the shared secret. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * Tells people an approval request waits. A failed delivery throws, so BullMQ retries it with backoff; the
 * request itself never waits for it.
 */
@Injectable()
export class ApprovalWebhook {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  async deliver(n: ApprovalNotify): Promise<void> {
    if (!this.config.APPROVAL_WEBHOOK_URL) return;
    const body = JSON.stringify({
      type: 'approval.requested',
      approvalId: n.approvalId,
      kind: n.kind,
      summary: n.summary,
      requiredApprovals: n.requiredApprovals,
      expiresAt: n.expiresAt,
    });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const res = await fetch(this.config.APPROVAL_WEBHOOK_URL, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-desk-timestamp': timestamp,
        'x-desk-signature': signWebhook(this.config.APPROVAL_WEBHOOK_SECRET, timestamp, body),
      },
      body,
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new Error(`approval webhook answered ${res.status}`);
  }
}

import { createHmac } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { ApprovalNotify } from '@desk/contracts';
import { SECRETS, UnverifiedJobError, type Secrets } from '@desk/platform';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';
import { ApprovalsService } from './approvals.service';

/** Signature an endpoint checks: HMAC-SHA256 over `${timestamp}.${body}` with the shared secret. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * Tells people an approval request waits. A failed delivery throws, so BullMQ retries it with backoff; the
 * request itself never waits for it. It says only what the gateway's own approval record says: a job for
 * an approval the gateway never recorded, or whose kind, summary, quorum or expiry differ from the record,
 * is refused (UnverifiedJobError, docs/adr/0016) and nothing is sent.
 */
@Injectable()
export class ApprovalWebhook {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(ApprovalsService) private readonly approvals: ApprovalsService,
    @Inject(SECRETS) private readonly secrets: Secrets,
  ) {}

  async deliver(n: ApprovalNotify): Promise<void> {
    if (!this.config.APPROVAL_WEBHOOK_URL) return;
    const recorded = await this.approvals.notification(n.approvalId);
    if (!recorded) throw new UnverifiedJobError(`the gateway recorded no approval ${n.approvalId}`);
    const differences = (['kind', 'summary', 'requiredApprovals', 'expiresAt'] as const)
      .filter((field) => recorded[field] !== n[field])
      .map((field) => `${field}: ${JSON.stringify(n[field])} ≠ recorded ${JSON.stringify(recorded[field])}`);
    if (differences.length) {
      throw new UnverifiedJobError(
        `notification of approval ${n.approvalId} differs from its record: ${differences.join('; ')}`,
      );
    }
    const body = JSON.stringify({ type: 'approval.requested', ...recorded });
    const timestamp = String(Math.floor(Date.now() / 1000));
    // The secret as it is now: rotated in Vault, it signs the next delivery (within VAULT_CACHE_TTL_MS).
    const secret =
      (await this.secrets.current('APPROVAL_WEBHOOK_SECRET')) ?? this.config.APPROVAL_WEBHOOK_SECRET;
    const res = await fetch(this.config.APPROVAL_WEBHOOK_URL, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-desk-timestamp': timestamp,
        'x-desk-signature': signWebhook(secret, timestamp, body),
      },
      body,
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new Error(`approval webhook answered ${res.status}`);
  }
}

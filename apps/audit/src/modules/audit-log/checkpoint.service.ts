import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { parsePublicKey, signCheckpoint, type Checkpoint } from '@desk/audit-chain';
import { AUDIT_CONFIG, type AuditConfig } from '../../config';
import { AuditLogRepository } from './audit-log.repository';

/**
 * Every AUDIT_CHECKPOINT_INTERVAL_MS, if the chain grew, verifies the records added since the last
 * checkpoint and signs the new head (`${seq}:${hash}`, Ed25519). A verifier holding the public key can
 * then tell a cut tail or a rewritten history from the real one. A broken chain is never signed.
 */
@Injectable()
export class CheckpointService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(CheckpointService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<Checkpoint | undefined> | undefined;

  constructor(
    @Inject(AuditLogRepository) private readonly repository: AuditLogRepository,
    @Inject(AUDIT_CONFIG) private readonly config: AuditConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.AUDIT_CHECKPOINT_INTERVAL_MS);
    this.timer.unref();
  }

  beforeApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Signs the head if it moved; concurrent calls share one run. Returns the new checkpoint, if any. */
  checkpoint(): Promise<Checkpoint | undefined> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async tick(): Promise<void> {
    try {
      await this.checkpoint();
    } catch (error) {
      this.logger.warn({ err: error }, 'checkpoint failed; retrying at the next interval');
    }
  }

  private async run(): Promise<Checkpoint | undefined> {
    const head = await this.repository.chainHead();
    const last = await this.repository.latestCheckpoint();
    const from = BigInt(last?.seq ?? '0') + 1n;
    if (BigInt(head.seq) < from) return undefined;
    const check = await this.repository.verify({
      from: from.toString(),
      to: head.seq,
      trustedKeys: [parsePublicKey(this.config.signingKey)],
    });
    if (!check.ok) {
      this.logger.error(
        { firstBadSeq: check.firstBadSeq, kind: check.kind, reason: check.reason },
        'audit chain verification failed: the head is not signed',
      );
      return undefined;
    }
    const stored = await this.repository.insertCheckpoint(signCheckpoint(check.head, this.config.signingKey));
    if (stored) this.logger.log({ seq: stored.seq, keyId: stored.keyId }, 'audit checkpoint signed');
    return stored;
  }
}

import { randomUUID } from 'node:crypto';
import { recordVerification } from './audit-verification-metrics';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { parseAnchor, VerifyTimeoutError, type ChainHead } from '@desk/audit-chain';
import type { Actor } from '@desk/contracts';
import { AppError, ErrorCode } from '@desk/platform';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';
import { parseInput } from '../../http/zod-input';
import { UUID_RE } from '../../http/uuid';
import { AuditQueryRepository } from './audit-query.repository';
import { startVerificationSchema, type VerificationRun } from './audit-trail.dto';
import { AuditVerificationRepository } from './audit-verification.repository';

/** The lock outlives the run's own deadline by this much (an instance that died mid-run frees it then). */
const LOCK_MARGIN_MS = 30_000;

/**
 * Full-chain verification as a run, off the request path: POST starts one (or, while one is running
 * anywhere on the desk, answers with that one: at most one run at a time, so N callers cause one scan),
 * GET reads its state and verdict. A run walks the chain on one connection with a statement timeout and a
 * deadline (AUDIT_VERIFY_TIMEOUT_MS) and holds the chain to the database's signed checkpoints, to the
 * heads the caller gives, and to the latest signed head an earlier run verified (the witness, kept in
 * Redis: deleting checkpoint rows does not make the gateway forget it).
 */
@Injectable()
export class AuditVerificationService implements OnApplicationShutdown {
  private readonly log = new Logger('AuditVerification');
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    @Inject(AuditQueryRepository) private readonly chain: AuditQueryRepository,
    @Inject(AuditVerificationRepository) private readonly runs: AuditVerificationRepository,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async start(actor: Actor, body: unknown): Promise<VerificationRun> {
    const input = parseInput(startVerificationSchema, body ?? {});
    const timeoutMs = this.config.AUDIT_VERIFY_TIMEOUT_MS;
    for (let attempt = 0; attempt < 3; attempt++) {
      const run: VerificationRun = {
        id: randomUUID(),
        status: 'running',
        range: { from: input.from ?? null, to: input.to ?? null },
        heads: input.heads ?? [],
        witness: null,
        requestedBy: actor.keyId ?? actor.id,
        startedAt: new Date().toISOString(),
        finishedAt: null,
        result: null,
        message: null,
      };
      // Saved before the lock is taken, so whoever sees the lock can read the run.
      await this.runs.save(run);
      if (await this.runs.lock(run.id, timeoutMs + LOCK_MARGIN_MS)) {
        this.track(this.execute(run));
        return run;
      }
      await this.runs.remove(run.id);
      const current = await this.runs.running();
      const existing = current ? await this.runs.find(current) : undefined;
      if (existing) return existing;
      // The other run finished between our two reads: try to start again.
    }
    throw new AppError(ErrorCode.Conflict, 'a verification is starting; retry in a moment');
  }

  async find(id: string): Promise<VerificationRun> {
    const run = UUID_RE.test(id) ? await this.runs.find(id) : undefined;
    if (!run) throw AppError.notFound('verification');
    // Still "running" long after its deadline: the instance running it stopped (its lock has expired).
    const abandonedAt = Date.parse(run.startedAt) + this.config.AUDIT_VERIFY_TIMEOUT_MS + LOCK_MARGIN_MS;
    if (run.status === 'running' && Date.now() > abandonedAt) {
      return {
        ...run,
        status: 'failed',
        finishedAt: new Date(abandonedAt).toISOString(),
        message: 'abandoned: the gateway instance running it stopped before a verdict; start another',
      };
    }
    return run;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async execute(run: VerificationRun): Promise<void> {
    const timeoutMs = this.config.AUDIT_VERIFY_TIMEOUT_MS;
    const finish = (patch: Partial<VerificationRun>): VerificationRun => ({
      ...run,
      ...patch,
      finishedAt: new Date().toISOString(),
    });
    let done: VerificationRun;
    try {
      const witness = await this.runs.witness();
      const anchors: (ChainHead & { source?: string })[] = run.heads.flatMap((h) => parseAnchor(h) ?? []);
      if (witness) {
        anchors.push({ ...witness, source: `the signed head ${witness.seq} an earlier verification saw` });
        run.witness = `${witness.seq}:${witness.hash}`;
      }
      const result = await this.chain.verify(
        { from: run.range.from ?? undefined, to: run.range.to ?? undefined },
        this.config.AUDIT_SIGNING_PUBLIC_KEY,
        { anchors, statementTimeoutMs: timeoutMs, deadline: Date.now() + timeoutMs },
      );
      if (result.ok && result.latestCheckpoint && result.keysTrusted) {
        await this.runs.keepWitness(result.latestCheckpoint);
      }
      done = finish({
        status: result.ok ? 'ok' : 'tampered',
        result,
        message: result.ok ? null : `first bad seq ${result.firstBadSeq} (${result.kind}): ${result.reason}`,
      });
    } catch (error) {
      if (error instanceof VerifyTimeoutError) {
        done = finish({ status: 'timed_out', message: `${error.message} (limit ${timeoutMs} ms)` });
      } else {
        const errorId = randomUUID();
        this.log.error({ err: error, errorId }, 'audit verification could not complete');
        done = finish({ status: 'failed', message: `verification could not complete (errorId ${errorId})` });
      }
    }
    recordVerification(done.status);
    try {
      await this.runs.save(done);
    } catch (error) {
      this.log.error({ err: error }, 'could not store the result of an audit verification');
    } finally {
      await this.runs.unlock(run.id).catch(() => undefined);
    }
  }
}

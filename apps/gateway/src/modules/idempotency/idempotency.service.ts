import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { canonicalJson } from '@desk/contracts';
import { AppError, Batcher, ErrorCode, Outbox } from '@desk/platform';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';
import { IdempotencyRepository } from './idempotency.repository';

const KEY_RE = /^[A-Za-z0-9_.:-]{1,128}$/;
/** How long a request may hold its key before a retry may take it over (it died). */
const LOCK_SECONDS = 30;

export interface IdempotentRequest {
  actorId: string;
  key: string | undefined;
  /** Order submission requires a key; other mutating endpoints honour one when given. */
  required: boolean;
  method: string;
  path: string;
  /** The validated request, canonicalised: the same request sent twice hashes the same. */
  canonicalBody: unknown;
  /**
   * The work may share its transaction with other requests' work that arrives meanwhile (group commit,
   * docs/adr/0024): each still commits before its response and sees the ones before it. Only for work
   * that touches nothing another request's work would lock (an order submission inserts its own rows).
   */
  groupCommit?: boolean;
}

/** Claimed work waiting for the next group commit. */
interface PendingWork {
  readonly scope: { actorId: string; key: string };
  readonly token: string;
  readonly work: (tx: EntityManager) => Promise<WorkResult<unknown>>;
}

/** Most requests' work committed together. */
const GROUP_COMMIT_SIZE = 32;

export interface IdempotentResponse<T = unknown> {
  status: number;
  body: T;
  replayed: boolean;
}

export interface WorkResult<T> {
  status: number;
  body: T;
  /** What to keep for replays, when the live body holds something never to be stored (a new API key). */
  storedBody?: unknown;
}

/**
 * Idempotency-Key, with the semantics of the IETF draft: the same key with the same request returns the
 * stored response and changes nothing; with a different request, 422; while the first is still in flight,
 * 409. Keys are scoped per operator and kept IDEMPOTENCY_TTL_HOURS. The state change, its outbox jobs and
 * the stored response commit in one transaction.
 */
@Injectable()
export class IdempotencyService {
  /**
   * Claimed work of requests that allow it, committed together. A batch that fails is committed again
   * request by request (Batcher), so one request's failure (a validation error, a lost claim) is its own.
   */
  private readonly groups = new Batcher<PendingWork, WorkResult<unknown>>({
    maxSize: GROUP_COMMIT_SIZE,
    maxWaitMs: 0,
    write: (items) =>
      this.db.transaction(async (tx) => {
        const results: WorkResult<unknown>[] = [];
        for (const item of items) results.push(await item.work(tx));
        // Every response stored in one statement.
        await this.repository.completeMany(
          tx,
          items.map((item, i) => ({ ...item, response: storedResponse(results[i]!) })),
        );
        return results;
      }),
  });

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(IdempotencyRepository) private readonly repository: IdempotencyRepository,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** Validates the header up front, so a bad key is refused before any other work. */
  static checkKey(key: string | undefined, required: boolean): void {
    if (key === undefined || key === '') {
      if (!required) return;
      throw new AppError(ErrorCode.IdempotencyKeyMissing, 'the Idempotency-Key header is required', [
        { field: 'Idempotency-Key', reason: 'is required' },
      ]);
    }
    if (!KEY_RE.test(key)) {
      throw AppError.validation([
        { field: 'Idempotency-Key', reason: 'must be 1-128 characters of A-Z a-z 0-9 _ . : -' },
      ]);
    }
  }

  async execute<T>(
    request: IdempotentRequest,
    work: (tx: EntityManager) => Promise<WorkResult<T>>,
  ): Promise<IdempotentResponse> {
    IdempotencyService.checkKey(request.key, request.required);
    if (!request.key) {
      const result = await this.db.transaction(work);
      void this.outbox.flush();
      return { status: result.status, body: result.body, replayed: false };
    }
    const scope = { actorId: request.actorId, key: request.key };
    const requestHash = createHash('sha256')
      .update(`${request.method} ${request.path}\n${canonicalJson(request.canonicalBody)}`)
      .digest('hex');
    const claim = await this.repository.claim(
      scope,
      { method: request.method, path: request.path, requestHash },
      randomUUID(),
      LOCK_SECONDS,
      this.config.IDEMPOTENCY_TTL_HOURS,
    );
    switch (claim.kind) {
      case 'completed':
        if (claim.requestHash !== requestHash) throw reused();
        return { status: claim.status, body: JSON.parse(claim.body) as unknown, replayed: true };
      case 'in-flight':
        if (claim.requestHash !== requestHash) throw reused();
        throw new AppError(
          ErrorCode.IdempotencyKeyInFlight,
          'a request with this Idempotency-Key is still being processed',
        );
      case 'claimed':
        break;
      default: {
        const unreachable: never = claim;
        throw new Error(`unknown claim ${String(unreachable)}`);
      }
    }
    try {
      const pending: PendingWork = { scope, token: claim.token, work };
      const result = request.groupCommit
        ? ((await this.groups.submit(pending)) as WorkResult<T>)
        : await this.db.transaction((tx) => this.completeIn(tx, pending) as Promise<WorkResult<T>>);
      void this.outbox.flush();
      return { status: result.status, body: result.body, replayed: false };
    } catch (error) {
      await this.repository.release(scope, claim.token).catch(() => undefined);
      throw error;
    }
  }

  /** The work, and the response stored under the claim, in the caller's transaction. */
  private async completeIn(tx: EntityManager, pending: PendingWork): Promise<WorkResult<unknown>> {
    const done = await pending.work(tx);
    await this.repository.complete(tx, pending.scope, pending.token, storedResponse(done));
    return done;
  }
}

/** What is kept for replays of a response. */
function storedResponse(done: WorkResult<unknown>): { status: number; body: string } {
  return { status: done.status, body: JSON.stringify(done.storedBody ?? done.body) };
}

function reused(): AppError {
  return new AppError(
    ErrorCode.IdempotencyKeyReused,
    'this Idempotency-Key was already used with a different request',
  );
}

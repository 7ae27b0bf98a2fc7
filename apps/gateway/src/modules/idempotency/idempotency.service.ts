import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AppError, ErrorCode, Outbox } from '@desk/platform';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';
import { IdempotencyRepository } from './idempotency.repository';

const KEY_RE = /^[A-Za-z0-9_.:-]{1,128}$/;

export interface IdempotentRequest {
  actorId: string;
  key: string | undefined;
  method: string;
  path: string;
  /** The validated request, canonicalised: the same order sent twice hashes the same. */
  canonicalBody: unknown;
}

export interface IdempotentResponse {
  status: number;
  body: unknown;
  replayed: boolean;
}

/**
 * Idempotency-Key semantics (IETF draft): the same key with the same request returns the stored response
 * and changes nothing; the same key with a different request is a 422. The state change, its outbox jobs
 * and the stored response commit together, so a response is stored exactly when its effect happened.
 */
@Injectable()
export class IdempotencyService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(IdempotencyRepository) private readonly repository: IdempotencyRepository,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  static requireKey(key: string | undefined): string {
    if (key === undefined || key === '') {
      throw new AppError(ErrorCode.IdempotencyKeyMissing, 'the Idempotency-Key header is required', [
        { field: 'Idempotency-Key', reason: 'is required' },
      ]);
    }
    if (!KEY_RE.test(key)) {
      throw AppError.validation([
        { field: 'Idempotency-Key', reason: 'must be 1-128 characters of A-Z a-z 0-9 _ . : -' },
      ]);
    }
    return key;
  }

  async execute(
    request: IdempotentRequest,
    work: (tx: EntityManager) => Promise<{ status: number; body: unknown }>,
  ): Promise<IdempotentResponse> {
    const key = IdempotencyService.requireKey(request.key);
    const requestHash = createHash('sha256')
      .update(`${request.method} ${request.path}\n${canonicalJson(request.canonicalBody)}`)
      .digest('hex');
    const outcome = await this.db
      .transaction(async (tx) => {
        const response = await work(tx);
        const earlier = await this.repository.claim(tx, {
          actorId: request.actorId,
          key,
          method: request.method,
          path: request.path,
          requestHash,
          response: { status: response.status, body: JSON.stringify(response.body) },
          ttlHours: this.config.IDEMPOTENCY_TTL_HOURS,
        });
        if (earlier === undefined) return { status: response.status, body: response.body, replayed: false };
        // Someone used this key first: undo this attempt's work and answer from the record.
        throw new Replay(earlier);
      })
      .catch((error: unknown) => {
        if (!(error instanceof Replay)) throw error;
        if (error.stored.requestHash !== requestHash) {
          throw new AppError(
            ErrorCode.IdempotencyKeyReused,
            'this Idempotency-Key was already used with a different request',
          );
        }
        return {
          status: error.stored.status,
          body: JSON.parse(error.stored.body) as unknown,
          replayed: true,
        };
      });
    if (!outcome.replayed) void this.outbox.flush();
    return outcome;
  }
}

class Replay extends Error {
  constructor(readonly stored: { requestHash: string; status: number; body: string }) {
    super('idempotent replay');
  }
}

/** JSON with object keys sorted, so key order in the client's body does not change the hash. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

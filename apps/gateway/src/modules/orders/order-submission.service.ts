import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  IntentSource,
  JobName,
  OrderStatus,
  SCHEMA_VERSION,
  orderMarketProblems,
  type Actor,
  type OrderParams,
} from '@desk/contracts';
import { AppError, MarketCatalogService, Outbox } from '@desk/platform';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';
import { parseInput } from '../../http/zod-input';
import { IdempotencyService, type IdempotentResponse } from '../idempotency/idempotency.service';
import { submitOrderSchema } from './orders.dto';
import { SubmissionRepository } from './submission.repository';

export interface SubmitOrderCommand {
  actor: Actor;
  idempotencyKey: string | undefined;
  body: unknown;
  correlationId: string;
}

/**
 * An operator's order enters the platform here: validated against the venue's market catalog (400 naming
 * the field, its reason ending with the reason code risk would give, e.g. "(LOT_SIZE_MISMATCH)"), recorded,
 * and handed to risk on the intents queue in the same transaction as the idempotency record. The intent id given here
 * is the order's id for the rest of its life (job id on every queue, exchange clientOrderId).
 */
@Injectable()
export class OrderSubmissionService {
  constructor(
    @Inject(IdempotencyService) private readonly idempotency: IdempotencyService,
    @Inject(SubmissionRepository) private readonly submissions: SubmissionRepository,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(MarketCatalogService) private readonly catalog: MarketCatalogService,
  ) {}

  async submit(command: SubmitOrderCommand): Promise<IdempotentResponse> {
    IdempotencyService.checkKey(command.idempotencyKey, true);
    const order: OrderParams = parseInput(submitOrderSchema, command.body);
    // Against the venue's catalog as execution publishes it (503 while there is none, never a guess).
    const market = await this.catalog.find(order.symbol);
    const problems = orderMarketProblems(order, market, this.config.TRADING_SYMBOLS);
    if (problems.length) {
      throw AppError.validation(
        problems.map(({ field, code, reason }) => ({ field, reason: `${reason} (${code})` })),
      );
    }

    return this.idempotency.execute(
      {
        actorId: command.actor.id,
        key: command.idempotencyKey,
        required: true,
        method: 'POST',
        path: '/v1/orders',
        canonicalBody: order,
        // Its rows are its own: submissions arriving together commit together (docs/adr/0024).
        groupCommit: true,
      },
      async (tx) => {
        const id = randomUUID();
        const submittedAt = new Date();
        await this.submissions.insert(tx, {
          id,
          actor: command.actor,
          idempotencyKey: command.idempotencyKey ?? '',
          order,
          correlationId: command.correlationId,
          submittedAt,
        });
        await this.outbox.add(tx, JobName.IntentSubmitted, {
          schemaVersion: SCHEMA_VERSION,
          intentId: id,
          correlationId: command.correlationId,
          source: IntentSource.Operator,
          actor: command.actor,
          order,
          submittedAt: submittedAt.toISOString(),
        });
        return {
          status: 202,
          body: { id, status: OrderStatus.Received, ...order, submittedAt: submittedAt.toISOString() },
        };
      },
    );
  }
}

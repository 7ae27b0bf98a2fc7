import { Body, Controller, Get, Headers, Param, Post, Query, Res } from '@nestjs/common';
import { Inject } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { Actor } from '@desk/contracts';
import { openApiSchema } from '../../http/openapi';
import { OrderSubmissionLimit, RequireRole } from '../access/require-role.decorator';
import { Role } from '../access/role';
import { CurrentActor, RequestId, sendIdempotent } from '../../http/request-context';
import { OrderSubmissionService } from './order-submission.service';
import { submitOrderSchema } from './orders.dto';
import { OrdersService } from './orders.service';

@ApiTags('orders')
@ApiBearerAuth()
@Controller('v1/orders')
export class OrdersController {
  constructor(
    @Inject(OrderSubmissionService) private readonly submission: OrderSubmissionService,
    @Inject(OrdersService) private readonly orders: OrdersService,
  ) {}

  @Post()
  @RequireRole(Role.Trader)
  @OrderSubmissionLimit()
  @ApiOperation({
    summary: 'Submit an order; 202 with its id. Risk decides, execution fills (paper by default).',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: true,
    description: 'Same key + same body replays the response',
  })
  @ApiBody({ schema: openApiSchema(submitOrderSchema) })
  async submit(
    @CurrentActor() actor: Actor,
    @RequestId() requestId: string,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<unknown> {
    return sendIdempotent(
      reply,
      await this.submission.submit({ actor, idempotencyKey, body, correlationId: requestId }),
    );
  }

  @Get()
  @RequireRole(Role.Viewer)
  @ApiOperation({
    summary: 'List orders, newest first (filters: symbol, side, type, status, source; cursor pagination)',
  })
  list(@Query() query: unknown) {
    return this.orders.list(query);
  }

  @Get(':id')
  @RequireRole(Role.Viewer)
  @ApiOperation({ summary: 'One order with its status history and fills' })
  get(@Param('id') id: string) {
    return this.orders.get(id);
  }
}

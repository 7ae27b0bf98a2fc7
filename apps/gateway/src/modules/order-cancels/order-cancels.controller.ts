import { Body, Controller, Delete, Headers, Inject, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { Actor } from '@desk/contracts';
import { openApiSchema } from '../../http/openapi';
import { CurrentActor, RequestId, sendIdempotent } from '../../http/request-context';
import { RequireRole } from '../access/require-role.decorator';
import { Role } from '../access/role';
import { cancelAllSchema } from './order-cancels.dto';
import { OrderCancelsService } from './order-cancels.service';

@ApiTags('orders')
@ApiBearerAuth()
@ApiHeader({ name: 'Idempotency-Key', required: false })
@Controller('v1/orders')
export class OrderCancelsController {
  constructor(@Inject(OrderCancelsService) private readonly cancels: OrderCancelsService) {}

  @Post('cancel-all')
  @RequireRole(Role.Trader)
  @ApiOperation({ summary: 'Cancel every working order of a symbol; 202 with the request id' })
  @ApiBody({ schema: openApiSchema(cancelAllSchema) })
  async cancelAll(
    @CurrentActor() actor: Actor,
    @RequestId() correlationId: string,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<unknown> {
    return sendIdempotent(
      reply,
      await this.cancels.cancelSymbol({ actor, idempotencyKey, correlationId }, body),
    );
  }

  @Delete(':id')
  @RequireRole(Role.Trader)
  @ApiOperation({
    summary: 'Cancel an order: 202 while execution cancels it, 200 if it already ended cancelled or expired',
  })
  async cancel(
    @CurrentActor() actor: Actor,
    @RequestId() correlationId: string,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Param('id') id: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<unknown> {
    return sendIdempotent(
      reply,
      await this.cancels.cancelOrder({ actor, idempotencyKey, correlationId }, id),
    );
  }
}

import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { Actor } from '@desk/contracts';
import { openApiSchema } from '../../http/openapi';
import { CurrentActor, RequestId, sendIdempotent } from '../../http/request-context';
import { RequireRole } from '../access/require-role.decorator';
import { Role } from '../access/role';
import { createOperatorSchema } from './operators.dto';
import { OperatorsService } from './operators.service';

@ApiTags('operators')
@ApiBearerAuth()
@ApiHeader({ name: 'Idempotency-Key', required: false })
@Controller('v1/operators')
export class OperatorsController {
  constructor(@Inject(OperatorsService) private readonly operators: OperatorsService) {}

  @Post()
  @RequireRole(Role.Admin)
  @ApiOperation({ summary: 'Create an operator (a person); give them keys with POST /v1/operators/:id/keys' })
  @ApiBody({ schema: openApiSchema(createOperatorSchema) })
  async create(
    @CurrentActor() actor: Actor,
    @RequestId() correlationId: string,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return sendIdempotent(reply, await this.operators.create({ actor, idempotencyKey, correlationId }, body));
  }

  @Get()
  @RequireRole(Role.Admin)
  @ApiOperation({ summary: 'List operators' })
  list() {
    return this.operators.list();
  }

  @Post(':id/disable')
  @HttpCode(200)
  @RequireRole(Role.Admin)
  @ApiOperation({ summary: 'Disable an operator: all their keys stop working at once' })
  async disable(
    @CurrentActor() actor: Actor,
    @RequestId() correlationId: string,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Param('id') id: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return sendIdempotent(reply, await this.operators.disable({ actor, idempotencyKey, correlationId }, id));
  }
}

import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { Actor } from '@desk/contracts';
import { openApiSchema } from '../../http/openapi';
import { CurrentActor, RequestId, sendIdempotent } from '../../http/request-context';
import { RequireRole } from '../access/require-role.decorator';
import { Role } from '../access/role';
import { ApiKeysService } from './api-keys.service';
import { registerKeySchema } from './keys.dto';

@ApiTags('keys')
@ApiBearerAuth()
@ApiHeader({ name: 'Idempotency-Key', required: false })
@Controller('v1')
export class KeysController {
  constructor(@Inject(ApiKeysService) private readonly keys: ApiKeysService) {}

  @Post('operators/:id/keys')
  @RequireRole(Role.Admin)
  @ApiOperation({
    summary:
      'Register a key its holder generated (`desk key generate`: key id and digest, never the key). ' +
      'Any role beyond viewer waits for approvers (202) once setup is closed.',
  })
  @ApiBody({ schema: openApiSchema(registerKeySchema) })
  async create(
    @CurrentActor() actor: Actor,
    @RequestId() correlationId: string,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Param('id') operatorId: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return sendIdempotent(
      reply,
      await this.keys.register({ actor, idempotencyKey, correlationId }, operatorId, body),
    );
  }

  @Get('keys')
  @RequireRole(Role.Admin)
  @ApiOperation({ summary: 'List keys (never the keys themselves): id, operator, roles, status, expiry' })
  list(@Query() query: unknown) {
    return this.keys.list(query);
  }

  @Post('keys/:id/revoke')
  @HttpCode(200)
  @RequireRole(Role.Admin)
  @ApiOperation({ summary: 'Revoke a key: refused on every gateway instance from the next request' })
  async revoke(
    @CurrentActor() actor: Actor,
    @RequestId() correlationId: string,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Param('id') keyId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return sendIdempotent(reply, await this.keys.revoke({ actor, idempotencyKey, correlationId }, keyId));
  }
}

import { Body, Controller, Get, Headers, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { Actor } from '@desk/contracts';
import { openApiSchema } from '../../http/openapi';
import { CurrentActor, RequestId, sendIdempotent } from '../../http/request-context';
import { ApiKeysService } from '../keys/api-keys.service';
import { rotateOwnKeySchema } from '../keys/keys.dto';
import type { AuthenticatedRequest } from '../../http/request-context';
import { OperatorsService } from '../operators/operators.service';
import { RequireRole } from './require-role.decorator';
import { Role } from './role';

@ApiTags('access')
@ApiBearerAuth()
@Controller('v1/me')
export class MeController {
  constructor(
    @Inject(OperatorsService) private readonly operators: OperatorsService,
    @Inject(ApiKeysService) private readonly keys: ApiKeysService,
  ) {}

  @Get()
  @RequireRole(Role.Viewer)
  @ApiOperation({
    summary: 'Who am I: operator, key id, roles, expiry of this key, and the desk setup phase',
  })
  me(@Req() request: AuthenticatedRequest) {
    return this.operators.whoAmI(request);
  }

  @Post('key/rotate')
  @RequireRole(Role.Viewer)
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiOperation({
    summary:
      'Replace the key making this request with one you generated (`desk key generate`); the old one ' +
      "keeps working for the overlap. Only a key's holder can rotate it.",
  })
  @ApiBody({ schema: openApiSchema(rotateOwnKeySchema) })
  async rotate(
    @CurrentActor() actor: Actor & { keyId: string },
    @RequestId() correlationId: string,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return sendIdempotent(reply, await this.keys.rotateOwn({ actor, idempotencyKey, correlationId }, body));
  }
}

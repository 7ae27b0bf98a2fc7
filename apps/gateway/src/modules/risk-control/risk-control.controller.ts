import { Body, Controller, Get, HttpCode, Inject, Post, Put, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { Actor } from '@desk/contracts';
import { openApiSchema } from '../../http/openapi';
import { CurrentActor, RequestId } from '../../http/request-context';
import { RequireRole } from '../access/require-role.decorator';
import { Role } from '../access/role';
import { killSchema, putLimitsSchema, resumeSchema } from './risk-control.dto';
import { RiskControlService } from './risk-control.service';

@ApiTags('risk')
@ApiBearerAuth()
@Controller('v1')
export class RiskControlController {
  constructor(@Inject(RiskControlService) private readonly risk: RiskControlService) {}

  @Post('kill')
  @HttpCode(202)
  @RequireRole(Role.RiskAdmin)
  @ApiOperation({
    summary: 'Kill switch: halt trading at once, cancel open orders, optionally flatten. Never gated.',
  })
  @ApiBody({ schema: openApiSchema(killSchema) })
  kill(@CurrentActor() actor: Actor, @RequestId() correlationId: string, @Body() body: unknown) {
    return this.risk.kill(actor, body, correlationId);
  }

  @Post('resume')
  @HttpCode(202)
  @RequireRole(Role.RiskAdmin)
  @ApiOperation({ summary: 'Ask to resume trading: raises a two-man approval request' })
  @ApiBody({ schema: openApiSchema(resumeSchema) })
  resume(@CurrentActor() actor: Actor, @RequestId() correlationId: string, @Body() body: unknown) {
    return this.risk.resume(actor, body, correlationId);
  }

  @Get('trading-state')
  @RequireRole(Role.Viewer)
  @ApiOperation({ summary: 'ACTIVE, REDUCING or HALTED, with who or what set it and why' })
  tradingState() {
    return this.risk.tradingState();
  }

  @Get('risk/limits')
  @RequireRole(Role.Viewer)
  @ApiOperation({ summary: 'Current risk limits' })
  limits() {
    return this.risk.limits();
  }

  @Put('risk/limits')
  @RequireRole(Role.RiskAdmin)
  @ApiOperation({ summary: 'Change limits: lowering applies at once; raising needs two-man approval' })
  @ApiBody({ schema: openApiSchema(putLimitsSchema) })
  async putLimits(
    @CurrentActor() actor: Actor,
    @RequestId() correlationId: string,
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const outcome = await this.risk.putLimits(actor, body, correlationId);
    void reply.status(outcome.status);
    return outcome.body;
  }
}

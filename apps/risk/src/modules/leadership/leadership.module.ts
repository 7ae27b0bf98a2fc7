import { Global, Module } from '@nestjs/common';
import { LEADERSHIP_STATUS } from '@desk/platform';
import { RiskLeadership } from './risk-leadership.service';

/** The writer lock; global so that readiness (platform's health controller) shows the role. */
@Global()
@Module({
  providers: [RiskLeadership, { provide: LEADERSHIP_STATUS, useExisting: RiskLeadership }],
  exports: [RiskLeadership, LEADERSHIP_STATUS],
})
export class LeadershipModule {}

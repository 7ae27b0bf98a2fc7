import { Module } from '@nestjs/common';
import { RiskCheckService } from './risk-check.service';

@Module({ providers: [RiskCheckService], exports: [RiskCheckService] })
export class ChecksModule {}

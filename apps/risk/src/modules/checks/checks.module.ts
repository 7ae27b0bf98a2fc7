import { Module } from '@nestjs/common';
import { MarketCatalogModule } from '@desk/platform';
import { StateModule } from '../state/state.module';
import { RiskCheckService } from './risk-check.service';

@Module({
  imports: [StateModule, MarketCatalogModule],
  providers: [RiskCheckService],
  exports: [RiskCheckService],
})
export class ChecksModule {}

import { Module } from '@nestjs/common';
import { BalanceQueryRepository } from './balance-query.repository';
import { BalancesController } from './balances.controller';
import { BalancesService } from './balances.service';

@Module({ controllers: [BalancesController], providers: [BalancesService, BalanceQueryRepository] })
export class BalancesModule {}

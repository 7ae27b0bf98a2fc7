import { Global, Module } from '@nestjs/common';
import { MarketPriceStore } from './market-price.store';

@Global()
@Module({ providers: [MarketPriceStore], exports: [MarketPriceStore] })
export class MarketModule {}

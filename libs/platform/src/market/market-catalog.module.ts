import { Module } from '@nestjs/common';
import { MarketCatalogService } from './market-catalog.service';

/**
 * The venue's market catalog (execution.market_catalog), for the services that validate orders against it
 * (the gateway and risk: their database roles may read the view). Not part of PlatformModule: the other
 * services may not read it, and would only log failed refreshes.
 */
@Module({ providers: [MarketCatalogService], exports: [MarketCatalogService] })
export class MarketCatalogModule {}

import { Module } from '@nestjs/common';
import { PositionQueryRepository } from './position-query.repository';
import { PositionsController } from './positions.controller';
import { PositionsService } from './positions.service';

@Module({ controllers: [PositionsController], providers: [PositionsService, PositionQueryRepository] })
export class PositionsModule {}

import { Module } from '@nestjs/common';
import { SignalQueryRepository } from './signal-query.repository';
import { SignalsController } from './signals.controller';
import { SignalsService } from './signals.service';

@Module({ controllers: [SignalsController], providers: [SignalsService, SignalQueryRepository] })
export class SignalsModule {}

import { DynamicModule, Global, Module } from '@nestjs/common';
import { OUTBOX_SCHEMA, Outbox } from './outbox';
import { OutboxRedrive } from './outbox-redrive';

@Global()
@Module({})
export class OutboxModule {
  static forRoot(schema: string): DynamicModule {
    return {
      module: OutboxModule,
      providers: [{ provide: OUTBOX_SCHEMA, useValue: schema }, Outbox, OutboxRedrive],
      exports: [Outbox, OutboxRedrive],
    };
  }
}

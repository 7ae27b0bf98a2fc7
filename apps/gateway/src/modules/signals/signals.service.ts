import { Inject, Injectable } from '@nestjs/common';
import type { Page } from '../../http/cursor';
import { parseInput } from '../../http/zod-input';
import { SignalQueryRepository } from './signal-query.repository';
import { listSignalsQuerySchema, type SignalView } from './signals.dto';

@Injectable()
export class SignalsService {
  constructor(@Inject(SignalQueryRepository) private readonly signals: SignalQueryRepository) {}

  list(query: unknown): Promise<Page<SignalView>> {
    return this.signals.list(parseInput(listSignalsQuerySchema, query, '(query)'));
  }
}

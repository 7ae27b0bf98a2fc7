import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@desk/platform';
import type { Page } from '../../http/cursor';
import { parseInput } from '../../http/zod-input';
import { OrderQueryRepository } from './order-query.repository';
import { listOrdersQuerySchema, type OrderView } from './orders.dto';
import { UUID_RE } from '../../http/uuid';

@Injectable()
export class OrdersService {
  constructor(@Inject(OrderQueryRepository) private readonly orders: OrderQueryRepository) {}

  async get(id: string): Promise<OrderView> {
    // A malformed id cannot name an order: the same 404 as an unknown one.
    const order = UUID_RE.test(id.toLowerCase()) ? await this.orders.findOne(id.toLowerCase()) : undefined;
    if (!order) throw AppError.notFound('order');
    return order;
  }

  list(query: unknown): Promise<Page<OrderView>> {
    return this.orders.list(parseInput(listOrdersQuerySchema, query, '(query)'));
  }
}

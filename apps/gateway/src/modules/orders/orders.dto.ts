import { z } from 'zod';
import {
  IntentSource,
  OrderSide,
  OrderStatus,
  OrderType,
  orderParamsSchema,
  type TimeInForce,
} from '@desk/contracts';

/** Body of POST /v1/orders: exactly the order parameters, nothing else. */
export const submitOrderSchema = orderParamsSchema;

export const listOrdersQuerySchema = z
  .object({
    symbol: z.string().max(21).optional(),
    side: z.enum(OrderSide).optional(),
    type: z.enum(OrderType).optional(),
    status: z.enum(OrderStatus).optional(),
    source: z.enum(IntentSource).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(400).optional(),
  })
  .strict();

export type ListOrdersQuery = z.infer<typeof listOrdersQuerySchema>;

export interface OrderHistoryEntry {
  status: OrderStatus;
  at: string;
  reasonCode?: string;
  detail?: string;
}

export interface FillView {
  id: string;
  price: string;
  quantity: string;
  fee: string;
  feeCurrency: string;
  at: string;
}

export interface OrderView {
  id: string;
  source: string;
  symbol: string;
  side: string;
  type: string;
  quantity: string;
  price: string | null;
  /** How long a limit order works at the venue (GTC when none was given); null for a market order. */
  timeInForce: TimeInForce | null;
  /** Whether the venue must refuse the order rather than let it take liquidity. */
  postOnly: boolean;
  status: OrderStatus;
  reasonCode: string | null;
  filledQuantity: string;
  averageFillPrice: string | null;
  fees: string;
  submittedAt: string;
  history?: OrderHistoryEntry[];
  fills?: FillView[];
  /** For a critical order: its two-man approval request. */
  approval?: {
    id: string;
    status: string | null;
    requiredApprovals: number | null;
    validApprovals: number | null;
  } | null;
  /** The newest operator's cancel of this order (DELETE /v1/orders/:id), when there is one. */
  cancelRequest?: { requestId: string; requestedBy: { type: string; id: string }; requestedAt: string };
}

import { z } from 'zod';

/** Body of POST /v1/orders/cancel-all: the symbol whose working orders to cancel, nothing else. */
export const cancelAllSchema = z.object({ symbol: z.string().min(1).max(21) }).strict();

/** What a cancel answers once it is on its way to execution (202). */
export const CANCEL_REQUESTED = 'CANCEL_REQUESTED' as const;

export interface OrderCancelRequestedView {
  requestId: string;
  orderId: string;
  status: typeof CANCEL_REQUESTED;
}

export interface SymbolCancelRequestedView {
  requestId: string;
  symbol: string;
  status: typeof CANCEL_REQUESTED;
}

/** An order that already ended cancelled or expired: nothing to do (200). */
export interface OrderAlreadyEndedView {
  orderId: string;
  status: string;
}

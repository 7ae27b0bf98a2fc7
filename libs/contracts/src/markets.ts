/**
 * The markets the platform knows. Precision is the number of decimals an exchange accepts;
 * an order with more decimals is refused at the gateway (400) and by risk (reason code).
 */
export interface MarketSpec {
  readonly symbol: string;
  readonly base: string;
  readonly quote: string;
  readonly pricePrecision: number;
  readonly quantityPrecision: number;
  /** Starting price of the offline simulated feed (decimal string). */
  readonly referencePrice: string;
}

export const MARKET_CATALOG: readonly MarketSpec[] = [
  {
    symbol: 'BTC/USDT',
    base: 'BTC',
    quote: 'USDT',
    pricePrecision: 2,
    quantityPrecision: 6,
    referencePrice: '65000',
  },
  {
    symbol: 'ETH/USDT',
    base: 'ETH',
    quote: 'USDT',
    pricePrecision: 2,
    quantityPrecision: 4,
    referencePrice: '3200',
  },
  {
    symbol: 'SOL/USDT',
    base: 'SOL',
    quote: 'USDT',
    pricePrecision: 3,
    quantityPrecision: 2,
    referencePrice: '150',
  },
];

export const SYMBOL_RE = /^[A-Z0-9]{2,10}\/[A-Z0-9]{2,10}$/;

export function findMarket(symbol: string, enabled?: readonly string[]): MarketSpec | undefined {
  if (enabled && !enabled.includes(symbol)) return undefined;
  return MARKET_CATALOG.find((m) => m.symbol === symbol);
}

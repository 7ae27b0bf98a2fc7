/**
 * A market as a venue trades it. The paper venue's catalog is MARKET_CATALOG below; a real venue's comes
 * from ccxt's loadMarkets() (execution publishes it, the gateway and risk validate against it). An order
 * off the tick or lot size, below the minimum quantity or notional, is refused at the gateway (400) and by
 * risk (reason code) before any venue sees it.
 */
export interface MarketSpec {
  readonly symbol: string;
  readonly base: string;
  readonly quote: string;
  /** Smallest price increment (decimal string): a limit price is a multiple of it. */
  readonly tickSize: string;
  /** Quantity increment (lot size, decimal string): a quantity is a multiple of it. */
  readonly stepSize: string;
  /** Smallest quantity the venue accepts (decimal string). */
  readonly minQuantity: string;
  /** Smallest notional (quantity × price, quote currency) the venue accepts; null when it sets none. */
  readonly minNotional: string | null;
  /** Decimals of tickSize and stepSize (what a venue's precision says). */
  readonly pricePrecision: number;
  readonly quantityPrecision: number;
  /** Starting price of the offline simulated feed (decimal string); static catalog only. */
  readonly referencePrice?: string;
}

export const MARKET_CATALOG: readonly MarketSpec[] = [
  {
    symbol: 'BTC/USDT',
    base: 'BTC',
    quote: 'USDT',
    tickSize: '0.01',
    stepSize: '0.000001',
    minQuantity: '0.000001',
    minNotional: null,
    pricePrecision: 2,
    quantityPrecision: 6,
    referencePrice: '65000',
  },
  {
    symbol: 'ETH/USDT',
    base: 'ETH',
    quote: 'USDT',
    tickSize: '0.01',
    stepSize: '0.0001',
    minQuantity: '0.0001',
    minNotional: null,
    pricePrecision: 2,
    quantityPrecision: 4,
    referencePrice: '3200',
  },
  {
    symbol: 'SOL/USDT',
    base: 'SOL',
    quote: 'USDT',
    tickSize: '0.001',
    stepSize: '0.01',
    minQuantity: '0.01',
    minNotional: null,
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

/** The configured market feed cannot be used (bad file, unknown exchange, malformed data). */
export class MarketFeedError extends Error {
  override readonly name = 'MarketFeedError';
}

import { z } from 'zod';

/** The simulated venue: it never trades real money, so live trading can never be enabled on it. */
export const PAPER_VENUE = 'paper';

/** A venue id as ccxt names exchanges (e.g. `binance`, `kraken`). */
export const venueIdSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{1,31}$/, 'must be a venue id such as "binance" (lower-case letters and digits)');

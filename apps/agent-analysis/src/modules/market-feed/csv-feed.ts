import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { money, unsignedDecimalString, type MarketSpec } from '@desk/contracts';
import { HISTORY_CANDLES, type Candle, type CandlesBySymbol } from './candle';
import type { MarketFeed } from './market-feed';
import { MarketFeedError } from './market-feed.error';

export const CSV_COLUMNS = ['timestamp', 'symbol', 'open', 'high', 'low', 'close', 'volume'] as const;
type Row = Record<(typeof CSV_COLUMNS)[number], string> & { line: number };

const MAX_REPORTED_PROBLEMS = 10;

/**
 * Replays an OHLCV file, one timestamp per step. The first step already shows up to HISTORY_CANDLES
 * candles so the agents are warm; after the last row the feed returns nothing.
 *
 * A replay runs on the clock: each step's timestamp is replayed as now, and every candle shown closes as
 * long before now as it opened before that timestamp. So a symbol whose rows stopped earlier in the file
 * shows an old price, and is refused as stale, as it would be live.
 */
export class CsvReplayFeed implements MarketFeed {
  readonly kind = 'csv';
  private readonly times: number[];
  private cursor: number;

  constructor(
    private readonly candles: ReadonlyMap<string, readonly Candle[]>,
    private readonly history = HISTORY_CANDLES,
    private readonly clock: () => Date = () => new Date(),
  ) {
    const all = new Set<number>();
    for (const list of candles.values()) for (const c of list) all.add(c.time.getTime());
    this.times = [...all].sort((a, b) => a - b);
    this.cursor = Math.min(history, this.times.length) - 1;
  }

  static fromFile(path: string, markets: readonly MarketSpec[]): CsvReplayFeed {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new MarketFeedError(`cannot read MARKET_FEED_CSV_PATH ${path}: ${(error as Error).message}`);
    }
    return new CsvReplayFeed(parseOhlcvCsv(text, markets, path));
  }

  next(): Promise<CandlesBySymbol> {
    const out: CandlesBySymbol = new Map();
    const until = this.times[this.cursor];
    if (until === undefined) return Promise.resolve(out);
    this.cursor++;
    const shift = this.clock().getTime() - until;
    for (const [symbol, list] of this.candles) {
      const upTo = list.filter((c) => c.time.getTime() <= until);
      if (upTo.length)
        out.set(
          symbol,
          upTo.slice(-this.history).map((c) => ({ ...c, closedAt: new Date(c.time.getTime() + shift) })),
        );
    }
    return Promise.resolve(out);
  }
}

/**
 * Parses and validates an OHLCV CSV. Values stay decimal strings until they become Decimals. Rows of
 * markets that are not enabled are skipped; anything malformed fails with the line numbers.
 */
export function parseOhlcvCsv(
  text: string,
  markets: readonly MarketSpec[],
  source = 'csv',
): Map<string, Candle[]> {
  let rows: Row[];
  try {
    rows = parse<Row, Record<string, string>>(text, {
      columns: (header: string[]) => {
        const got = header.map((h) => h.trim().toLowerCase());
        if (got.join(',') !== CSV_COLUMNS.join(',')) {
          throw new MarketFeedError(`header must be "${CSV_COLUMNS.join(',')}", got "${header.join(',')}"`);
        }
        return got;
      },
      skip_empty_lines: true,
      trim: true,
      on_record: (record, context) => ({ ...record, line: context.lines }) as Row,
    });
  } catch (error) {
    throw new MarketFeedError(`${source}: ${(error as Error).message}`);
  }

  const problems: string[] = [];
  const out = new Map<string, Candle[]>(markets.map((m) => [m.symbol, []]));
  const seen = new Set<string>();
  const known = new Set(markets.map((m) => m.symbol));
  for (const row of rows) {
    const problem = checkRow(row);
    if (problem) {
      problems.push(`line ${row.line}: ${problem}`);
      continue;
    }
    if (!known.has(row.symbol)) continue;
    const time = parseTime(row.timestamp);
    const key = `${row.symbol}@${time.getTime()}`;
    if (seen.has(key)) {
      problems.push(`line ${row.line}: duplicate candle for ${row.symbol} at ${time.toISOString()}`);
      continue;
    }
    seen.add(key);
    out.get(row.symbol)?.push({
      time,
      // The file's own time until the replay puts the candle on the clock.
      closedAt: time,
      open: money(row.open),
      high: money(row.high),
      low: money(row.low),
      close: money(row.close),
      volume: money(row.volume),
    });
  }
  if (problems.length) {
    const shown = problems.slice(0, MAX_REPORTED_PROBLEMS).join('; ');
    const more =
      problems.length > MAX_REPORTED_PROBLEMS ? ` (and ${problems.length - MAX_REPORTED_PROBLEMS} more)` : '';
    throw new MarketFeedError(`${source}: invalid OHLCV data: ${shown}${more}`);
  }
  for (const [symbol, list] of out) {
    if (list.length === 0) out.delete(symbol);
    else list.sort((a, b) => a.time.getTime() - b.time.getTime());
  }
  if (out.size === 0) {
    throw new MarketFeedError(`${source}: no candles for any enabled symbol (${[...known].join(', ')})`);
  }
  return out;
}

function checkRow(row: Row): string | undefined {
  if (Number.isNaN(parseTime(row.timestamp).getTime())) {
    return `timestamp "${row.timestamp}" must be ISO 8601 or epoch milliseconds`;
  }
  if (!/^[A-Z0-9]{2,10}\/[A-Z0-9]{2,10}$/.test(row.symbol))
    return `symbol "${row.symbol}" must look like "BTC/USDT"`;
  for (const field of ['open', 'high', 'low', 'close', 'volume'] as const) {
    if (!unsignedDecimalString.safeParse(row[field]).success)
      return `${field} "${row[field]}" must be a decimal string`;
    if (field !== 'volume' && money(row[field]).isZero()) return `${field} must be greater than 0`;
  }
  const [open, high, low, close] = [money(row.open), money(row.high), money(row.low), money(row.close)];
  if (high.lt(open) || high.lt(close) || high.lt(low)) return 'high is below open, close or low';
  if (low.gt(open) || low.gt(close)) return 'low is above open or close';
  return undefined;
}

function parseTime(value: string): Date {
  return /^\d{1,15}$/.test(value)
    ? new Date(Number(value))
    : new Date(/^\d{4}-\d{2}-\d{2}T/.test(value) ? value : NaN);
}

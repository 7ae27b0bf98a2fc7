import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ControlCommandKind, OrderSide, OrderType } from '@desk/contracts';
import { RiskMonitor } from '../src/modules/monitor/risk-monitor';
import { RiskHarness } from './risk-harness';

/**
 * Each pre-trade check against what risk really counts: intents in risk.intents, pending orders, fills,
 * the day boundary in a time zone far from UTC. Nothing fills accepted orders here: they stay pending.
 */
describe('risk: pre-trade checks on real counts (real Redis and PostgreSQL, own database)', () => {
  let h: RiskHarness;

  beforeAll(async () => {
    h = await RiskHarness.create('risklim', {
      APPROVAL_NOTIONAL_THRESHOLD: '1000000',
      RISK_SYMBOL_ALLOWLIST: 'BTC/USDT,ETH/USDT',
      RISK_DAY_TIMEZONE: 'Pacific/Kiritimati', // UTC+14: its day almost never matches UTC's
    });
    await h.publishPrices({ 'BTC/USDT': '65000', 'ETH/USDT': '3200', 'SOL/USDT': '150' });
  });

  afterAll(async () => {
    await h?.close();
  });

  async function decide(order: Parameters<RiskHarness['intent']>[0]): Promise<Record<string, unknown>> {
    return h.decided((await h.submit(h.intent(order))).intentId);
  }

  async function setLimits(limits: Record<string, string>): Promise<void> {
    await h.send(await h.approvedCommand(ControlCommandKind.SetLimits, { limits }));
  }

  it('refuses a symbol that is enabled but not on the allowlist', async () => {
    expect(await decide({ symbol: 'SOL/USDT', quantity: '1' })).toMatchObject({
      status: 'REJECTED',
      reason_code: 'SYMBOL_NOT_ALLOWED',
    });
  });

  it('refuses a limit price through the band (fat finger), and lets a passive one rest', async () => {
    const typo = await decide({
      type: OrderType.Limit,
      side: OrderSide.Sell,
      quantity: '0.01',
      price: '6500',
    });
    expect(typo).toMatchObject({ status: 'REJECTED', reason_code: 'PRICE_BAND_EXCEEDED' });
    expect(typo.reason).toBe('limit sell at 6500 is 0.9 through the last price 65000; band 0.05');
    expect(await decide({ type: OrderType.Limit, quantity: '0.01', price: '6500' })).toMatchObject({
      status: 'ACCEPTED',
    });
  });

  it('counts pending orders against the position limit', async () => {
    // 0.5 of 100000 = 50000: 0.3 BTC (19500) is pending from here on, 0.45 more would make 48750.
    expect(await decide({ quantity: '0.3' })).toMatchObject({ status: 'ACCEPTED' });
    expect(await decide({ quantity: '0.45' })).toMatchObject({ status: 'ACCEPTED' });
    const over = await decide({ quantity: '0.03' });
    expect(over).toMatchObject({ status: 'REJECTED', reason_code: 'MAX_POSITION_EXCEEDED' });
    expect(over.reason).toMatch(
      /^position in BTC\/USDT could reach 0\.79 \(51350\.00\), over 0\.5 of equity/,
    );
  });

  it('counts every exposure against the gross limit', async () => {
    await setLimits({ max_gross_exposure: '60000' });
    // BTC worst case 0.76 x 65000 = 49400 pending; 4 ETH (12800) would make 62200.
    const over = await decide({ symbol: 'ETH/USDT', quantity: '4' });
    expect(over).toMatchObject({ status: 'REJECTED', reason_code: 'MAX_GROSS_EXPOSURE_EXCEEDED' });
    expect(await decide({ symbol: 'ETH/USDT', quantity: '3' })).toMatchObject({ status: 'ACCEPTED' });
  });

  it('limits orders per day, counting only orders let through', async () => {
    const today = await h.pg.query<{ n: number }>(
      `select count(*)::int as n from risk.intents where status in ('ACCEPTED', 'PENDING_APPROVAL')`,
    );
    const accepted = today.rows[0]!.n;
    await setLimits({ max_orders_per_day: String(accepted + 1), max_gross_exposure: '200000' });
    expect(await decide({ symbol: 'ETH/USDT', quantity: '0.01' })).toMatchObject({ status: 'ACCEPTED' });
    const next = await decide({ symbol: 'ETH/USDT', quantity: '0.01' });
    expect(next).toMatchObject({ status: 'REJECTED', reason_code: 'MAX_ORDERS_PER_DAY' });
    expect(next.reason).toBe(`this would be order ${accepted + 2} today; max ${accepted + 1} per day`);
    await setLimits({ max_orders_per_day: '1000' });
  });

  it('limits the submit rate per symbol, counting rejected submissions too (a runaway agent stays throttled)', async () => {
    const lastMinute = await h.pg.query<{ n: number }>(
      `select count(*)::int as n from risk.intents where symbol = 'ETH/USDT' and received_at > now() - interval '1 minute'`,
    );
    await setLimits({ max_submit_rate_per_symbol: String(lastMinute.rows[0]!.n + 1) });
    expect(await decide({ symbol: 'ETH/USDT', quantity: '0.01' })).toMatchObject({ status: 'ACCEPTED' });
    const limit = lastMinute.rows[0]!.n + 1;
    for (const count of [limit + 1, limit + 2]) {
      const throttled = await decide({ symbol: 'ETH/USDT', quantity: '0.01' });
      expect(throttled).toMatchObject({ status: 'REJECTED', reason_code: 'SUBMIT_RATE_EXCEEDED' });
      expect(throttled.reason).toBe(`${count} orders in ETH/USDT within a minute; max ${limit} per minute`);
    }
    await setLimits({ max_submit_rate_per_symbol: '60' });
  });

  it('stops new risk once the day’s loss (realized plus unrealized) reaches the limit; reducing still passes', async () => {
    await h.filled('BTC/USDT', OrderSide.Buy, '1', '65000');
    await h.get(RiskMonitor).tick(); // records the day's start equity (100000) if nothing did yet
    await h.publishPrices({ 'BTC/USDT': '59000', 'ETH/USDT': '3200' }); // 1 BTC down 6000
    const buy = await decide({ symbol: 'ETH/USDT', quantity: '0.01' });
    expect(buy).toMatchObject({ status: 'REJECTED', reason_code: 'DAILY_LOSS_LIMIT' });
    expect(buy.reason).toMatch(
      /^loss today 6000\.00 \(equity 94000\.00 from 100000\.00 at the start of the day\)/,
    );
    const day = await h.pg.query<{ day: string; time_zone: string }>(
      `select to_char(day, 'YYYY-MM-DD') as day, time_zone from risk.daily_equity`,
    );
    const kiritimati = new Intl.DateTimeFormat('en-CA', { timeZone: 'Pacific/Kiritimati' }).format(
      new Date(),
    );
    expect(day.rows).toEqual([{ day: kiritimati, time_zone: 'Pacific/Kiritimati' }]);
    expect(await decide({ side: OrderSide.Sell, quantity: '0.1' })).toMatchObject({ status: 'ACCEPTED' });
  });
});

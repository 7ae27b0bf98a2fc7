import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ControlCommandKind,
  JobName,
  OrderSide,
  type OrderAccepted,
  type OrdersCancelAll,
} from '@desk/contracts';
import { uuidFromHash } from '@desk/platform';
import { waitFor } from '@desk/testing';
import { RISK_ADMIN, RiskHarness } from './risk-harness';

describe('risk: the kill switch, resuming and limits (real Redis and PostgreSQL, own database)', () => {
  let h: RiskHarness;

  beforeAll(async () => {
    h = await RiskHarness.create('riskctl', {
      APPROVAL_NOTIONAL_THRESHOLD: '1000000',
      TRADING_SYMBOLS: 'BTC/USDT,ETH/USDT,SOL/USDT',
    });
    await h.publishPrices({ 'BTC/USDT': '65000', 'ETH/USDT': '3200', 'SOL/USDT': '150' });
  });

  afterAll(async () => {
    await h?.close();
  });

  async function limitsTable(): Promise<Record<string, { value: string; updated_by: string }>> {
    const r = await h.pg.query(`select name, value::float8::text as value, updated_by from risk.limits`);
    return Object.fromEntries(
      (r.rows as { name: string; value: string; updated_by: string }[]).map((row) => [
        row.name,
        { value: row.value, updated_by: row.updated_by },
      ]),
    );
  }

  it('starts ACTIVE, with every limit seeded and still following the defaults', async () => {
    expect(await h.tradingState()).toMatchObject({
      state: 'ACTIVE',
      source: 'initial',
      set_by_type: 'service',
    });
    const limits = await limitsTable();
    expect(Object.keys(limits).sort()).toEqual([
      'daily_loss_limit',
      'max_gross_exposure',
      'max_open_orders',
      'max_order_notional',
      'max_orders_per_day',
      'max_position_share',
      'max_submit_rate_per_symbol',
      'max_submit_rate_total',
      'price_band',
    ]);
    // The migration seeds the same values as the configuration's defaults: nothing was changed at boot.
    expect(Object.values(limits).every((l) => l.updated_by === 'default')).toBe(true);
  });

  it('kill: HALTED at once, persisted with who and why, open orders cancelled at execution, audited', async () => {
    const kill = h.command(ControlCommandKind.Kill, { reason: 'fat finger on BTC' });
    const job = await h.send(kill);
    expect(job.returnvalue).toEqual({ command: 'kill', applied: true, closingOrders: 0 });
    expect(await h.tradingState()).toEqual({
      state: 'HALTED',
      reason: 'fat finger on BTC',
      set_by_type: 'operator',
      set_by_id: RISK_ADMIN.id,
      set_by_key_id: RISK_ADMIN.keyId,
      source: 'kill',
    });
    const cancelAll = await waitFor(() => h.queues.orders.getJob(`${kill.commandId}.cancel_all`), {
      what: 'cancel-all job',
    });
    expect(cancelAll?.name).toBe(JobName.OrdersCancelAll);
    expect(cancelAll?.data as OrdersCancelAll).toMatchObject({
      commandId: kill.commandId,
      reasonCode: 'TRADING_HALTED',
      reason: 'fat finger on BTC',
      actor: RISK_ADMIN,
    });
    const [changed] = await h.auditsEventually((e) => e.action === 'trading.state_changed');
    expect(changed).toMatchObject({
      actor: RISK_ADMIN,
      subject: { type: 'trading-state', id: 'desk' },
      payload: {
        from: 'ACTIVE',
        to: 'HALTED',
        source: 'kill',
        reason: 'fat finger on BTC',
        cancelOpenOrders: true,
      },
    });

    const refused = await h.submit(h.intent({ quantity: '0.01' }));
    expect(await h.decided(refused.intentId)).toMatchObject({
      status: 'REJECTED',
      reason_code: 'TRADING_HALTED',
      reason: 'trading is halted (kill: fat finger on BTC)',
    });
  });

  it('acts on a kill delivered twice once', async () => {
    const kill = h.command(ControlCommandKind.Kill, { reason: 'second drill' });
    await h.send(kill);
    await h.queues.control.add(JobName.ControlCommand, kill, { jobId: `${kill.commandId}-again` });
    const again = await h.settled(h.queues.control, `${kill.commandId}-again`);
    expect(again.returnvalue).toEqual({ command: 'kill', applied: false });
    await h.settle();
    const changes = await h.audits(
      (e) =>
        e.action === 'trading.state_changed' && (e.payload as { reason?: string }).reason === 'second drill',
    );
    expect(changes).toHaveLength(1);
  });

  it('stays HALTED across a restart of the service', async () => {
    await h.stop();
    await h.start();
    expect(await h.tradingState()).toMatchObject({ state: 'HALTED', source: 'kill' });
    const refused = await h.submit(h.intent({ quantity: '0.01' }));
    expect(await h.decided(refused.intentId)).toMatchObject({
      status: 'REJECTED',
      reason_code: 'TRADING_HALTED',
    });
  });

  it('refuses a resume without an approval: the desk stays halted, and the refusal is audited', async () => {
    const resume = h.command(ControlCommandKind.Resume, { reason: 'all clear' });
    const job = await h.send(resume);
    expect(await job.isFailed()).toBe(true);
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(/resume refused: trading.resume without an approval/);
    expect(await h.tradingState()).toMatchObject({ state: 'HALTED' });
    const [refusal] = await h.auditsEventually(
      (e) => e.action === 'control.refused' && e.subject.id === resume.commandId,
    );
    expect(refusal?.payload).toMatchObject({ command: 'resume', requestedBy: RISK_ADMIN });
  });

  it.each([
    [
      'an approval id nobody recorded (forged)',
      async () => h.command(ControlCommandKind.Resume, { approvalId: randomUUID() }),
      /approval [0-9a-f-]+ does not exist/,
    ],
    [
      'an approval of another reason',
      async () => ({
        ...(await h.approvedCommand(ControlCommandKind.Resume, { reason: 'approved reason' })),
        reason: 'another reason',
      }),
      /was given for a different action/,
    ],
    [
      'an approval still pending',
      () => h.approvedCommand(ControlCommandKind.Resume, {}, { status: 'pending', approvers: 1 }),
      /is pending, not executed/,
    ],
    [
      'an approval with one valid approver of two',
      () => h.approvedCommand(ControlCommandKind.Resume, {}, { approvers: 1 }),
      /has 1 valid approvals of 2 required/,
    ],
    [
      'an approval for a limit raise',
      async () => ({
        ...h.command(ControlCommandKind.Resume),
        approvalId: (await h.approvedCommand(ControlCommandKind.SetLimits, { limits: { price_band: '0.5' } }))
          .approvalId,
      }),
      /is for risk.limits.raise, not trading.resume/,
    ],
  ])('refuses a resume carrying %s: still halted, refusal audited', async (_label, make, why) => {
    const resume = await make();
    const job = await h.send(resume);
    expect(await job.isFailed()).toBe(true);
    expect(job.failedReason).toMatch(why);
    expect(job.attemptsMade).toBe(1);
    expect(await h.tradingState()).toMatchObject({ state: 'HALTED' });
    const [refusal] = await h.auditsEventually(
      (e) => e.action === 'control.refused' && e.subject.id === resume.commandId,
    );
    expect(refusal?.payload).toMatchObject({ command: 'resume', approvalId: resume.approvalId });
  });

  it('resumes when the gateway sends the approved resume, and never twice on one approval', async () => {
    const resume = await h.approvedCommand(ControlCommandKind.Resume, { reason: 'all clear' });
    const approvalId = resume.approvalId;
    const job = await h.send(resume);
    expect(job.returnvalue).toEqual({ command: 'resume', applied: true });
    expect(await h.tradingState()).toMatchObject({ state: 'ACTIVE', source: 'resume', reason: 'all clear' });
    await h.auditsEventually(
      (e) =>
        e.action === 'trading.state_changed' &&
        (e.payload as { to?: string; approvalId?: string }).to === 'ACTIVE' &&
        (e.payload as { approvalId?: string }).approvalId === approvalId,
    );
    const accepted = await h.submit(h.intent({ quantity: '0.01' }));
    expect(await h.decided(accepted.intentId)).toMatchObject({ status: 'ACCEPTED' });

    // The same approval replayed after another kill (a command forged from an old one) resumes nothing.
    await h.send(h.command(ControlCommandKind.Kill, { reason: 'kill after resume' }));
    const replay = await h.send({ ...resume, commandId: randomUUID() });
    expect(await replay.isFailed()).toBe(true);
    expect(replay.failedReason).toMatch(/already released command/);
    expect(await h.tradingState()).toMatchObject({ state: 'HALTED', reason: 'kill after resume' });
    await h.send(await h.approvedCommand(ControlCommandKind.Resume, { reason: 'all clear again' }));
    expect(await h.tradingState()).toMatchObject({ state: 'ACTIVE' });
  });

  it('binds a resume approval to the halt it lifts: approved, then a second kill, it lifts nothing', async () => {
    await h.send(h.command(ControlCommandKind.Kill, { reason: 'first halt' }));
    const resume = await h.approvedCommand(ControlCommandKind.Resume, { reason: 'first halt is over' });
    await h.send(
      h.command(ControlCommandKind.Kill, { reason: 'second halt, while approvers were deciding' }),
    );
    const job = await h.send(resume);
    expect(await job.isFailed()).toBe(true);
    expect(job.failedReason).toMatch(/trading state changed since this resume was requested/);
    expect(await h.tradingState()).toMatchObject({
      state: 'HALTED',
      reason: 'second halt, while approvers were deciding',
    });
    const [refusal] = await h.auditsEventually(
      (e) => e.action === 'control.refused' && e.subject.id === resume.commandId,
    );
    expect(refusal?.payload).toMatchObject({ command: 'resume', approvalId: resume.approvalId });
    // A forger cannot rebind the approval to the new halt: the version is part of what was approved.
    const rebound = await h.send({
      ...resume,
      commandId: randomUUID(),
      stateVersion: (await h.versions()).state,
    });
    expect(rebound.failedReason).toMatch(/was given for a different action/);
    await h.send(await h.approvedCommand(ControlCommandKind.Resume, { reason: 'second halt is over' }));
    expect(await h.tradingState()).toMatchObject({ state: 'ACTIVE' });
  });

  it('binds a limit raise to the limits it was asked against: any change in between voids it', async () => {
    const raise = await h.approvedCommand(ControlCommandKind.SetLimits, {
      limits: { max_orders_per_day: '2000' },
    });
    await h.send(h.command(ControlCommandKind.SetLimits, { limits: { price_band: '0.04' } }));
    const job = await h.send(raise);
    expect(await job.isFailed()).toBe(true);
    expect(job.failedReason).toMatch(/the limits changed since this raise was requested/);
    expect((await limitsTable()).max_orders_per_day?.value).toBe('1000');
    await h.send(await h.approvedCommand(ControlCommandKind.SetLimits, { limits: { price_band: '0.05' } }));
    expect((await limitsTable()).price_band?.value).toBe('0.05');
  });

  it('applies a lower limit at once, audits old and new values, and keeps it across a restart', async () => {
    const cut = h.command(ControlCommandKind.SetLimits, {
      reason: 'smaller clips today',
      limits: { max_order_notional: '5000', price_band: '0.02' },
    });
    expect((await h.send(cut)).returnvalue).toEqual({ command: 'limits.set', applied: true });
    expect(await limitsTable()).toMatchObject({
      max_order_notional: { value: '5000', updated_by: RISK_ADMIN.id },
      price_band: { value: '0.02', updated_by: RISK_ADMIN.id },
      max_orders_per_day: { value: '1000', updated_by: 'default' },
    });
    const [changed] = await h.auditsEventually(
      (e) => e.action === 'risk.limits_changed' && e.actor.id === RISK_ADMIN.id,
    );
    expect(changed?.payload).toEqual({
      changes: {
        max_order_notional: { from: '50000', to: '5000' },
        price_band: { from: '0.05', to: '0.02' },
      },
      reason: 'smaller clips today',
      commandId: cut.commandId,
    });

    // The environment still says 50000; the table wins after a restart.
    await h.stop();
    await h.start();
    expect((await limitsTable()).max_order_notional).toEqual({ value: '5000', updated_by: RISK_ADMIN.id });
    const big = await h.submit(h.intent({ quantity: '0.1' })); // 6500 at 65000
    expect(await h.decided(big.intentId)).toMatchObject({
      status: 'REJECTED',
      reason_code: 'MAX_NOTIONAL_EXCEEDED',
      reason: expect.stringMatching(/exceeds max 5000 /),
    });
  });

  it('refuses to raise a limit without an approval, and raises it with one', async () => {
    const raise = h.command(ControlCommandKind.SetLimits, { limits: { max_order_notional: '60000' } });
    const refused = await h.send(raise);
    expect(await refused.isFailed()).toBe(true);
    expect(refused.failedReason).toMatch(/raising max_order_notional needs an approval/);
    expect((await limitsTable()).max_order_notional?.value).toBe('5000');

    const forged = await h.send({ ...raise, commandId: randomUUID(), approvalId: randomUUID() });
    expect(forged.failedReason).toMatch(/does not exist/);
    const otherValue = await h.approvedCommand(ControlCommandKind.SetLimits, {
      limits: { max_order_notional: '60000' },
    });
    const tampered = await h.send({
      ...otherValue,
      commandId: randomUUID(),
      limits: { max_order_notional: '900000' },
    });
    expect(tampered.failedReason).toMatch(/was given for a different action/);
    expect((await limitsTable()).max_order_notional?.value).toBe('5000');

    expect((await h.send(otherValue)).returnvalue).toEqual({ command: 'limits.set', applied: true });
    expect((await limitsTable()).max_order_notional?.value).toBe('60000');
  });

  it('refuses an unknown limit terminally, changing nothing, and audits it', async () => {
    const bad = h.command(ControlCommandKind.SetLimits, {
      limits: { max_leverage: '2', price_band: '0.01' },
    });
    const job = await h.send(bad);
    expect(await job.isFailed()).toBe(true);
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(/unknown limit "max_leverage"/);
    expect((await limitsTable()).price_band?.value).toBe('0.02');
    const [refusal] = await h.auditsEventually(
      (e) => e.action === 'control.refused' && e.subject.id === bad.commandId,
    );
    expect(refusal?.payload).toMatchObject({
      command: 'limits.set',
      limits: { max_leverage: '2', price_band: '0.01' },
    });
  });

  it('kill with flatten closes every position with reduce-only market orders, each audited', async () => {
    await h.filled('BTC/USDT', OrderSide.Buy, '0.3', '64000');
    await h.filled('ETH/USDT', OrderSide.Sell, '2', '3300');
    await h.filled('SOL/USDT', OrderSide.Buy, '4', '150');
    await h.filled('SOL/USDT', OrderSide.Sell, '4', '151'); // flat: nothing to close

    const kill = h.command(ControlCommandKind.Kill, { reason: 'venue outage', flatten: true });
    expect((await h.send(kill)).returnvalue).toEqual({ command: 'kill', applied: true, closingOrders: 2 });
    expect(await h.tradingState()).toMatchObject({ state: 'HALTED', reason: 'venue outage' });

    const closes = new Map<string, OrderAccepted>();
    for (const symbol of ['BTC/USDT', 'ETH/USDT']) {
      const id = uuidFromHash(`kill.flatten:${kill.commandId}:${symbol}`);
      const job = await waitFor(() => h.queues.orders.getJob(id), { what: `closing order for ${symbol}` });
      closes.set(symbol, job.data as OrderAccepted);
      expect(await h.decided(id)).toMatchObject({ status: 'ACCEPTED', source: 'risk', reduce_only: true });
    }
    expect(closes.get('BTC/USDT')).toMatchObject({
      actor: RISK_ADMIN,
      reduceOnly: true,
      order: { symbol: 'BTC/USDT', side: 'sell', type: 'market', quantity: '0.3' },
    });
    expect(closes.get('ETH/USDT')).toMatchObject({
      reduceOnly: true,
      order: { symbol: 'ETH/USDT', side: 'buy', type: 'market', quantity: '2' },
    });
    const flattenIds = [...closes.values()].map((c) => c.intentId);
    const accepted = await h.auditsEventually(
      (e) => e.action === 'order.accepted' && flattenIds.includes(e.subject.id),
      2,
    );
    expect(accepted[0]?.payload).toMatchObject({
      origin: 'kill.flatten',
      reduceOnly: true,
      reason: 'venue outage',
    });
  });

  it('enables live trading on a venue only with its approval; then every order is critical; off at once', async () => {
    await h.send(await h.approvedCommand(ControlCommandKind.Resume, { reason: 'venue drill' }));
    const small = () => h.submit(h.intent({ quantity: '0.01' })); // 650: far below the threshold
    expect(await h.decided((await small()).intentId)).toMatchObject({ status: 'ACCEPTED' });

    const unapproved = h.command(ControlCommandKind.EnableLiveVenue, { venue: 'binance', reason: 'go live' });
    const refused = await h.send(unapproved);
    expect(refused.failedReason).toMatch(/venue.live without an approval/);
    const paper = await h.approvedCommand(ControlCommandKind.EnableLiveVenue, {
      venue: 'paper',
      reason: 'go live',
    });
    expect((await h.send(paper)).failedReason).toMatch(/the paper venue never trades real money/);
    const otherVenue = await h.approvedCommand(ControlCommandKind.EnableLiveVenue, {
      venue: 'kraken',
      reason: 'go live',
    });
    expect((await h.send({ ...otherVenue, venue: 'binance' })).failedReason).toMatch(/different action/);
    expect((await h.pg.query(`select * from risk.venues`)).rows).toEqual([]);

    const enable = await h.approvedCommand(ControlCommandKind.EnableLiveVenue, {
      venue: 'binance',
      reason: 'go live',
    });
    expect((await h.send(enable)).returnvalue).toEqual({ command: 'venue.live.enable', applied: true });
    expect((await h.pg.query(`select venue, live, approval_id from risk.venues`)).rows).toEqual([
      { venue: 'binance', live: true, approval_id: enable.approvalId },
    ]);
    const [enabled] = await h.auditsEventually((e) => e.action === 'venue.live_enabled');
    expect(enabled).toMatchObject({
      actor: RISK_ADMIN,
      subject: { type: 'venue', id: 'binance' },
      payload: { venue: 'binance', live: true, wasLive: false, approvalId: enable.approvalId },
    });
    const held = await small();
    expect(await h.decided(held.intentId)).toMatchObject({
      status: 'PENDING_APPROVAL',
      reason_code: 'APPROVAL_REQUIRED',
      reason: expect.stringMatching(/the venue is live/),
    });

    const disable = h.command(ControlCommandKind.DisableLiveVenue, { venue: 'binance', reason: 'enough' });
    expect((await h.send(disable)).returnvalue).toEqual({ command: 'venue.live.disable', applied: true });
    expect((await h.pg.query(`select live from risk.venues where venue = 'binance'`)).rows).toEqual([
      { live: false },
    ]);
    await h.auditsEventually(
      (e) => e.action === 'venue.live_disabled' && e.subject.id === 'binance' && e.actor.id === RISK_ADMIN.id,
    );
    expect(await h.decided((await small()).intentId)).toMatchObject({ status: 'ACCEPTED' });
  });
});

import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  AuditAction,
  IntentSource,
  JobName,
  MARKET_CATALOG,
  OrderType,
  SCHEMA_VERSION,
  ServiceName,
  money,
  serviceActor,
  toWire,
  type AgentRun,
  type MarketSpec,
  type Money,
} from '@desk/contracts';
import {
  MarketPriceStore,
  Outbox,
  UnverifiedJobError,
  marketPriceProblem,
  uuidFromHash,
} from '@desk/platform';
import { AGENT_ANALYSIS_CONFIG, type AgentAnalysisConfig } from '../../config';
import type { Candle } from '../market-feed/candle';
import { MARKET_FEED, type MarketFeed } from '../market-feed/market-feed';
import { AGENT_NAMES, type Agent, type AgentName, type Signal } from './agent';
import { AgentsRepository } from './agents.repository';
import { decide, type Decision } from './blend';
import { MeanReversionAgent } from './mean-reversion.agent';
import { TrendAgent } from './trend.agent';
import { VolatilityAgent } from './volatility.agent';

/** correlationId of the scheduler's job template; such runs use their own run id as correlation id instead. */
export const SCHEDULED_RUN_CORRELATION = 'agent-schedule';

/** The BullMQ job scheduler that fires the runs; its jobs' ids are `repeat:<id>:<slot millis>`. */
export const AGENT_SCHEDULER_ID = 'agent-run';

/** How far a slot may lie ahead of this clock (Redis and the worker's clocks may differ a little). */
const SLOT_CLOCK_SKEW_MS = 5000;

interface Evaluation {
  market: MarketSpec;
  price: Money;
  /** The venue's time of that price (the last candle's close). */
  at: Date;
  signals: Signal[];
}

export interface RunResult {
  runId: string;
  symbols: number;
  intents: number;
}

/**
 * One agent run: advance the market feed, publish the last prices, let every agent judge every symbol,
 * blend their convictions and, when strong enough, submit an order intent to risk. Signals, the decision,
 * the intent and the audit events are written in one transaction.
 */
@Injectable()
export class AgentRunService {
  private readonly logger = new Logger(AgentRunService.name);
  private readonly actor = serviceActor(ServiceName.AgentAnalysis);
  private readonly agents: readonly Agent[] = [
    new TrendAgent(),
    new MeanReversionAgent(),
    new VolatilityAgent(),
  ];
  private readonly weights: Record<AgentName, Money>;
  private readonly threshold: Money;
  private readonly maxNotional: Money;

  constructor(
    @Inject(AGENT_ANALYSIS_CONFIG) private readonly config: AgentAnalysisConfig,
    @Inject(MARKET_FEED) private readonly feed: MarketFeed,
    @Inject(MarketPriceStore) private readonly prices: MarketPriceStore,
    @Inject(AgentsRepository) private readonly repository: AgentsRepository,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {
    this.weights = Object.fromEntries(AGENT_NAMES.map((n) => [n, money(config.AGENT_WEIGHTS[n])])) as Record<
      AgentName,
      Money
    >;
    this.threshold = money(config.AGENT_CONVICTION_THRESHOLD);
    this.maxNotional = money(config.AGENT_MAX_ORDER_NOTIONAL);
  }

  /**
   * A run the schedule allows, or none (docs/adr/0016): the job must be the configured scheduler's (job id
   * `repeat:agent-run:<slot>`, its template's correlation id), its slot not in the future, and at least one
   * AGENT_SCHEDULE_MS after every slot run before (agents.run_slots): so a forged run job — another id, an
   * extra slot, a replayed old one — is refused (UnverifiedJobError) before the feed moves or anything is
   * written, and the agents trade no more often than their schedule. A redelivered job runs again
   * (recording nothing twice).
   */
  async scheduled(job: AgentRun, jobId: string): Promise<RunResult> {
    const slot = /^repeat:(.+):(\d{1,15})$/.exec(jobId);
    if (!slot || slot[1] !== AGENT_SCHEDULER_ID)
      throw new UnverifiedJobError(`job ${jobId} is not a run of the scheduler ${AGENT_SCHEDULER_ID}`);
    if (job.correlationId !== SCHEDULED_RUN_CORRELATION)
      throw new UnverifiedJobError(`the scheduler's runs carry no correlation id ${job.correlationId}`);
    const millis = Number(slot[2]);
    if (millis > Date.now() + SLOT_CLOCK_SKEW_MS)
      throw new UnverifiedJobError(`slot ${new Date(millis).toISOString()} is still to come`);
    const claim = await this.repository.claimRunSlot(millis, jobId, this.config.AGENT_SCHEDULE_MS);
    if (typeof claim === 'object') {
      throw new UnverifiedJobError(
        `slot ${millis} is less than ${this.config.AGENT_SCHEDULE_MS} ms after slot ${claim.latest} ` +
          `(run by ${claim.jobId}), or before it`,
      );
    }
    return this.run(job, jobId);
  }

  /** `jobId` makes the run id: a redelivered run job records nothing twice. */
  async run(job: AgentRun, jobId: string): Promise<RunResult> {
    const runId = uuidFromHash(`agent.run:${jobId}`);
    const correlationId = job.correlationId === SCHEDULED_RUN_CORRELATION ? runId : job.correlationId;
    const candles = await this.feed.next();
    const now = new Date();
    const evaluations = [...candles].flatMap(([symbol, list]) => this.evaluate(symbol, list, now));
    if (evaluations.length === 0) {
      this.logger.warn({ feed: this.feed.kind }, 'market feed returned no usable candles; nothing to do');
      return { runId, symbols: 0, intents: 0 };
    }
    // Prices first: risk values the intent against the price the agents saw, as of the venue's time.
    await this.prices.publish(
      evaluations.map((e) => ({ symbol: e.market.symbol, price: e.price, at: e.at })),
      now,
    );

    const intents = await this.repository.transaction(async (tx) => {
      const cooling = await this.repository.symbolsInCooldown(tx, this.config.AGENT_COOLDOWN_MS);
      let emitted = 0;
      for (const e of evaluations) {
        const decision = decide({
          signals: e.signals,
          weights: this.weights,
          threshold: this.threshold,
          maxNotional: this.maxNotional,
          price: e.price,
          market: e.market,
          tradingEnabled: this.config.AGENT_TRADING_ENABLED,
          inCooldown: cooling.has(e.market.symbol),
        });
        if (await this.record(tx, runId, correlationId, e, decision)) emitted++;
      }
      return emitted;
    });
    void this.outbox.flush();
    this.logger.debug({ runId, symbols: evaluations.length, intents }, 'agent run done');
    return { runId, symbols: evaluations.length, intents };
  }

  /**
   * A symbol whose last price cannot be trusted (zero, negative, not finite, dated in the future) is
   * refused here: neither published nor judged by the agents. An old price is published with its own
   * time, so every reader sees how old it is.
   */
  private evaluate(symbol: string, candles: readonly Candle[], now: Date): Evaluation[] {
    const market = MARKET_CATALOG.find((m) => m.symbol === symbol);
    const last = candles.at(-1);
    if (!market || !last) return [];
    const problem = marketPriceProblem({ price: last.close, at: last.closedAt }, now);
    if (problem) {
      this.logger.warn({ feed: this.feed.kind, symbol, problem }, 'market price refused');
      return [];
    }
    return [
      { market, price: last.close, at: last.closedAt, signals: this.agents.map((a) => a.evaluate(candles)) },
    ];
  }

  /** Writes one symbol's decision; returns true when it emitted an intent. */
  private async record(
    tx: EntityManager,
    runId: string,
    correlationId: string,
    e: Evaluation,
    d: Decision,
  ): Promise<boolean> {
    const symbol = e.market.symbol;
    const intentId = d.outcome === 'intent' ? randomUUID() : null;
    // The decision keeps the order it emits: risk checks the intent against it (agents.intent_sources).
    const order =
      d.outcome === 'intent'
        ? { symbol, side: d.side, type: OrderType.Market, quantity: toWire(d.quantity) }
        : null;
    const fresh = await this.repository.insertDecision(tx, {
      runId,
      symbol,
      blend: d.blend,
      intentId,
      outcome: d.outcome,
      order,
    });
    if (!fresh) return false;
    await this.repository.insertSignals(tx, runId, symbol, e.price, e.signals);
    const now = new Date().toISOString();
    const blend = d.blend ? toWire(d.blend) : null;
    await this.outbox.add(tx, JobName.AuditEvent, {
      schemaVersion: SCHEMA_VERSION,
      eventId: uuidFromHash(`${AuditAction.SignalEmitted}:${runId}:${symbol}`),
      occurredAt: now,
      actor: this.actor,
      action: AuditAction.SignalEmitted,
      subject: { type: 'market', id: symbol },
      payload: {
        runId,
        symbol,
        price: toWire(e.price),
        signals: e.signals.map((s) => ({
          agent: s.agent,
          direction: s.direction,
          conviction: s.conviction ? toWire(s.conviction) : null,
          rationale: s.rationale,
        })),
        blend,
        outcome: d.outcome,
        intentId,
      },
      correlationId,
    });
    if (d.outcome !== 'intent' || !intentId || !order) return false;

    await this.outbox.add(tx, JobName.IntentSubmitted, {
      schemaVersion: SCHEMA_VERSION,
      correlationId,
      intentId,
      source: IntentSource.Agent,
      actor: this.actor,
      order,
      submittedAt: now,
    });
    await this.outbox.add(tx, JobName.AuditEvent, {
      schemaVersion: SCHEMA_VERSION,
      eventId: uuidFromHash(`${AuditAction.IntentEmitted}:${intentId}`),
      occurredAt: now,
      actor: this.actor,
      action: AuditAction.IntentEmitted,
      subject: { type: 'order', id: intentId },
      payload: {
        runId,
        ...order,
        blend,
        price: toWire(e.price),
        notional: toWire(d.quantity.times(e.price)),
      },
      correlationId,
    });
    return true;
  }
}

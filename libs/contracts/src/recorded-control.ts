import type { Actor } from './jobs';
import { money } from './money';
import { actorDifferences } from './recorded-order';

/**
 * A control command as the gateway recorded it when it issued it (gateway.control_sources), against which
 * risk checks a `control.command` job: a job is never its own evidence (docs/adr/0010).
 */
export interface RecordedControlCommand {
  readonly command: string;
  readonly actor: Actor;
  readonly reason: string;
  readonly flatten?: boolean;
  readonly limits?: Readonly<Record<string, string>>;
  readonly venue?: string;
  readonly approvalId?: string;
  readonly stateVersion?: string;
  readonly limitsVersion?: string;
}

/**
 * Where a job's command differs from the recorded one, field by field. Limits are compared as decimals
 * ("0.10" equals "0.1"), never as JavaScript numbers; a missing flatten is false.
 */
export function controlCommandDifferences(
  recorded: RecordedControlCommand,
  claimed: RecordedControlCommand,
): string[] {
  const out = actorDifferences(recorded.actor, claimed.actor);
  const differs = (field: string, a: string | boolean | undefined, b: string | boolean | undefined) =>
    out.push(`${field}: ${String(b ?? '(none)')} ≠ recorded ${String(a ?? '(none)')}`);
  if (recorded.command !== claimed.command) differs('command', recorded.command, claimed.command);
  if (recorded.reason !== claimed.reason) differs('reason', recorded.reason, claimed.reason);
  if ((recorded.flatten ?? false) !== (claimed.flatten ?? false))
    differs('flatten', recorded.flatten ?? false, claimed.flatten ?? false);
  if ((recorded.venue ?? null) !== (claimed.venue ?? null)) differs('venue', recorded.venue, claimed.venue);
  if ((recorded.approvalId ?? null) !== (claimed.approvalId ?? null))
    differs('approvalId', recorded.approvalId, claimed.approvalId);
  if ((recorded.stateVersion ?? null) !== (claimed.stateVersion ?? null))
    differs('stateVersion', recorded.stateVersion, claimed.stateVersion);
  if ((recorded.limitsVersion ?? null) !== (claimed.limitsVersion ?? null))
    differs('limitsVersion', recorded.limitsVersion, claimed.limitsVersion);
  const a = recorded.limits ?? {};
  const b = claimed.limits ?? {};
  for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[name];
    const y = b[name];
    if (x === undefined || y === undefined ? x !== y : !money(x).eq(money(y)))
      differs(`limits.${name}`, x, y);
  }
  return out;
}

/**
 * A cancel-all as risk recorded it when it halted the desk (risk.cancel_all_sources), against which
 * execution checks an `orders.cancel_all` job.
 */
export interface RecordedCancelAll {
  readonly actor: Actor;
  readonly reasonCode: string;
  readonly reason: string;
}

/** Where a job's cancel-all differs from the recorded one (actor, reason code and reason, exactly). */
export function cancelAllDifferences(recorded: RecordedCancelAll, claimed: RecordedCancelAll): string[] {
  const out = actorDifferences(recorded.actor, claimed.actor);
  if (recorded.reasonCode !== claimed.reasonCode)
    out.push(`reasonCode: ${claimed.reasonCode} ≠ recorded ${recorded.reasonCode}`);
  if (recorded.reason !== claimed.reason) out.push(`reason: ${claimed.reason} ≠ recorded ${recorded.reason}`);
  return out;
}

import { createHash } from 'node:crypto';
import type { OrderParams } from './orders';

/** JSON with object keys sorted and undefined dropped: the same value always serialises the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Kinds of critical action held for the two-man rule. Never rename a value. */
export enum ApprovalKind {
  Order = 'order',
  TradingResume = 'trading.resume',
  RaiseLimits = 'risk.limits.raise',
  EnableLiveVenue = 'venue.live',
  /** A key with any role beyond viewer (trader, approver, risk-admin, admin), registered by its digest. */
  KeyGrant = 'key.grant',
  /** A new operator (a person who can then be granted keys). */
  OperatorCreate = 'operator.create',
}

/** SHA-256 (hex) of an action's canonical form: what approvers approve, and what must still match at execution. */
export function actionHash(kind: ApprovalKind, action: unknown): string {
  return createHash('sha256')
    .update(`${kind}\n${canonicalJson(action)}`)
    .digest('hex');
}

/** The approved form of a critical order: its id and its exact parameters. */
export function orderAction(intentId: string, order: OrderParams): { intentId: string; order: OrderParams } {
  return { intentId, order };
}

/**
 * The approved form of resuming trading: it names the halt it lifts by the trading state's version when it
 * was requested, so an approval given for one halt can never lift a later one.
 */
export function resumeAction(
  reason: string,
  stateVersion: string,
): { command: 'resume'; reason: string; stateVersion: string } {
  return { command: 'resume', reason, stateVersion };
}

/**
 * The approved form of a limit change that raises risk: every new value, by limit name, and the version of
 * the limits it was asked against (any change in between voids it).
 */
export function limitsAction(
  limits: Record<string, string>,
  reason: string,
  limitsVersion: string,
): { limits: Record<string, string>; reason: string; limitsVersion: string } {
  return { limits, reason, limitsVersion };
}

/** The approved form of letting a venue trade real money. */
export function liveVenueAction(venue: string, reason: string): { venue: string; reason: string } {
  return { venue, reason };
}

/** A row of gateway.approval_validity: an approval as the services that act on it must check it. */
export interface ApprovalRow {
  readonly id: string;
  readonly kind: string;
  readonly subjectId: string;
  readonly actionHash: string;
  readonly status: string;
  readonly requiredApprovals: number;
  readonly validApprovals: number;
}

/**
 * Why an approval does not release this exact action (undefined when it does). It must exist, be of the
 * expected kind (and for the expected subject, when there is one), be executed, carry the hash of exactly
 * this action, and still have enough valid approvals (approvers whose key and operator are still active).
 * A service acting on a job that claims approval checks the record itself with this: a claim is never
 * enough.
 */
export function approvalProblem(
  row: ApprovalRow | undefined,
  expected: { approvalId: string | undefined; kind: ApprovalKind; subjectId?: string; actionHash: string },
): string | undefined {
  const isOrder = expected.kind === ApprovalKind.Order;
  if (!expected.approvalId) return `${isOrder ? 'critical order' : expected.kind} without an approval`;
  if (!row) return `approval ${expected.approvalId} does not exist`;
  if (row.kind !== String(expected.kind))
    return `approval ${row.id} is for ${row.kind}, not ${isOrder ? 'an order' : expected.kind}`;
  if (expected.subjectId !== undefined && row.subjectId !== expected.subjectId)
    return `approval ${row.id} is for another ${isOrder ? 'order' : expected.kind} (${row.subjectId})`;
  if (row.status !== 'executed') return `approval ${row.id} is ${row.status}, not executed`;
  if (row.actionHash !== expected.actionHash)
    return `approval ${row.id} was given for ${isOrder ? 'different order parameters' : 'a different action'}`;
  if (row.validApprovals < row.requiredApprovals)
    return `approval ${row.id} has ${row.validApprovals} valid approvals of ${row.requiredApprovals} required`;
  return undefined;
}

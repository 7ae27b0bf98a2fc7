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
  AdminKey = 'key.admin',
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

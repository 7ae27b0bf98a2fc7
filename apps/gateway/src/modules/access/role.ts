/** What a key may do. Never rename a value: keys in the database carry them. */
export enum Role {
  /** Read everything. Every other role can read too. */
  Viewer = 'viewer',
  /** Submit and cancel orders. */
  Trader = 'trader',
  /** Decide approval requests (two-man rule). */
  Approver = 'approver',
  /** Kill switch, risk limits. */
  RiskAdmin = 'risk-admin',
  /** Operators and keys. */
  Admin = 'admin',
}

export const ALL_ROLES: readonly Role[] = Object.values(Role);

/**
 * Whether a key with `held` roles may use an endpoint that requires `required`. Roles do not imply each
 * other (an admin cannot trade, a trader cannot approve): separation of duties. Reading is the exception:
 * any role may read.
 */
export function grants(held: readonly Role[], required: Role): boolean {
  return held.includes(required) || (required === Role.Viewer && held.length > 0);
}

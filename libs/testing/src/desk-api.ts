import { randomUUID } from 'node:crypto';

/** What the gateway answered: the status (0 when nothing answered) and the parsed JSON body. */
export interface DeskResponse {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read whatever the API returned
  body: any;
}

/**
 * One call to the desk's REST API as an operator makes it: bearer key, and a fresh idempotency key on every
 * request with a body. A connection the gateway refused or dropped answers status 0.
 */
export async function deskRequest(
  baseUrl: string,
  key: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<DeskResponse> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json', 'idempotency-key': randomUUID() }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch(() => undefined);
  if (!res) return { status: 0, body: undefined };
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

/**
 * The environment for end-to-end runs that place the test's own orders: fresh prices for the fills, agents
 * not trading, notional limits and the API's rate limits out of the way (not under test there).
 */
export const E2E_OWN_ORDERS_ENV: Readonly<Record<string, string>> = {
  AGENT_SCHEDULE_MS: '1000',
  AGENT_TRADING_ENABLED: 'false',
  RISK_MAX_ORDER_NOTIONAL: '100000',
  EXECUTION_TICK_MS: '200',
  THROTTLE_LIMIT: '100000',
  THROTTLE_IP_LIMIT: '100000',
  THROTTLE_ORDER_LIMIT: '1000',
};

import { Command, InvalidArgumentError } from 'commander';

/**
 * The console's trading commands: unlike its set-up commands (which act as `gateway-console` straight on the
 * database), these call the gateway's REST API with the operator's own key, so every cancel is attributed to
 * a person, checked for their role and audited exactly as if they had used the API.
 *
 * The key is read from DESK_API_KEY and nowhere else: a flag would land in shell history and in `ps`. It is
 * sent only in the Authorization header and never printed, not even in an error.
 */
export const API_KEY_ENV = 'DESK_API_KEY';

/** A failure the console reports on stderr and turns into its exit code (2: refused; 1: server or network). */
export class ApiCommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
    this.name = 'ApiCommandError';
  }
}

interface ApiOptions {
  apiUrl: string;
}

function defaultApiUrl(): string {
  return `http://127.0.0.1:${process.env.GATEWAY_PORT ?? '3000'}`;
}

function apiUrlOption(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('must be a URL such as http://127.0.0.1:3000');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidArgumentError('must be an http:// or https:// URL');
  if (url.username || url.password) throw new InvalidArgumentError('must not carry credentials');
  return value.replace(/\/+$/, '');
}

function positiveInt(value: string): number {
  if (!/^[0-9]{1,3}$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
}

interface ApiErrorBody {
  error?: { code?: unknown; message?: unknown; details?: { field?: unknown; reason?: unknown }[] };
}

/** The API's error, as the console's own errors read: "CODE: message" and one line per field problem. */
function describeError(status: number, body: unknown): string {
  const error = (body as ApiErrorBody | undefined)?.error;
  if (!error || typeof error.message !== 'string') return `HTTP ${status}`;
  const details = Array.isArray(error.details)
    ? error.details.map((d) => `\n  - ${String(d.field)}: ${String(d.reason)}`).join('')
    : '';
  return `${String(error.code)}: ${error.message}${details}`;
}

/** One call to the gateway as the operator whose key is in DESK_API_KEY; resolves with the JSON body. */
export async function callApi(
  options: ApiOptions,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<unknown> {
  const key = process.env[API_KEY_ENV];
  if (!key) {
    throw new ApiCommandError(
      `${API_KEY_ENV} is not set: export your own API key in it (never pass a key as a flag)`,
      2,
    );
  }
  let res: Response;
  try {
    res = await fetch(`${options.apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error);
    throw new ApiCommandError(`could not reach the gateway at ${options.apiUrl}: ${cause}`, 1);
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) throw new ApiCommandError(describeError(res.status, parsed), res.status < 500 ? 2 : 1);
  return parsed;
}

function print(result: unknown): void {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

function withApiUrl(command: Command): Command {
  return command.option('--api-url <url>', 'the gateway to call', apiUrlOption, defaultApiUrl());
}

/** Adds `orders cancel`, `orders cancel-all`, `balances` and `reconciliation` to the console. */
export function registerApiCommands(program: Command): void {
  const orders = program
    .command('orders')
    .description(`orders, as the operator whose API key is in ${API_KEY_ENV}`);
  withApiUrl(orders.command('cancel <orderId>'))
    .description('cancel an order (trader role): execution cancels it at the venue')
    .action(async (orderId: string, o: ApiOptions) =>
      print(await callApi(o, 'DELETE', `/v1/orders/${encodeURIComponent(orderId)}`)),
    );
  withApiUrl(orders.command('cancel-all'))
    .description('cancel every working order of a symbol (trader role)')
    .requiredOption('--symbol <symbol>', 'e.g. BTC/USDT')
    .action(async (o: ApiOptions & { symbol: string }) =>
      print(await callApi(o, 'POST', '/v1/orders/cancel-all', { symbol: o.symbol })),
    );

  withApiUrl(program.command('balances'))
    .description(`balances per venue and asset, as execution last read them (key in ${API_KEY_ENV})`)
    .option('--venue <venue>', 'only this venue')
    .option('--asset <asset>', 'only this asset, e.g. USDT')
    .action(async (o: ApiOptions & { venue?: string; asset?: string }) => {
      const query = new URLSearchParams();
      if (o.venue !== undefined) query.set('venue', o.venue);
      if (o.asset !== undefined) query.set('asset', o.asset);
      const qs = query.toString();
      print(await callApi(o, 'GET', `/v1/balances${qs ? `?${qs}` : ''}`));
    });

  withApiUrl(program.command('reconciliation'))
    .description(`the latest reconciliations with the venues, newest first (key in ${API_KEY_ENV})`)
    .option('--limit <n>', 'how many (1-100)', positiveInt, 20)
    .action(async (o: ApiOptions & { limit: number }) =>
      print(await callApi(o, 'GET', `/v1/reconciliations?limit=${o.limit}`)),
    );
}

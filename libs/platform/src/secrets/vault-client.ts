import createVault from 'node-vault';
import type NodeVault from 'node-vault';

/** How a service proves itself to Vault. */
export type VaultAuth =
  { kind: 'token'; token: string } | { kind: 'approle'; roleId: string; secretId: string; mount: string };

export interface VaultClientOptions {
  /** e.g. https://vault.internal:8200 */
  address: string;
  auth: VaultAuth;
  /** The KV v2 secrets engine's mount (`secret`). */
  kvMount: string;
  /** Folder under the mount holding the desk's secrets (`desk`): paths are `<kvPrefix>/<service>/<name>`. */
  kvPrefix: string;
  /** Every HTTP call to Vault gives up after this long. */
  timeoutMs: number;
  /** A secret read is served from memory this long before Vault is asked again. */
  cacheTtlMs: number;
  /** The token is renewed when this fraction of its TTL has passed (default 2/3). */
  renewFraction?: number;
  /** Where the client reports renewals, re-logins and stale reads (never a token or a value). */
  log?: VaultLog;
}

export interface VaultLog {
  info(msg: string, detail?: Record<string, unknown>): void;
  warn(msg: string, detail?: Record<string, unknown>): void;
}

/** One KV v2 secret: its key/value pairs (`data.data`) and its version (`data.metadata.version`). */
export interface KvSecret {
  data: Record<string, string>;
  version: number;
}

/** Why a Vault call failed, without the request (which carries the token) or the response body. */
export class VaultError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'VaultError';
  }
}

interface TokenAuthInfo {
  /** Seconds the token lives from now. 0: it never expires (a root token). */
  ttl: number;
  renewable: boolean;
}

const NOOP_LOG: VaultLog = { info: () => undefined, warn: () => undefined };

/**
 * Vault, as the desk uses it: KV v2 reads with a cache, behind a token that is kept alive. node-vault does
 * the HTTP (its generated `approleLogin`, `tokenLookupSelf`, `tokenRenewSelf`, `read`); this class adds what
 * it lacks (docs/adr/0017-secrets-from-vault.md): a timeout on every call, a renewal loop that logs in
 * again when a renewal fails or the token reaches its maximum TTL, one login at a time, a TTL cache that
 * serves the last good value when Vault is briefly down, and errors that never carry the token.
 */
export class VaultClient {
  private readonly vault: NodeVault.client;
  private readonly cache = new Map<string, { secret: KvSecret; fetchedAt: number }>();
  private readonly log: VaultLog;
  private renewTimer: NodeJS.Timeout | undefined;
  private login: Promise<void> | undefined;
  private closed = false;
  /** How many times the client logged in (AppRole) or looked its token up: tests and the readiness detail. */
  logins = 0;
  renewals = 0;

  constructor(private readonly options: VaultClientOptions) {
    this.log = options.log ?? NOOP_LOG;
    this.vault = createVault({
      endpoint: options.address,
      token: options.auth.kind === 'token' ? options.auth.token : undefined,
      // node-vault spreads requestOptions into every call, generated commands included; axios enforces it.
      requestOptions: { timeout: options.timeoutMs },
    });
  }

  /** Authenticates (AppRole login, or a lookup of the given token) and starts keeping the token alive. */
  async connect(): Promise<void> {
    await this.authenticate();
  }

  /** Reads `<kvPrefix>/<path>` from the KV v2 engine, from the cache while it is fresh. */
  async read(path: string, options: { fresh?: boolean } = {}): Promise<KvSecret> {
    const cached = this.cache.get(path);
    if (!options.fresh && cached && Date.now() - cached.fetchedAt < this.options.cacheTtlMs) {
      return cached.secret;
    }
    try {
      const secret = await this.fetch(path);
      this.cache.set(path, { secret, fetchedAt: Date.now() });
      return secret;
    } catch (error) {
      if (cached) {
        // A short Vault outage must not take the desk down: the last good value is still the best one.
        this.log.warn('vault read failed; serving the cached secret', { path, error: describe(error) });
        return cached.secret;
      }
      throw error;
    }
  }

  close(): void {
    this.closed = true;
    if (this.renewTimer) clearTimeout(this.renewTimer);
    this.renewTimer = undefined;
  }

  private async fetch(path: string, retried = false): Promise<KvSecret> {
    if (this.login) await this.login;
    const full = `${this.options.kvMount}/data/${this.options.kvPrefix}/${path}`;
    let body: unknown;
    try {
      body = await this.call(() => this.vault.read(full));
    } catch (error) {
      // A token revoked or expired behind our back: one fresh login (AppRole can), then once more.
      if (!retried && error instanceof VaultError && error.status === 403 && this.canLogIn()) {
        this.log.warn('vault refused the token; logging in again', { path });
        await this.authenticate();
        return this.fetch(path, true);
      }
      throw error;
    }
    const data = (body as { data?: { data?: unknown; metadata?: { version?: unknown } } }).data;
    if (!data || typeof data.data !== 'object' || data.data === null) {
      throw new VaultError(
        `vault answered ${full} without KV v2 data (is ${this.options.kvMount} a KV v2 mount?)`,
      );
    }
    const values: Record<string, string> = {};
    for (const [k, v] of Object.entries(data.data as Record<string, unknown>)) {
      if (typeof v === 'string') values[k] = v;
    }
    const version = typeof data.metadata?.version === 'number' ? data.metadata.version : 0;
    return { data: values, version };
  }

  private canLogIn(): boolean {
    return this.options.auth.kind === 'approle';
  }

  /** One login at a time: concurrent reads wait for the same one. */
  private authenticate(): Promise<void> {
    this.login ??= this.doAuthenticate().finally(() => {
      this.login = undefined;
    });
    return this.login;
  }

  private async doAuthenticate(): Promise<void> {
    const auth = this.options.auth;
    let info: TokenAuthInfo;
    if (auth.kind === 'approle') {
      const res = (await this.call(() =>
        this.vault.approleLogin({ role_id: auth.roleId, secret_id: auth.secretId, mount_point: auth.mount }),
      )) as { auth?: { client_token?: string; lease_duration?: number; renewable?: boolean } };
      if (!res.auth?.client_token) throw new VaultError('vault AppRole login answered without a token');
      this.vault.token = res.auth.client_token;
      info = { ttl: res.auth.lease_duration ?? 0, renewable: res.auth.renewable ?? false };
    } else {
      const res = (await this.call(() => this.vault.tokenLookupSelf())) as {
        data?: { ttl?: number; renewable?: boolean };
      };
      info = { ttl: res.data?.ttl ?? 0, renewable: res.data?.renewable ?? false };
    }
    this.logins += 1;
    this.log.info('vault authenticated', { method: auth.kind, ttlSeconds: info.ttl });
    this.schedule(info.ttl, info.renewable, info.ttl);
  }

  /**
   * Before the token expires: renew it; when Vault grants less than asked (the maximum TTL is near) or the
   * token is not renewable, or the renewal fails, log in again instead (AppRole). A token given as such
   * cannot log in again: it is renewed while it can be, and the failure is logged.
   */
  private schedule(ttlSeconds: number, renewable: boolean, wantedSeconds: number): void {
    if (this.renewTimer) clearTimeout(this.renewTimer);
    this.renewTimer = undefined;
    if (this.closed || ttlSeconds <= 0) return; // 0: a token without expiry
    const fraction = this.options.renewFraction ?? 2 / 3;
    const delayMs = Math.max(50, Math.floor(ttlSeconds * 1000 * fraction));
    const cappedByMaxTtl = ttlSeconds < wantedSeconds;
    this.renewTimer = setTimeout(() => {
      void this.refresh(renewable && !cappedByMaxTtl, wantedSeconds);
    }, delayMs);
    this.renewTimer.unref();
  }

  private async refresh(renew: boolean, wantedSeconds: number): Promise<void> {
    if (this.closed) return;
    if (renew) {
      try {
        const res = (await this.call(() => this.vault.tokenRenewSelf({ increment: wantedSeconds }))) as {
          auth?: { lease_duration?: number; renewable?: boolean };
        };
        this.renewals += 1;
        const ttl = res.auth?.lease_duration ?? 0;
        this.log.info('vault token renewed', { ttlSeconds: ttl });
        if (ttl > 0) {
          this.schedule(ttl, res.auth?.renewable ?? false, wantedSeconds);
          return;
        }
        // Nothing granted: the token is at its maximum TTL.
        this.log.info('vault token reached its maximum TTL');
      } catch (error) {
        this.log.warn('vault token renewal failed', { error: describe(error) });
      }
    }
    if (!this.canLogIn()) {
      this.log.warn(
        'vault token can no longer be renewed and a token cannot log in again; reads will fail when it expires',
      );
      return;
    }
    try {
      await this.authenticate();
    } catch (error) {
      this.log.warn('vault login failed; trying again shortly', { error: describe(error) });
      if (this.closed) return;
      this.renewTimer = setTimeout(() => void this.refresh(false, wantedSeconds), 1000);
      this.renewTimer.unref();
    }
  }

  /** A call with the client's timeout, its failure reduced to a message and a status (no token, no body). */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        fn(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new VaultError(`vault did not answer within ${this.options.timeoutMs} ms`)),
            this.options.timeoutMs,
          );
          timer.unref();
        }),
      ]);
    } catch (error) {
      if (error instanceof VaultError) throw error;
      const status = (error as { response?: { statusCode?: number } }).response?.statusCode;
      throw new VaultError(
        status ? `vault answered ${status}` : `vault unreachable (${describe(error)})`,
        status,
      );
    } finally {
      if (timer) clearTimeout(timer);
    }
  }
}

/** An error's message or code only: an axios error's config holds the request headers (the token). */
function describe(error: unknown): string {
  if (error instanceof VaultError) return error.message;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.message.slice(0, 200) : 'unknown error';
}

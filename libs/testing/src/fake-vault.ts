import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local Vault stand-in: an HTTP server speaking the part of Vault's API the desk uses (no Vault server
 * can be installed here). KV v2 (`GET|POST /v1/<mount>/data/<path>`: `data.data` and `data.metadata.version`),
 * AppRole login, token lookup-self and renew-self, with TTLs and a maximum TTL enforced as Vault does, and
 * per-role path prefixes standing in for the policies of infra/vault/policies. Tests drive it: write and
 * rotate secrets, expire or revoke tokens, make renewals fail, slow it down, take it down.
 */
export interface FakeVaultRole {
  roleId: string;
  secretId: string;
  /** Path prefixes (under the KV mount's `data/`) the role's tokens may read, e.g. `desk/audit/`. */
  paths: string[];
  ttlSeconds: number;
  maxTtlSeconds: number;
}

interface TokenState {
  paths: string[];
  expiresAt: number;
  maxExpiresAt: number;
  renewable: boolean;
  ttlSeconds: number;
}

export interface FakeVault {
  address: string;
  /** Writes (or rotates: a new version) the secret at `<mount>/data/<path>`. */
  put(path: string, data: Record<string, string>, mount?: string): number;
  addRole(role: FakeVaultRole): void;
  /** A token as an operator would hand it out (no login): allowed paths, ttl (0: never expires). */
  issueToken(options: {
    paths: string[];
    ttlSeconds?: number;
    maxTtlSeconds?: number;
    renewable?: boolean;
  }): string;
  revoke(token: string): void;
  /** Revokes every token issued so far (as `vault token revoke` of each, or a restored backup). */
  revokeAll(): void;
  /** Every token it ever issued (a canary test looks for them where they must not be). */
  readonly issuedTokens: string[];
  /** Every request seen: method, path (no body, no token). */
  readonly requests: { method: string; path: string }[];
  count(pathPart: string, method?: string): number;
  /** Make renew-self answer 500 (true) or work again (false). */
  failRenewals(fail: boolean): void;
  /** Delay every answer (a hung Vault). */
  delay(ms: number): void;
  /** Answer every request with 503 (sealed / down) or normally again. */
  unavailable(down: boolean): void;
  close(): Promise<void>;
}

const KV_MOUNT = 'secret';

/** Where it listens: loopback on a free port by default; the docker tests run it in a container on 8200. */
export async function startFakeVault(listen: { host?: string; port?: number } = {}): Promise<FakeVault> {
  const kv = new Map<string, { versions: Record<string, string>[] }>();
  const roles: FakeVaultRole[] = [];
  const tokens = new Map<string, TokenState>();
  const requests: { method: string; path: string }[] = [];
  const issuedTokens: string[] = [];
  let renewalsFail = false;
  let delayMs = 0;
  let down = false;

  function send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  function liveToken(req: IncomingMessage): TokenState | undefined {
    const token = req.headers['x-vault-token'];
    if (typeof token !== 'string') return undefined;
    const state = tokens.get(token);
    if (!state) return undefined;
    if (state.expiresAt !== 0 && Date.now() >= state.expiresAt) {
      tokens.delete(token);
      return undefined;
    }
    return state;
  }

  function issue(paths: string[], ttlSeconds: number, maxTtlSeconds: number, renewable: boolean): string {
    const token = `hvs.${randomUUID().replace(/-/g, '')}`;
    const now = Date.now();
    issuedTokens.push(token);
    tokens.set(token, {
      paths,
      ttlSeconds,
      renewable,
      expiresAt: ttlSeconds ? now + ttlSeconds * 1000 : 0,
      maxExpiresAt: maxTtlSeconds ? now + maxTtlSeconds * 1000 : 0,
    });
    return token;
  }

  async function handle(req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://vault');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    requests.push({ method, path });
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs).unref());
    if (down) return send(res, 503, { errors: ['Vault is sealed'] });
    let body: Record<string, unknown> = {};
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      return send(res, 400, { errors: ['failed to parse JSON input'] });
    }

    const login = /^\/v1\/auth\/([^/]+)\/login$/.exec(path);
    if (login && method === 'POST') {
      const role = roles.find((r) => r.roleId === body.role_id && r.secretId === body.secret_id);
      if (!role) return send(res, 400, { errors: ['invalid role or secret ID'] });
      const token = issue(role.paths, role.ttlSeconds, role.maxTtlSeconds, true);
      return send(res, 200, {
        auth: {
          client_token: token,
          lease_duration: role.ttlSeconds,
          renewable: true,
          policies: ['default'],
        },
      });
    }

    const state = liveToken(req);
    if (!state) return send(res, 403, { errors: ['permission denied'] });

    if (path === '/v1/auth/token/lookup-self' && method === 'GET') {
      const ttl = state.expiresAt ? Math.max(0, Math.round((state.expiresAt - Date.now()) / 1000)) : 0;
      return send(res, 200, { data: { ttl, renewable: state.renewable } });
    }
    if (path === '/v1/auth/token/renew-self' && (method === 'POST' || method === 'PUT')) {
      if (renewalsFail) return send(res, 500, { errors: ['internal error'] });
      if (!state.renewable) return send(res, 400, { errors: ['token is not renewable'] });
      const wanted = typeof body.increment === 'number' ? body.increment : state.ttlSeconds;
      const now = Date.now();
      let lease = wanted;
      if (state.maxExpiresAt)
        lease = Math.max(0, Math.min(wanted, Math.floor((state.maxExpiresAt - now) / 1000)));
      state.expiresAt = now + lease * 1000;
      const token = String(req.headers['x-vault-token']);
      return send(res, 200, { auth: { client_token: token, lease_duration: lease, renewable: true } });
    }

    const data = new RegExp(`^/v1/([^/]+)/data/(.+)$`).exec(path);
    if (data) {
      const [, mount, secretPath] = data as unknown as [string, string, string];
      if (!state.paths.some((p) => secretPath.startsWith(p)))
        return send(res, 403, { errors: ['permission denied'] });
      const key = `${mount}/${secretPath}`;
      if (method === 'GET') {
        const entry = kv.get(key);
        if (!entry) return send(res, 404, { errors: [] });
        const version = entry.versions.length;
        return send(res, 200, {
          data: {
            data: entry.versions[version - 1],
            metadata: { version, created_time: new Date().toISOString() },
          },
        });
      }
      if (method === 'POST' || method === 'PUT') {
        const version = write(key, (body.data ?? {}) as Record<string, string>);
        return send(res, 200, { data: { version } });
      }
    }
    return send(res, 404, { errors: [] });
  }

  function write(key: string, data: Record<string, string>): number {
    const entry = kv.get(key) ?? { versions: [] };
    entry.versions.push({ ...data });
    kv.set(key, entry);
    return entry.versions.length;
  }

  const server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      handle(req, res, raw).catch(() => send(res, 500, { errors: ['stand-in failure'] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(listen.port ?? 0, listen.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    address: `http://${listen.host && listen.host !== '0.0.0.0' ? listen.host : '127.0.0.1'}:${port}`,
    put: (path, data, mount = KV_MOUNT) => write(`${mount}/${path}`, data),
    addRole: (role) => void roles.push(role),
    issueToken: ({ paths, ttlSeconds = 0, maxTtlSeconds = 0, renewable = true }) =>
      issue(paths, ttlSeconds, maxTtlSeconds, renewable),
    revoke: (token) => void tokens.delete(token),
    revokeAll: () => tokens.clear(),
    requests,
    issuedTokens,
    count: (pathPart, method) =>
      requests.filter((r) => r.path.includes(pathPart) && (!method || r.method === method)).length,
    failRenewals: (fail) => {
      renewalsFail = fail;
    },
    delay: (ms) => {
      delayMs = ms;
    },
    unavailable: (value) => {
      down = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { ApiKeysRepository, type KeyCredential } from '../keys/api-keys.repository';

/**
 * The channel the key, operator and setup tables announce every change on (migrations KeyChangeNotify,
 * SetupChangeNotify).
 */
export const CREDENTIALS_CHANGED = 'gateway_credentials_changed';
/** A credential is read again at least this often even if no change was announced (defence in depth). */
const MAX_AGE_MS = 60_000;
/** More cached keys than this and the cache starts over (a desk has tens of keys, not thousands). */
const MAX_ENTRIES = 10_000;
const RETRY_MS = 1000;

/** The part of a pooled pg client a listener uses. */
interface ListenerClient {
  query(sql: string): Promise<unknown>;
  on(event: 'notification', listener: (message: { channel: string }) => void): unknown;
  on(event: 'error' | 'end', listener: () => void): unknown;
  release(destroy?: boolean): void;
}

/**
 * API key credentials (and, through `memo`, other reads of the announcing tables: the setup phase), read
 * once and kept in memory while this gateway LISTENs to the tables' change channel (docs/adr/0024): a
 * revoke, rotation, expiry change, disabled operator or closed setup committed anywhere (any gateway
 * instance, the console) is announced on commit and empties every gateway's cache. While the
 * listening connection is down nothing is cached: every request reads the database, as before. A load that
 * was in flight when a change was announced is used for its own request but not kept. Unknown keys are never
 * cached (a flood of made-up keys costs queries, not memory). Expiry is judged on every request from the
 * cached `expiresAt`.
 */
@Injectable()
export class CredentialCache implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(CredentialCache.name);
  /** Every memo's entries: emptied together when a change is announced. */
  private readonly memos: Map<string, unknown>[] = [];
  private readonly credentials = this.memo(
    (keyId) => this.keys.credential(keyId),
    (credential) => credential !== undefined,
  );
  /** Bumped by every announced change and every loss of the listener: older loads are not kept. */
  private generation = 0;
  private listener: ListenerClient | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    @Inject(ApiKeysRepository) private readonly keys: ApiKeysRepository,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.listen();
  }

  /** Before the database closes (its own shutdown hook), the listening connection goes back, closed. */
  beforeApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.drop();
  }

  /** The key's credential (undefined: no such key), from memory while that is safe, else from the table. */
  async credential(keyId: string): Promise<KeyCredential | undefined> {
    const credential = await this.credentials(keyId);
    return credential && withExpiry(credential, Date.now());
  }

  /**
   * A read of the announcing tables, kept per key while that is safe (listening, no change announced
   * since the read began, younger than MAX_AGE_MS). `keep` says which results may be kept.
   */
  memo<T>(
    load: (key: string) => Promise<T>,
    keep: (value: T) => boolean = () => true,
  ): (key: string) => Promise<T> {
    const entries = new Map<string, { value: T; readAt: number }>();
    this.memos.push(entries);
    return async (key) => {
      const cached = entries.get(key);
      const now = Date.now();
      if (cached && now - cached.readAt < MAX_AGE_MS) return cached.value;
      const generation = this.generation;
      const value = await load(key);
      if (keep(value) && this.listener && generation === this.generation) {
        if (entries.size >= MAX_ENTRIES) entries.clear();
        entries.set(key, { value, readAt: now });
      }
      return value;
    };
  }

  /**
   * Forgets every credential. Called when a change is announced or the listener is lost, and by this
   * instance's own writers right after they commit, so that their own next request never waits for the
   * announcement.
   */
  invalidate(): void {
    this.generation += 1;
    for (const entries of this.memos) entries.clear();
  }

  private async listen(): Promise<void> {
    if (this.stopped || !(this.db.driver instanceof PostgresDriver)) return;
    // TypeORM's pool is pg's Pool: one of its connections is held for as long as the listener lives.
    const pool = this.db.driver.master as { connect(): Promise<ListenerClient> };
    let client: ListenerClient | undefined;
    try {
      client = await pool.connect();
      const held = client;
      held.on('notification', (message) => {
        if (message.channel === CREDENTIALS_CHANGED) this.invalidate();
      });
      const lost = () => {
        if (this.listener !== held) return;
        this.logger.warn('credential change listener lost; keys are read from the database until it is back');
        this.drop();
        this.again();
      };
      held.on('error', lost);
      held.on('end', lost);
      await held.query(`LISTEN ${CREDENTIALS_CHANGED}`);
      // Anything read before LISTEN took effect may be stale: start clean.
      this.invalidate();
      this.listener = held;
    } catch (error) {
      client?.release(true);
      this.logger.warn({ err: error }, 'cannot listen for credential changes; retrying');
      this.again();
    }
  }

  private again(): void {
    if (!this.stopped) this.retry = setTimeout(() => void this.listen(), RETRY_MS);
  }

  /** Stops caching and gives the listening connection back to the pool, closed. */
  private drop(): void {
    const client = this.listener;
    this.listener = undefined;
    this.invalidate();
    client?.release(true);
  }
}

function withExpiry(credential: KeyCredential, now: number): KeyCredential {
  const expired = credential.expiresAt !== null && credential.expiresAt.getTime() <= now;
  return expired === credential.expired ? credential : { ...credential, expired };
}

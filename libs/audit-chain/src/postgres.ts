import type { KeyObject } from 'node:crypto';
import { GENESIS_HASH, timestampTextSql, type ChainedRecord } from './canonical';
import { checkpointProblem, type Checkpoint } from './checkpoint';
import { ChainVerifier, type ChainHead, type Expectation, type VerifyResult } from './verify';

/**
 * Runs one SQL statement and returns its rows. Both a TypeORM `QueryRunner.query` and a pg `Client`
 * (through `pgQuery`) fit. Verification opens a read-only snapshot with BEGIN, so the function must run
 * every statement on ONE connection: a pg Client or a QueryRunner, never a pool or a DataSource.
 */
export type QueryFn = (sql: string, params?: unknown[]) => Promise<unknown[]>;

export interface PgLikeClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

export function pgQuery(client: PgLikeClient): QueryFn {
  return async (sql, params) => (await client.query(sql, params)).rows;
}

/**
 * The columns of audit.audit_events as the exact texts the hash covers. Note that the aliases shadow the
 * columns in ORDER BY: order by the table's column (`ORDER BY e.seq`), or seq sorts as text (1, 10, 2).
 */
export const RECORD_COLUMNS_SQL = `seq::text AS seq, event_id::text AS "eventId",
  ${timestampTextSql('occurred_at')} AS "occurredAt", ${timestampTextSql('recorded_at')} AS "recordedAt",
  actor_type AS "actorType", actor_id AS "actorId", actor_key_id AS "actorKeyId", action,
  subject_type AS "subjectType", subject_id AS "subjectId", payload, correlation_id AS "correlationId",
  prev_hash AS "prevHash", hash`;

export const CHECKPOINT_COLUMNS_SQL = `seq::text AS seq, hash, signature, key_id AS "keyId",
  public_key AS "publicKey", ${timestampTextSql('created_at')} AS "createdAt"`;

const SEQ = /^\d{1,18}$/;

function seqParam(name: string, value: string | bigint | undefined, min: bigint): bigint | undefined {
  if (value === undefined) return undefined;
  const text = value.toString();
  if (!SEQ.test(text) || BigInt(text) < min) throw new RangeError(`${name} must be an integer >= ${min}`);
  return BigInt(text);
}

/** Reads records in seq order, `batchSize` at a time (keyset pagination: memory stays constant). */
export async function* readRecords(
  query: QueryFn,
  options: { from?: string | bigint; to?: string | bigint; batchSize?: number } = {},
): AsyncGenerator<ChainedRecord[]> {
  const from = seqParam('from', options.from, 1n) ?? 1n;
  const to = seqParam('to', options.to, 0n);
  const batchSize = options.batchSize ?? 5000;
  let after = from - 1n;
  for (;;) {
    const params: unknown[] = [after.toString(), batchSize];
    if (to !== undefined) params.push(to.toString());
    const rows = (await query(
      `SELECT ${RECORD_COLUMNS_SQL} FROM audit.audit_events e
        WHERE seq > $1::bigint ${to !== undefined ? 'AND seq <= $3::bigint' : ''}
        ORDER BY e.seq LIMIT $2`,
      params,
    )) as ChainedRecord[];
    if (rows.length) yield rows;
    const last = rows[rows.length - 1];
    if (!last || rows.length < batchSize) return;
    after = BigInt(last.seq);
  }
}

/** The recorded head of the chain (seq 0 and the genesis hash while the log is empty). */
export async function readChainHead(query: QueryFn): Promise<ChainHead | undefined> {
  const [head] = (await query(
    `SELECT seq::text AS seq, hash FROM audit.chain_head WHERE id = 1`,
  )) as ChainHead[];
  return head;
}

/** Checkpoints oldest first, after a given seq (for paging: pass the last seq of the previous page). */
export async function readCheckpoints(
  query: QueryFn,
  options: { afterSeq?: string; limit?: number } = {},
): Promise<Checkpoint[]> {
  const after = seqParam('afterSeq', options.afterSeq, 0n) ?? 0n;
  return (await query(
    `SELECT ${CHECKPOINT_COLUMNS_SQL} FROM audit.checkpoints c WHERE seq > $1::bigint ORDER BY c.seq LIMIT $2`,
    [after.toString(), options.limit ?? 100],
  )) as Checkpoint[];
}

export async function readLatestCheckpoint(query: QueryFn, atMost?: string): Promise<Checkpoint | undefined> {
  const [cp] = (await query(
    `SELECT ${CHECKPOINT_COLUMNS_SQL} FROM audit.checkpoints c
      ${atMost === undefined ? '' : 'WHERE seq <= $1::bigint'} ORDER BY c.seq DESC LIMIT 1`,
    atMost === undefined ? [] : [atMost],
  )) as Checkpoint[];
  return cp;
}

export type StoredVerifyResult = VerifyResult & {
  /** The newest checkpoint within the verified range (its signature and hash were checked), if any. */
  latestCheckpoint: Checkpoint | null;
  /** False when no trusted public key was given: signatures were checked against the stored keys only. */
  keysTrusted: boolean;
};

export interface StoredVerifyOptions {
  from?: string;
  to?: string;
  batchSize?: number;
  /** Public keys whose checkpoints are trusted (from configuration, never from the database). */
  trustedKeys?: readonly KeyObject[];
  /**
   * Heads held outside the database (an exported checkpoint, a head an auditor wrote down): the chain must
   * contain each one's seq with the same hash. What the database alone cannot show, a tail cut together
   * with its checkpoints and the chain head, these do.
   */
  anchors?: readonly (ChainHead & { source?: string })[];
  /** Every statement of the walk is cancelled after this long (PostgreSQL `statement_timeout`). */
  statementTimeoutMs?: number;
  /** The whole walk gives up at this time (epoch ms), checked between batches. */
  deadline?: number;
}

/** The verification took longer than its statement timeout or deadline: no verdict, not a tampered log. */
export class VerifyTimeoutError extends Error {
  override name = 'VerifyTimeoutError';
}

/** PostgreSQL's query_canceled: what a statement_timeout raises. */
function isStatementTimeout(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '57014';
}

const ANCHOR = /^([1-9]\d{0,17}):([0-9a-f]{64})$/;

/** `<seq>:<hash>` (as printed by the CLI and signed in checkpoints), or undefined when it is not one. */
export function parseAnchor(text: string): ChainHead | undefined {
  const m = ANCHOR.exec(text.trim());
  return m ? { seq: m[1]!, hash: m[2]! } : undefined;
}

function expectation(cp: Checkpoint, trustedKeys: readonly KeyObject[]): Expectation {
  return {
    seq: cp.seq,
    hash: cp.hash,
    source: `the checkpoint signed by key ${cp.keyId}`,
    problem: checkpointProblem(cp, trustedKeys),
  };
}

/**
 * Verifies the stored chain over [from, to] (default: all of it) in one read-only snapshot, reading
 * `batchSize` rows at a time. Checks every record's link and hash, every checkpoint in the range (its
 * signature and the hash it names), and that the log does not end before the latest checkpoint or the
 * recorded chain head (a cut tail). Stops at the first bad sequence number.
 */
export async function verifyStoredChain(
  query: QueryFn,
  options: StoredVerifyOptions = {},
): Promise<StoredVerifyResult> {
  try {
    return await walkStoredChain(query, options);
  } catch (error) {
    if (isStatementTimeout(error)) {
      throw new VerifyTimeoutError(
        `verification timed out: a statement ran longer than ${options.statementTimeoutMs ?? 0} ms`,
      );
    }
    throw error;
  }
}

async function walkStoredChain(query: QueryFn, options: StoredVerifyOptions): Promise<StoredVerifyResult> {
  const from = seqParam('from', options.from, 1n) ?? 1n;
  const to = seqParam('to', options.to, 0n);
  const trustedKeys = options.trustedKeys ?? [];
  const batchSize = options.batchSize ?? 5000;
  const extra = { latestCheckpoint: null, keysTrusted: trustedKeys.length > 0 };

  await query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    if (options.statementTimeoutMs !== undefined) {
      const ms = Math.max(1, Math.floor(options.statementTimeoutMs));
      await query(`SET LOCAL statement_timeout = ${ms}`);
    }
    const overdue = () => {
      if (options.deadline !== undefined && Date.now() > options.deadline) {
        throw new VerifyTimeoutError('verification timed out: the chain took longer to walk than allowed');
      }
    };
    let anchorHash = GENESIS_HASH;
    if (from > 1n) {
      const anchorSeq = (from - 1n).toString();
      const [anchor] = (await query(`SELECT hash FROM audit.audit_events WHERE seq = $1::bigint`, [
        anchorSeq,
      ])) as { hash: string }[];
      if (!anchor) {
        return {
          ok: false,
          firstBadSeq: anchorSeq,
          kind: 'missing',
          reason: `record ${anchorSeq}, which the range starts from, is missing`,
          checked: 0,
          ...extra,
        };
      }
      anchorHash = anchor.hash;
    }
    const head = await readChainHead(query);
    // The head may never be behind the latest signed checkpoint: a rewound head hides a cut tail.
    const latestSigned = await readLatestCheckpoint(query);
    if (
      head &&
      latestSigned &&
      BigInt(head.seq) < BigInt(latestSigned.seq) &&
      (to === undefined || to > BigInt(head.seq)) &&
      !checkpointProblem(latestSigned, trustedKeys)
    ) {
      const first = (BigInt(head.seq) + 1n).toString();
      return {
        ok: false,
        firstBadSeq: first,
        kind: 'truncated',
        reason: `the chain head was moved back to ${head.seq}, behind the checkpoint signed by key ${latestSigned.keyId}, which names record ${latestSigned.seq} (records from ${first} are missing or hidden)`,
        checked: 0,
        ...extra,
      };
    }
    const verifier = new ChainVerifier({
      from: from.toString(),
      anchorHash,
      to: to?.toString(),
      head,
      checkpoints: (options.anchors ?? []).map((a) => ({
        seq: a.seq,
        hash: a.hash,
        source: a.source ?? `the externally held head ${a.seq}:${a.hash.slice(0, 12)}…`,
      })),
    });

    let walked = from - 1n;
    for await (const rows of readRecords(query, { from, to, batchSize })) {
      overdue();
      const lastSeq = rows[rows.length - 1]!.seq;
      const checkpoints = (await query(
        `SELECT ${CHECKPOINT_COLUMNS_SQL} FROM audit.checkpoints c
          WHERE seq > $1::bigint AND seq <= $2::bigint ORDER BY c.seq`,
        [walked.toString(), lastSeq],
      )) as Checkpoint[];
      for (const cp of checkpoints) verifier.expect(expectation(cp, trustedKeys));
      for (const row of rows) if (!verifier.push(row)) break;
      if (verifier.failed) break;
      walked = BigInt(lastSeq);
    }
    if (!verifier.failed) {
      // Checkpoints past the last record: the log was cut after they were signed.
      const params: unknown[] = [walked.toString()];
      if (to !== undefined) params.push(to.toString());
      const beyond = (await query(
        `SELECT ${CHECKPOINT_COLUMNS_SQL} FROM audit.checkpoints c
          WHERE seq > $1::bigint ${to !== undefined ? 'AND seq <= $2::bigint' : ''} ORDER BY c.seq LIMIT 100`,
        params,
      )) as Checkpoint[];
      for (const cp of beyond) verifier.expect(expectation(cp, trustedKeys));
    }
    overdue();
    const result = verifier.finish();
    if (!result.ok) return { ...result, ...extra };
    const latest = await readLatestCheckpoint(query, result.head.seq);
    return {
      ...result,
      ...extra,
      latestCheckpoint: latest && BigInt(latest.seq) >= from ? latest : null,
    };
  } finally {
    await query('ROLLBACK');
  }
}

import { GENESIS_HASH, hashRecord, type ChainedRecord } from './canonical';

/** A position in the chain: the last record's sequence number and hash. */
export interface ChainHead {
  seq: string;
  hash: string;
}

/**
 * What was wrong at the first bad sequence number:
 * - `missing`: the record with that seq is not there (deleted, or rows out of order);
 * - `unexpected`: a record that should not be there (inserted before the start, twice, or past the head);
 * - `prev_hash`: its previous hash is not the hash of the record before it;
 * - `hash`: its content (or its stored hash) was changed after it was written;
 * - `checkpoint`: its hash differs from a signed checkpoint, or a checkpoint's signature is bad;
 * - `truncated`: the log ends before a signed checkpoint (or the recorded chain head) says it does.
 */
export type TamperKind = 'missing' | 'unexpected' | 'prev_hash' | 'hash' | 'checkpoint' | 'truncated';

export type VerifyResult =
  | { ok: true; head: ChainHead; checked: number }
  | { ok: false; firstBadSeq: string; kind: TamperKind; reason: string; checked: number };

/** A hash the chain must have at a sequence number (a checkpoint), or a checkpoint that is itself bad. */
export interface Expectation extends ChainHead {
  /** What the record at `seq` must match, in words ("signed checkpoint", "chain head"). */
  source: string;
  /** Set when the checkpoint cannot be trusted (bad signature, unknown key): reported at its seq. */
  problem?: string;
}

export interface VerifyOptions {
  /** First sequence number to check (default 1). */
  from?: string;
  /** Hash of record `from - 1`, which the first record must link to (default: the genesis hash, for from = 1). */
  anchorHash?: string;
  /** Last sequence number to check (default: to the end). Rows past it must not be pushed. */
  to?: string;
  /** Signed checkpoints to hold the chain to (more can be added while walking with `expect`). */
  checkpoints?: readonly Expectation[];
  /** The recorded head of the chain: the log must end exactly there, and nothing may follow it. */
  head?: ChainHead;
}

/**
 * Walks records in seq order and stops at the first bad one. Memory stays constant: feed it rows as they
 * are read (`push`), register the checkpoints of each batch before its rows (`expect`), then `finish`.
 */
export class ChainVerifier {
  private expected: bigint;
  private prevHash: string;
  private last: ChainHead;
  private checked = 0;
  private failure: Extract<VerifyResult, { ok: false }> | undefined;
  private readonly to: bigint | undefined;
  private readonly head: ChainHead | undefined;
  /** Every expectation per seq (the recorded head, signed checkpoints and external anchors may coincide). */
  private readonly expectations = new Map<bigint, Expectation[]>();

  constructor(options: VerifyOptions = {}) {
    this.expected = BigInt(options.from ?? '1');
    if (this.expected < 1n) throw new RangeError('from must be at least 1');
    this.prevHash = options.anchorHash ?? (this.expected === 1n ? GENESIS_HASH : '');
    if (!this.prevHash) throw new RangeError('anchorHash is required when from is greater than 1');
    this.to = options.to === undefined ? undefined : BigInt(options.to);
    this.last = { seq: (this.expected - 1n).toString(), hash: this.prevHash };
    // The head only bounds a walk that reaches it.
    this.head =
      options.head && (this.to === undefined || this.to >= BigInt(options.head.seq))
        ? options.head
        : undefined;
    if (this.head) this.expect({ ...this.head, source: 'the recorded chain head' });
    for (const c of options.checkpoints ?? []) this.expect(c);
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Holds the record at `e.seq` to `e.hash` (ignored outside the walked range). */
  expect(e: Expectation): void {
    const seq = BigInt(e.seq);
    if (seq < this.expected || (this.to !== undefined && seq > this.to)) return;
    const known = this.expectations.get(seq) ?? [];
    // All are held: a good checkpoint does not hide a bad one, nor the recorded head an external anchor.
    known.push(e);
    this.expectations.set(seq, known);
  }

  /** Checks the next record. Returns false once the chain is broken (further rows are ignored). */
  push(row: ChainedRecord): boolean {
    if (this.failure) return false;
    const seq = BigInt(row.seq);
    if (seq < this.expected) {
      return this.fail(
        row.seq,
        'unexpected',
        `record ${row.seq} is out of place (expected ${this.expected})`,
      );
    }
    if (seq > this.expected) {
      const missing = this.expected.toString();
      return this.fail(missing, 'missing', `record ${missing} is missing (next record found is ${row.seq})`);
    }
    if (this.head && seq > BigInt(this.head.seq)) {
      return this.fail(
        row.seq,
        'unexpected',
        `record ${row.seq} lies past the chain head (${this.head.seq})`,
      );
    }
    if (row.prevHash !== this.prevHash) {
      return this.fail(row.seq, 'prev_hash', `previous hash does not match the hash of record ${seq - 1n}`);
    }
    if (hashRecord(row.prevHash, row) !== row.hash) {
      return this.fail(
        row.seq,
        'hash',
        'content does not match its hash (the record or its hash was changed)',
      );
    }
    const held = this.expectations.get(seq);
    if (held) {
      this.expectations.delete(seq);
      const bad = held.find((e) => e.problem);
      if (bad?.problem) return this.fail(row.seq, 'checkpoint', bad.problem);
      const differs = held.find((e) => e.hash !== row.hash);
      if (differs) {
        return this.fail(row.seq, 'checkpoint', `hash differs from ${differs.source} at ${differs.seq}`);
      }
    }
    this.prevHash = row.hash;
    this.last = { seq: row.seq, hash: row.hash };
    this.expected = seq + 1n;
    this.checked += 1;
    return true;
  }

  /** The verdict after the last row: a checkpoint or head past the last record means the tail was cut. */
  finish(): VerifyResult {
    if (this.failure) return this.failure;
    const beyond = [...this.expectations.values()]
      .flat()
      .sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1));
    const trusted = beyond.find((e) => !e.problem);
    if (trusted) {
      const first = this.expected.toString();
      this.fail(
        first,
        'truncated',
        `the log ends at ${this.last.seq} but ${trusted.source} names record ${trusted.seq} (records from ${first} are missing)`,
      );
    } else if (beyond[0]?.problem) {
      this.fail(beyond[0].seq, 'checkpoint', beyond[0].problem);
    }
    return this.failure ?? { ok: true, head: this.last, checked: this.checked };
  }

  private fail(seq: string, kind: TamperKind, reason: string): false {
    this.failure = { ok: false, firstBadSeq: seq, kind, reason, checked: this.checked };
    return false;
  }
}

/** Verifies records already in memory (in storage order; the verifier expects seq order). */
export function verifyChain(rows: Iterable<ChainedRecord>, options: VerifyOptions = {}): VerifyResult {
  const verifier = new ChainVerifier(options);
  for (const row of rows) if (!verifier.push(row)) break;
  return verifier.finish();
}

import { describe, expect, it } from '@jest/globals';
import {
  GENESIS_HASH,
  canonicalContent,
  formatTimestamp,
  hashRecord,
  storableText,
  type ChainedRecord,
  type RecordContent,
} from './canonical';
import { verifyChain } from './verify';

function content(seq: number): RecordContent {
  return {
    seq: String(seq),
    eventId: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    occurredAt: '2026-01-02T03:04:05.678000Z',
    recordedAt: '2026-01-02T03:04:05.700000Z',
    actorType: 'service',
    actorId: 'risk',
    actorKeyId: null,
    action: 'order.accepted',
    subjectType: 'order',
    subjectId: `order-${seq}`,
    payload: `{"notional":"${seq}00.5"}`,
    correlationId: `corr-${seq}`,
  };
}

/** A valid chain of n records, as the audit service writes it. */
function chain(n: number): ChainedRecord[] {
  const rows: ChainedRecord[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const c = content(seq);
    const hash = hashRecord(prev, c);
    rows.push({ ...c, prevHash: prev, hash });
    prev = hash;
  }
  return rows;
}

/** Re-hashes rows from index i on, as an attacker who knows the algorithm would. */
function rehashFrom(rows: ChainedRecord[], i: number): ChainedRecord[] {
  const out = rows.map((r) => ({ ...r }));
  for (let j = i; j < out.length; j++) {
    out[j]!.prevHash = j === 0 ? GENESIS_HASH : out[j - 1]!.hash;
    out[j]!.hash = hashRecord(out[j]!.prevHash, out[j]!);
  }
  return out;
}

const at = (rows: ChainedRecord[], seq: number) => rows[seq - 1]!;

describe('canonical content and hash', () => {
  it('keeps its serialization stable (stored hashes depend on it)', () => {
    expect(canonicalContent(content(1))).toBe(
      '["desk.audit.v1","1","00000000-0000-4000-8000-000000000001","2026-01-02T03:04:05.678000Z",' +
        '"2026-01-02T03:04:05.700000Z","service","risk",null,"order.accepted","order","order-1",' +
        '"{\\"notional\\":\\"100.5\\"}","corr-1"]',
    );
    expect(hashRecord(GENESIS_HASH, content(1))).toBe(
      'a5b02b4858361a5568126cbe97225b38f30854c3a0511321c3bc9abdd12b06ae', // sha256sum of the same bytes,
    );
  });

  it('tells a null key id from an empty one, and fields apart from each other', () => {
    const base = content(1);
    const hashes = new Set([
      hashRecord(GENESIS_HASH, base),
      hashRecord(GENESIS_HASH, { ...base, actorKeyId: '' }),
      hashRecord(GENESIS_HASH, { ...base, actorId: 'ris', actorType: 'servicek' }),
      hashRecord('f'.repeat(64), base),
    ]);
    expect(hashes.size).toBe(4);
  });

  it('formats times as UTC with microseconds, as PostgreSQL reads them back', () => {
    expect(formatTimestamp(new Date('2026-01-02T03:04:05.6789Z'))).toBe('2026-01-02T03:04:05.678000Z');
    expect(() => formatTimestamp(new Date('invalid'))).toThrow(RangeError);
  });

  it('replaces lone surrogates as PostgreSQL text storage does', () => {
    expect(storableText('a\ud800b')).toBe('a\ufffdb');
    expect(storableText('ok ✓ 😀')).toBe('ok ✓ 😀');
  });
});

describe('verifyChain on in-memory rows', () => {
  it('accepts an intact chain and reports its head', () => {
    const rows = chain(10);
    expect(verifyChain(rows)).toEqual({
      ok: true,
      head: { seq: '10', hash: at(rows, 10).hash },
      checked: 10,
    });
  });

  it('accepts an empty log', () => {
    expect(verifyChain([])).toEqual({ ok: true, head: { seq: '0', hash: GENESIS_HASH }, checked: 0 });
  });

  it('names the record whose content was modified', () => {
    const rows = chain(10);
    at(rows, 4).payload = '{"notional":"1.5"}';
    expect(verifyChain(rows)).toMatchObject({ ok: false, firstBadSeq: '4', kind: 'hash', checked: 3 });
  });

  it('names the record whose stored hash was modified', () => {
    const rows = chain(10);
    at(rows, 6).hash = 'a'.repeat(64);
    expect(verifyChain(rows)).toMatchObject({ ok: false, firstBadSeq: '6', kind: 'hash' });
  });

  it('names the record after one that was modified and re-hashed on its own', () => {
    const rows = chain(10);
    at(rows, 3).actorId = 'someone-else';
    at(rows, 3).hash = hashRecord(at(rows, 3).prevHash, at(rows, 3));
    expect(verifyChain(rows)).toMatchObject({ ok: false, firstBadSeq: '4', kind: 'prev_hash' });
  });

  it('names a deleted record', () => {
    const rows = chain(10);
    rows.splice(4, 1); // seq 5
    expect(verifyChain(rows)).toMatchObject({ ok: false, firstBadSeq: '5', kind: 'missing' });
    expect(verifyChain(chain(3).slice(1))).toMatchObject({ ok: false, firstBadSeq: '1', kind: 'missing' });
  });

  it('names a deleted record even when the rest was renumbered and re-hashed', () => {
    const rows = chain(10);
    const cp = { ...at(rows, 8), source: 'the checkpoint' };
    rows.splice(4, 1);
    rows.forEach((r, i) => (r.seq = String(i + 1)));
    const forged = rehashFrom(rows, 4);
    expect(verifyChain(forged)).toMatchObject({ ok: true }); // the chain alone cannot tell…
    // …but a signed checkpoint at 8 can: the rewrite shows at the checkpoint, and the log is one short.
    expect(verifyChain(forged, { checkpoints: [cp] })).toMatchObject({
      ok: false,
      firstBadSeq: '8',
      kind: 'checkpoint',
    });
  });

  it('names an inserted record', () => {
    const rows = chain(6);
    const forged: ChainedRecord = { ...content(7), prevHash: at(rows, 6).hash, hash: 'b'.repeat(64) };
    expect(verifyChain([...rows, forged])).toMatchObject({ ok: false, firstBadSeq: '7', kind: 'hash' });
    const before: ChainedRecord = { ...content(0), prevHash: GENESIS_HASH, hash: 'c'.repeat(64) };
    expect(verifyChain([before, ...rows])).toMatchObject({ ok: false, firstBadSeq: '0', kind: 'unexpected' });
  });

  it('names a record inserted in the middle (later records pushed down one)', () => {
    const rows = chain(6);
    const inserted: ChainedRecord = {
      ...content(3),
      subjectId: 'forged',
      prevHash: at(rows, 2).hash,
      hash: '',
    };
    inserted.hash = hashRecord(inserted.prevHash, inserted);
    const shifted = rows.slice(2).map((r) => ({ ...r, seq: String(Number(r.seq) + 1) }));
    // A well-formed forgery at 3 links to 2, so the break shows at 4, whose content no longer matches.
    expect(verifyChain([...rows.slice(0, 2), inserted, ...shifted])).toMatchObject({
      ok: false,
      firstBadSeq: '4',
    });
    const sloppy = { ...inserted, hash: 'd'.repeat(64) };
    expect(verifyChain([...rows.slice(0, 2), sloppy, ...shifted])).toMatchObject({
      ok: false,
      firstBadSeq: '3',
      kind: 'hash',
    });
  });

  it('names the first of two reordered records', () => {
    const rows = chain(8);
    const swapped = [...rows];
    [swapped[2], swapped[5]] = [swapped[5]!, swapped[2]!];
    expect(verifyChain(swapped)).toMatchObject({ ok: false, firstBadSeq: '3', kind: 'missing' });

    // Content swapped between seq 3 and 6, each keeping its seq: 3 no longer matches its hash.
    const contentSwapped = rows.map((r) => ({ ...r }));
    const { seq: _s3, prevHash: _p3, hash: _h3, ...c3 } = at(rows, 3);
    const { seq: _s6, prevHash: _p6, hash: _h6, ...c6 } = at(rows, 6);
    Object.assign(at(contentSwapped, 3), c6);
    Object.assign(at(contentSwapped, 6), c3);
    expect(verifyChain(contentSwapped)).toMatchObject({ ok: false, firstBadSeq: '3', kind: 'hash' });
  });

  it('detects a truncated tail against the latest checkpoint', () => {
    const rows = chain(10);
    const checkpoint = { seq: '9', hash: at(rows, 9).hash, source: 'the checkpoint' };
    expect(verifyChain(rows, { checkpoints: [checkpoint] })).toMatchObject({ ok: true });
    expect(verifyChain(rows.slice(0, 7), { checkpoints: [checkpoint] })).toMatchObject({
      ok: false,
      firstBadSeq: '8',
      kind: 'truncated',
    });
    expect(verifyChain([], { checkpoints: [checkpoint] })).toMatchObject({ ok: false, firstBadSeq: '1' });
  });

  it('detects a truncated tail against the recorded chain head, and records past it', () => {
    const rows = chain(10);
    const head = { seq: '10', hash: at(rows, 10).hash };
    expect(verifyChain(rows, { head })).toMatchObject({ ok: true });
    expect(verifyChain(rows.slice(0, 9), { head })).toMatchObject({
      ok: false,
      firstBadSeq: '10',
      kind: 'truncated',
    });
    expect(verifyChain(rows, { head: { seq: '8', hash: at(rows, 8).hash } })).toMatchObject({
      ok: false,
      firstBadSeq: '9',
      kind: 'unexpected',
    });
  });

  it('holds a rewritten chain to an external head at the same seq as the recorded head', () => {
    const rows = chain(10);
    const held = { seq: '10', hash: at(rows, 10).hash, source: 'the externally held head' };
    // The attacker re-hashed from 8 on and moved the recorded head to match: only the held head differs.
    const forged = rehashFrom(
      rows.map((r, i) => (i === 7 ? { ...r, subjectId: 'forged' } : r)),
      7,
    );
    const head = { seq: '10', hash: at(forged, 10).hash };
    expect(verifyChain(forged, { head })).toMatchObject({ ok: true });
    expect(verifyChain(forged, { head, checkpoints: [held] })).toMatchObject({
      ok: false,
      firstBadSeq: '10',
      kind: 'checkpoint',
      reason: 'hash differs from the externally held head at 10',
    });
  });

  it('reports a checkpoint that cannot be trusted at its seq', () => {
    const rows = chain(5);
    const bad = { seq: '4', hash: at(rows, 4).hash, source: 'the checkpoint', problem: 'invalid signature' };
    expect(verifyChain(rows, { checkpoints: [bad] })).toMatchObject({
      ok: false,
      firstBadSeq: '4',
      kind: 'checkpoint',
      reason: 'invalid signature',
    });
  });

  it('verifies a range from an anchor, ignoring checkpoints outside it', () => {
    const rows = chain(10);
    const range = rows.slice(4, 8); // 5..8
    const outside = { seq: '10', hash: 'e'.repeat(64), source: 'the checkpoint' };
    expect(
      verifyChain(range, { from: '5', to: '8', anchorHash: at(rows, 4).hash, checkpoints: [outside] }),
    ).toEqual({ ok: true, head: { seq: '8', hash: at(rows, 8).hash }, checked: 4 });
    expect(verifyChain(range, { from: '5', anchorHash: 'f'.repeat(64) })).toMatchObject({
      ok: false,
      firstBadSeq: '5',
      kind: 'prev_hash',
    });
    expect(() => verifyChain(range, { from: '5' })).toThrow(/anchorHash/);
  });
});

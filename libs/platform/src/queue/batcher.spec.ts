import { describe, expect, it } from '@jest/globals';
import { Batcher, inLockOrder } from './batcher';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Batcher (group commit)', () => {
  it('writes up to maxSize items in one batch, each submit getting its own result', async () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number, string>({
      maxSize: 3,
      maxWaitMs: 1000,
      write: async (items) => {
        batches.push(items);
        return items.map((i) => `r${i}`);
      },
    });
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => batcher.submit(i)));
    expect(results).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });

  it('writes a partial batch after maxWaitMs', async () => {
    const batches: number[][] = [];
    const batcher = new Batcher<number, number>({
      maxSize: 100,
      maxWaitMs: 20,
      write: async (items) => (batches.push(items), items),
    });
    const started = Date.now();
    await expect(batcher.submit(7)).resolves.toBe(7);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
    expect(batches).toEqual([[7]]);
  });

  it('writes one batch at a time; what arrives meanwhile goes together next', async () => {
    const batches: number[][] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const batcher = new Batcher<number, number>({
      maxSize: 100,
      maxWaitMs: 0,
      write: async (items) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        batches.push(items);
        await sleep(30);
        inFlight--;
        return items;
      },
    });
    const first = batcher.submit(1);
    await sleep(5);
    const rest = [2, 3, 4].map((i) => batcher.submit(i));
    await Promise.all([first, ...rest]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
    expect(maxInFlight).toBe(1);
  });

  it('retries a failed batch item by item, so only the bad item fails', async () => {
    const writes: number[][] = [];
    const batcher = new Batcher<number, number>({
      maxSize: 3,
      maxWaitMs: 1000,
      write: async (items) => {
        writes.push(items);
        if (items.includes(2)) throw new Error('bad item 2');
        return items.map((i) => i * 10);
      },
    });
    const results = await Promise.allSettled([1, 2, 3].map((i) => batcher.submit(i)));
    expect(results).toEqual([
      { status: 'fulfilled', value: 10 },
      { status: 'rejected', reason: new Error('bad item 2') },
      { status: 'fulfilled', value: 30 },
    ]);
    expect(writes).toEqual([[1, 2, 3], [1], [2], [3]]);
  });

  it('with maxWaitMs 0 writes the first item at once and groups what arrives meanwhile', async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const batcher = new Batcher<number, number>({
      maxSize: 10,
      maxWaitMs: 0,
      write: async (items) => {
        batches.push(items);
        if (batches.length === 1) await new Promise<void>((r) => (release = r));
        return items;
      },
    });
    const first = batcher.submit(1);
    expect(batches).toEqual([[1]]);
    const rest = [2, 3, 4].map((i) => batcher.submit(i));
    release();
    expect(await Promise.all([first, ...rest])).toEqual([1, 2, 3, 4]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });
});

describe('inLockOrder', () => {
  it('takes a batch by its keys, then by arrival, and remembers where each item came from', () => {
    const items = [
      { symbol: 'ETH/USDT', id: 'b' },
      { symbol: 'BTC/USDT', id: 'z' },
      { symbol: 'ETH/USDT', id: 'a' },
      { symbol: 'BTC/USDT', id: 'z' },
    ];
    const turns = inLockOrder(items, (i) => [i.symbol, i.id]);
    expect(turns.map((t) => t.index)).toEqual([1, 3, 2, 0]);
    expect(turns.map((t) => t.item)).toEqual([items[1], items[3], items[2], items[0]]);
    // Two batches holding the same rows in any arrival order lock them alike.
    const reversed = inLockOrder([...items].reverse(), (i) => [i.symbol, i.id]).map((t) => t.item);
    expect(reversed.map((i) => `${i.symbol}/${i.id}`)).toEqual(
      turns.map((t) => `${t.item.symbol}/${t.item.id}`),
    );
  });
});

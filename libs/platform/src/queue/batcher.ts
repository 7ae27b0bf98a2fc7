export interface BatcherOptions<T, R> {
  /** Most items written together. */
  maxSize: number;
  /**
   * How long an idle batcher waits for more items before writing a partial batch. 0: an idle batcher
   * writes at once (no added latency); items that arrive while it writes form the next batch.
   */
  maxWaitMs: number;
  /** Writes a batch; returns one result per item, in order. */
  write: (items: T[]) => Promise<R[]>;
}

interface Pending<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit in one process. Each `submit` settles only once its item's batch is written. One batch is
 * written at a time: items that arrive meanwhile go together in the next one, so batches grow with the
 * load and an idle batcher adds at most `maxWaitMs` of latency. A failed batch is retried item by item,
 * so one bad item fails alone (and infrastructure errors fail every item, to be retried by the queue).
 */
export class Batcher<T, R> {
  private queue: Pending<T, R>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing = false;

  constructor(private readonly options: BatcherOptions<T, R>) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.writing) return; // picked up when the running batch ends
      if (this.queue.length >= this.options.maxSize || this.options.maxWaitMs <= 0) this.start();
      else this.timer ??= setTimeout(() => this.start(), this.options.maxWaitMs);
    });
  }

  private start(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.writing || this.queue.length === 0) return;
    this.writing = true;
    const batch = this.queue.splice(0, this.options.maxSize);
    void this.write(batch).finally(() => {
      this.writing = false;
      this.start();
    });
  }

  private async write(batch: Pending<T, R>[]): Promise<void> {
    try {
      const results = await this.writeChecked(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(results[i]!));
      return;
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
    }
    for (const p of batch) {
      try {
        const [result] = await this.writeChecked([p.item]);
        p.resolve(result!);
      } catch (error) {
        p.reject(error);
      }
    }
  }

  private async writeChecked(items: T[]): Promise<R[]> {
    const results = await this.options.write(items);
    if (results.length !== items.length) {
      throw new Error(`batch write returned ${results.length} results for ${items.length} items`);
    }
    return results;
  }
}

/**
 * A batch's items in the order its transaction should lock their rows: sorted by their keys (then by
 * arrival), each with its place in the batch so results go back where they belong. Two batches that take
 * their rows in this order never wait on each other in a circle.
 */
export function inLockOrder<T>(
  items: readonly T[],
  keys: (item: T) => readonly string[],
): { item: T; index: number }[] {
  const keyed = items.map((item, index) => ({ item, index, keys: keys(item) }));
  keyed.sort((a, b) => {
    for (let k = 0; k < a.keys.length; k += 1) {
      const x = a.keys[k]!;
      const y = b.keys[k]!;
      if (x !== y) return x < y ? -1 : 1;
    }
    return a.index - b.index;
  });
  return keyed.map(({ item, index }) => ({ item, index }));
}

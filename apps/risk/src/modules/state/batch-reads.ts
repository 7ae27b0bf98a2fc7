/**
 * Reads that no decision in a batch changes, taken once per batch (docs/adr/0024). A decision batch holds
 * the book lock, and every write to the limits, the venues and the positions takes that lock first, so
 * what one decision of the batch read is what the next would read. Only what the decisions themselves
 * change (pending exposure, counts of open and recent orders) is read again for each.
 *
 * A failed read stays failed for the batch: the transaction is lost anyway, and the batch is decided again
 * intent by intent, each with reads of its own.
 */
export class BatchReads {
  private readonly reads = new Map<string, Promise<unknown>>();

  once<T>(key: string, read: () => Promise<T>): Promise<T> {
    let pending = this.reads.get(key) as Promise<T> | undefined;
    if (!pending) {
      pending = read();
      this.reads.set(key, pending);
    }
    return pending;
  }
}

/** Reads once within a batch, or every time outside one. */
export function readOnce<T>(batch: BatchReads | undefined, key: string, read: () => Promise<T>): Promise<T> {
  return batch ? batch.once(key, read) : read();
}

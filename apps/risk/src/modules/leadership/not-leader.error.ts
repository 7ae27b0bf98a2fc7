/**
 * A write attempted by a risk instance that does not hold the writer lock (a standby, or a leader that just
 * lost its lock session). Not a business error: the job is retried, and the leader takes it.
 */
export class NotLeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotLeaderError';
  }
}

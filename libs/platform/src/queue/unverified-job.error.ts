/**
 * A well-formed job whose claims the consumer could not verify against the record of the service that owns
 * them (docs/adr/0010). A business error: the job is refused for good (never retried) and audited as
 * `job.forged` by `JobValidator.verified`. The reason names the mismatch, never a secret.
 */
export class UnverifiedJobError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = UnverifiedJobError.name;
  }
}

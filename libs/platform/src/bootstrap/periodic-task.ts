/**
 * A loop that runs `work` every `intervalMs`, never overlapping itself (a slow run is not stacked on: the
 * next starts after it ends), optionally once at start, and stops by waiting for the run in progress.
 * Errors are handed to `onError` and the loop goes on. The timer does not keep the process alive.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly work: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  start({ runNow = false }: { runNow?: boolean } = {}): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.trigger(), this.intervalMs);
    this.timer.unref();
    if (runNow) void this.trigger();
  }

  /** Runs now unless a run is in progress; resolves when the run (or the one in progress) ends. */
  trigger(): Promise<void> {
    this.running ??= this.work()
      .catch((error: unknown) => this.onError(error))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

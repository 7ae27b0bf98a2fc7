import { Logger } from '@nestjs/common';

/**
 * A service's re-drive sweep (docs/runbook.md, "Nothing accepted is lost"): every `everyMs` it runs `sweep`,
 * never two at once, and stops with the service. A failed pass (the database or Redis is down) is logged and
 * tried again on the next tick.
 */
export class RedriveSweep {
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    name: string,
    private readonly everyMs: number,
    private readonly sweep: () => Promise<number>,
  ) {
    this.logger = new Logger(name);
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass now (skipped if one is running); how many jobs it sent again. */
  async tick(): Promise<number> {
    if (this.running) return 0;
    const pass = this.sweep().then(
      (n) => {
        if (n > 0) this.logger.warn({ redriven: n }, 're-drove jobs that never arrived downstream');
        return n;
      },
      (error: unknown) => {
        this.logger.warn({ err: error }, 're-drive sweep failed; trying again on the next tick');
        return 0;
      },
    );
    this.running = pass;
    try {
      return await pass;
    } finally {
      this.running = undefined;
    }
  }
}

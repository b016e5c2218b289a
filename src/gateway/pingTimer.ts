import type { ServerClock } from '../clock.js';

/**
 * One timer for all clients, on the server's clock (so a SimulatedClock
 * drives it in tests). It runs only while there are clients: an idle gateway
 * holds no timer that could keep the process alive.
 */
export class PingTimer {
  private handle: unknown;
  private running = false;

  /** `tick` probes every client and says whether any remain. */
  constructor(
    private readonly clock: ServerClock,
    private readonly intervalMs: number,
    private readonly tick: () => boolean,
  ) {}

  ensureRunning(): void {
    if (this.running || this.intervalMs <= 0) return;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.clock.clearTimeout(this.handle);
  }

  private schedule(): void {
    this.handle = this.clock.setTimeout(() => {
      if (!this.running) return;
      if (this.tick()) this.schedule();
      else this.running = false;
    }, this.intervalMs);
  }
}

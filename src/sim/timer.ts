/**
 * The simulator's only source of time. The system timer in the CLI; in tests
 * the name server's xstate SimulatedClock (same three methods), so one
 * `clock.increment(ms)` moves brokers and name server together.
 */
export interface SimTimer {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export function systemTimer(): SimTimer {
  return {
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
    now: () => Date.now(),
  };
}

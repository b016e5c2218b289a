import type { TimerClock } from '../machines/brokerRegistry.js';

/**
 * The one source of time for a name server instance: actors schedule their
 * timers on it and the server reads `now()` from it, so a test that passes
 * xstate's SimulatedClock controls every timestamp and every expiry.
 */
export interface ServerClock extends TimerClock {
  now(): number;
}

export function systemClock(): ServerClock {
  return {
    setTimeout: (fn: (...args: unknown[]) => void, ms: number) => setTimeout(fn, ms),
    clearTimeout: (id: unknown) => clearTimeout(id as NodeJS.Timeout),
    now: () => Date.now(),
  };
}

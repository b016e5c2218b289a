import type { SimulatedClock } from 'xstate';

/**
 * The passage of time as conform sees it. Paths are judged on what the target
 * answers after time has passed (a wait, a heartbeat timeout), so how time
 * passes is the one thing that differs between a real target and an
 * in-process xnamesrv on xstate's SimulatedClock; everything else (requests,
 * answers, checks) is the same code.
 *
 * - `advance(ms)`: time the target's timers see. Real: a sleep. Simulated: the
 *   target's clock moves, in slices, with the event loop turning between them
 *   so the target's sockets are served as they would be while time passes.
 * - `settle()`: a short pause for the target to finish something asynchronous
 *   on its side (a closed connection noticed, a queued unregistration applied).
 *   Real: a short sleep, which is time the target's timers see too. Simulated:
 *   the event loop turns and the target's clock moves by the same amount, so a
 *   check that needs several polls costs the same target time in both modes.
 */
export interface ConformClock {
  readonly kind: 'real' | 'simulated';
  now(): number;
  advance(ms: number): Promise<void>;
  settle(): Promise<void>;
}

const SETTLE_MS = 100;

export function realClock(settleMs = SETTLE_MS): ConformClock {
  return {
    kind: 'real',
    now: () => Date.now(),
    advance: (ms) => sleep(ms),
    settle: () => sleep(settleMs),
  };
}

/** The largest single move of a simulated clock: timers due inside a slice fire in order, sockets are served between slices. */
const SIMULATED_SLICE_MS = 250;

export function simulatedClock(clock: SimulatedClock, settleMs = SETTLE_MS): ConformClock {
  const move = async (ms: number) => {
    let left = ms;
    while (left > 0) {
      const slice = Math.min(left, SIMULATED_SLICE_MS);
      clock.increment(slice);
      left -= slice;
      await turns(3);
    }
    await turns(3);
  };
  return {
    kind: 'simulated',
    now: () => clock.now(),
    advance: move,
    settle: () => move(settleMs),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** A few event-loop turns: enough for loopback I/O that is already under way to be read and answered. */
async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

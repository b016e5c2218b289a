/**
 * Waits for an event-driven promise, giving up after a number of event-loop
 * turns rather than a wall-clock time: no sleeps, and a lost event fails the
 * test with a message instead of hanging it.
 */
export async function within<T>(promise: Promise<T>, what: string, turns = 100_000): Promise<T> {
  let settled = false;
  const guarded = promise.finally(() => {
    settled = true;
  });
  const giveUp = (async () => {
    for (let i = 0; i < turns && !settled; i++) await new Promise((resolve) => setImmediate(resolve));
    if (!settled) throw new Error(`gave up waiting for ${what} after ${turns} event-loop turns`);
    return undefined as never;
  })();
  return Promise.race([guarded, giveUp]);
}

export interface Gate {
  /** Resolves when the gated code has reached the gate. */
  entered: Promise<void>;
  /** The function to put in the gated code's way. */
  wait(): Promise<void>;
  release(): void;
  fail(error: Error): void;
}

export function createGate(): Gate {
  let markEntered!: () => void;
  const entered = new Promise<void>((resolve) => (markEntered = resolve));
  let release!: () => void;
  let fail!: (error: Error) => void;
  const passage = new Promise<void>((resolve, reject) => {
    release = resolve;
    fail = reject;
  });
  passage.catch(() => undefined);
  return {
    entered,
    wait() {
      markEntered();
      return passage;
    },
    release,
    fail,
  };
}

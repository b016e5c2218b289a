import type { ConformClock } from '../clock.js';
import type { TargetProfile } from '../target/profile.js';
import type { WireSession } from '../target/wire.js';

/** What every runner needs of one target: how to reach it, how time passes, what to expect of its timing. */
export interface RunContext {
  wire: WireSession;
  clock: ConformClock;
  profile: TargetProfile;
  timing: RunTiming;
  signal?: AbortSignal;
}

export interface RunTiming {
  /** The heartbeatTimeoutMillis brokers register with. */
  heartbeatTimeoutMs: number;
  /** When the target expires a silent broker (its own rule); undefined when expiry paths do not run on it. */
  expiryMs: number | undefined;
  /** How long a check may take to come true on the target (queued unregistrations, closes noticed late). */
  settleBudgetMs: number;
  /** Target time left after a connection close before a check that the close changed nothing. */
  quietMs: number;
  /** How long before an expiry the broker is checked to be still there. */
  marginMs: number;
}

import type { LifecycleSettings } from '../../../machines/nameServer.js';
import type { ConformClock } from '../clock.js';
import type { HttpEvidence } from '../run/httpEvidence.js';
import type { TargetAddress } from './wire.js';

/** A name server conform talks to, and how time passes for it. */
export interface LaunchedTarget {
  description: string;
  address: TargetAddress;
  http?: HttpEvidence;
  clock: ConformClock;
  /** Target time at which start-up was over; for a target someone else started, conform's first contact. */
  startedAt: number;
  /** Stops it, when conform started it (a no-op otherwise). */
  stop(): Promise<void>;
}

/**
 * Where targets come from. A real name server is given (`--target`), once:
 * broker paths and, when the operator says how it was started, one lifecycle
 * tour run against it. An in-process xnamesrv can be started afresh for
 * every lifecycle path, with each configuration of the wait.
 */
export interface TargetLauncher {
  description: string;
  /** The target broker paths and protocol checks run against (serving routes). */
  serving(): Promise<LaunchedTarget>;
  /** A new target, just started with these settings; absent when conform cannot start targets. */
  startFresh?(settings: LifecycleSettings): Promise<LaunchedTarget>;
  /** Releases whatever serving() made. */
  close(): Promise<void>;
}

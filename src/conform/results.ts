import type { TargetProfile } from './target/profile.js';

/**
 * What a conform run found, in the shape every report (terminal, JUnit, HTML)
 * is written from.
 */
export type PathVerdict = 'pass' | 'fail' | 'skip' | 'divergence';
export type StepVerdict = 'pass' | 'fail' | 'divergence' | 'not-run';

export interface StepRecord {
  index: number;
  /** The model event, as the chart names it (for drawing: which arrow). */
  eventType: string;
  /** The step in words: what conform did on the wire. */
  action: string;
  /** The model state before and after (dotted state value); null before the first. */
  from: string | null;
  to: string;
  verdict: StepVerdict;
  /** For a failed step: what was expected and what the target answered. */
  detail?: string;
  /** Target time since the path began, ms. */
  atMs?: number;
}

export type PathGroup = 'lifecycle' | 'broker' | 'protocol';

export interface PathRecord {
  /** Unique in a run, stable across runs of the same version: `broker-07`. */
  id: string;
  group: PathGroup;
  /** The chart the path walks (absent for protocol checks, which walk none). */
  machineId?: 'broker' | 'nameServer';
  /** The events in a few words; stable across runs of the same version. */
  name: string;
  /** Which generator made it, for which configuration. */
  origin: string;
  verdict: PathVerdict;
  /** Skip reason, divergence reason, or the failure in one line. */
  reason?: string;
  /** Set for a divergence: the entry of divergences.ts. */
  divergenceId?: string;
  /** Whether the path only reads (is safe against any name server). */
  readOnly: boolean;
  steps: StepRecord[];
  /** Wall-clock duration, ms. */
  durationMs: number;
  /** Time the target saw pass, ms (simulated in-process). */
  targetMs: number;
}

export interface CleanupRecord {
  /** Brokers the run unregistered and disconnected at the end. */
  brokers: number;
  /** Whether GET_BROKER_CLUSTER_INFO showed nothing of the run's cluster afterwards. */
  verified: boolean;
  detail?: string;
}

export interface ConformReport {
  tool: { name: 'xnamesrv conform'; version: string };
  target: { remoting: string; http?: string; description: string };
  profile: Pick<TargetProfile, 'kind' | 'detectedFrom' | 'version' | 'refresh' | 'expiry'>;
  run: {
    runId: string;
    clusterName: string;
    clock: 'real' | 'simulated';
    heartbeatTimeoutMillis: number;
    startedAt: string;
    finishedAt: string;
    durationMs: number;
  };
  /** What the lifecycle paths assumed about how the target was started. */
  lifecycle: string;
  paths: PathRecord[];
  cleanup?: CleanupRecord;
  notes: string[];
  aborted: boolean;
}

export interface Counts {
  total: number;
  pass: number;
  fail: number;
  skip: number;
  divergence: number;
}

export function countsOf(paths: readonly PathRecord[]): Counts {
  const counts: Counts = { total: paths.length, pass: 0, fail: 0, skip: 0, divergence: 0 };
  for (const path of paths) counts[path.verdict]++;
  return counts;
}

/** Nothing failed: every path passed, was skipped or diverged as documented, and the clean-up held. */
export function succeeded(report: ConformReport): boolean {
  return !report.aborted && countsOf(report.paths).fail === 0 && report.cleanup?.verified !== false;
}

import type { LifecycleSettings } from '../../../machines/nameServer.js';
import { newRunIdentity, type RunIdentity } from '../plan/identity.js';
import type { LifecycleTiming } from '../plan/lifecyclePlan.js';
import type { ConformReport, PathRecord } from '../results.js';
import type { LaunchedTarget, TargetLauncher } from '../target/launcher.js';
import { detectProfile, expiryMsOf, profileOf, type TargetKind, type TargetProfile } from '../target/profile.js';
import { WireSession } from '../target/wire.js';
import { verifyCleanup } from './cleanup.js';
import type { RunContext, RunTiming } from './context.js';
import { TargetUnreachable } from './errors.js';
import { estimateMs, planJobs, skipped, type Job } from './jobs.js';
import { errorMessage } from '../../util/errorMessage.js';

export interface ConformOptions {
  launcher: TargetLauncher;
  /** Overrides what conform infers about the target. */
  flavor?: TargetKind;
  /** heartbeatTimeoutMillis the brokers register with. Default: 10 s against a real target, 4 s in-process. */
  heartbeatTimeoutMs?: number;
  /** Run expiry paths even where the target's expiry is fixed at 120 s (RocketMQ 4.9). */
  long?: boolean;
  /** How a target conform cannot start was started: its one lifecycle path follows these settings. */
  startedWith?: LifecycleSettings;
  /** Also run simple paths (every path that repeats no state), not just shortest ones. Default true. */
  simplePaths?: boolean;
  /** Paths run at once against a real target (each uses brokers of its own). */
  concurrency?: number;
  requestTimeoutMs?: number;
  settleBudgetMs?: number;
  quietMs?: number;
  /** Run only paths whose name this accepts. */
  only?: (name: string) => boolean;
  /** Run only paths that register nothing. */
  readOnly?: boolean;
  identity?: RunIdentity;
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
  toolVersion?: string;
}

export type Progress =
  /** `estimatedMs`: how long the run should take in real time (undefined on a simulated clock). */
  | { kind: 'planned'; total: number; estimatedMs: number | undefined; profile: TargetProfile }
  | { kind: 'started'; index: number; total: number; name: string }
  | { kind: 'finished'; index: number; total: number; record: PathRecord };

export { ConformUsageError, TargetUnreachable } from './errors.js';

/**
 * A conform run: learn what the target is, plan the paths, run them (the
 * lifecycle first when the target was just started, since its wait is
 * running), clean up, and check that the run left nothing behind.
 */
export async function runConformance(options: ConformOptions): Promise<ConformReport> {
  const startedWall = Date.now();
  const identity = options.identity ?? newRunIdentity();
  let serving: LaunchedTarget;
  try {
    serving = await options.launcher.serving();
  } catch (err) {
    throw new TargetUnreachable(
      `cannot start or reach the target (${options.launcher.description}): ${errorMessage(err)}`,
    );
  }
  // In this process, an answer is late only because the machine is busy (tests run in parallel):
  // the timeout is there to notice a request never answered, not to judge speed.
  const requestTimeoutMs = options.requestTimeoutMs ?? (serving.clock.kind === 'simulated' ? 10_000 : 3_000);
  const notes: string[] = [];
  let wire: WireSession | undefined;
  try {
    // Detection only reads; the session's profile does not matter for it.
    wire = new WireSession(
      serving.address,
      profileOf('xnamesrv', 'not known yet', undefined, new Map()),
      requestTimeoutMs,
    );
    const detected = await detectProfile((code) => wire!.raw(code), options.flavor).catch((err: Error) => {
      throw new TargetUnreachable(`the target at ${serving.description} does not answer: ${err.message}`);
    });
    await wire.closeAll();
    wire = new WireSession(serving.address, detected, requestTimeoutMs);
    const profile = detected;
    const clock = serving.clock;
    const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? (clock.kind === 'simulated' ? 4_000 : 10_000);
    const expiryRunnable = profile.expiry.honoursHeartbeatTimeout || options.long === true;
    const timing: RunTiming = {
      heartbeatTimeoutMs,
      expiryMs: expiryRunnable ? expiryMsOf(profile, heartbeatTimeoutMs) : undefined,
      settleBudgetMs: options.settleBudgetMs ?? 3_000,
      quietMs: options.quietMs ?? 500,
      marginMs: 1_000,
    };
    const lifecycleTiming: LifecycleTiming = {
      expiryMs: timing.expiryMs,
      expirySlackMs: profile.expiry.scanSlackMs + timing.settleBudgetMs,
      marginMs: timing.marginMs + timing.quietMs * 4,
    };
    const ctxFor = (target: LaunchedTarget, session: WireSession): RunContext => ({
      wire: session,
      clock: target.clock,
      profile,
      timing,
      signal: options.signal,
    });

    const { jobs, lifecycleLine } = planJobs({
      options,
      identity,
      profile,
      timing,
      lifecycleTiming,
      notes,
      canStartTargets: !!options.launcher.startFresh,
    });
    const total = jobs.length;
    const concurrency = clock.kind === 'simulated' ? 1 : Math.max(1, options.concurrency ?? 4);
    options.onProgress?.({
      kind: 'planned',
      total,
      estimatedMs: clock.kind === 'real' ? estimateMs(jobs, concurrency) : undefined,
      profile,
    });

    const records = new Array<PathRecord>(total);
    const finished = (index: number, record: PathRecord) => {
      records[index] = record;
      options.onProgress?.({ kind: 'finished', index, total, record });
    };
    const order = jobs.map((job, index) => ({ job, index }));
    // A target someone just started is in its wait now: its lifecycle tour first.
    const tour = order.filter((o) => o.job.place === 'tour');
    const rest = order.filter((o) => o.job.place !== 'tour');
    for (const { job, index } of [...tour, ...rest.filter((o) => o.job.skip)]) {
      if (job.skip) {
        finished(index, skipped(job, job.skip));
        continue;
      }
      options.onProgress?.({ kind: 'started', index, total, name: job.meta.name });
      finished(index, await job.run(ctxFor(serving, wire), serving));
    }
    const runJob = async ({ job, index }: { job: Job; index: number }) => {
      if (options.signal?.aborted) return finished(index, skipped(job, 'aborted'));
      options.onProgress?.({ kind: 'started', index, total, name: job.meta.name });
      if (job.place !== 'fresh') return finished(index, await job.run(ctxFor(serving, wire!), serving));
      const fresh = await options.launcher.startFresh!(job.settings!);
      const session = new WireSession(fresh.address, profile, requestTimeoutMs);
      try {
        finished(index, await job.run(ctxFor(fresh, session), fresh));
      } finally {
        await session.closeAll();
        await fresh.stop();
      }
    };
    const runnable = rest.filter((o) => !o.job.skip);
    // Paths on the shared target run `concurrency` at a time (one on a simulated clock: a path
    // moving it would move every other path's time). Each fresh target has a clock of its own.
    await Promise.all([
      inPool(
        runnable.filter((o) => o.job.place === 'fresh'),
        FRESH_TARGETS_AT_ONCE,
        runJob,
      ),
      inPool(
        runnable.filter((o) => o.job.place !== 'fresh'),
        concurrency,
        runJob,
      ),
    ]);

    const cleanup = await verifyCleanup(wire, serving);
    const finishedWall = Date.now();
    return {
      tool: { name: 'xnamesrv conform', version: options.toolVersion ?? 'dev' },
      target: {
        remoting: `${serving.address.host}:${serving.address.port}`,
        ...(serving.http ? { http: serving.http.baseUrl } : {}),
        description: options.launcher.description,
      },
      profile: {
        kind: profile.kind,
        detectedFrom: profile.detectedFrom,
        version: profile.version,
        refresh: profile.refresh,
        expiry: profile.expiry,
      },
      run: {
        runId: identity.runId,
        clusterName: identity.clusterName,
        clock: clock.kind,
        heartbeatTimeoutMillis: heartbeatTimeoutMs,
        startedAt: new Date(startedWall).toISOString(),
        finishedAt: new Date(finishedWall).toISOString(),
        durationMs: finishedWall - startedWall,
      },
      lifecycle: lifecycleLine,
      paths: records,
      cleanup,
      notes,
      aborted: options.signal?.aborted === true,
    };
  } finally {
    await wire?.closeAll();
    await options.launcher.close();
  }
}

/** Targets conform starts for lifecycle paths at once: their start-ups overlap. */
const FRESH_TARGETS_AT_ONCE = 2;

async function inPool<T>(items: readonly T[], size: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await run(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}

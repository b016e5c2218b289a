import type { LifecycleSettings } from '../../../machines/nameServer.js';
import { stateName } from '../../observe/transitions.js';
import { conformBrokerPaths, type PlannedBrokerPath } from '../plan/brokerPlan.js';
import { newRunIdentity, type RunIdentity } from '../plan/identity.js';
import {
  generateConformLifecyclePaths,
  inProcessLifecycleConfigs,
  lifecycleTour,
  sampleBrokersFor,
  timelineOf,
  xnamesrvExtensionsIn,
  type LifecyclePlanConfig,
  type LifecycleTiming,
} from '../plan/lifecyclePlan.js';
import { lifecyclePathName, sampleLabels } from '../plan/pathNames.js';
import type { ModelPathNS } from '../model/lifecycleModel.js';
import type { ConformReport, PathRecord, StepRecord } from '../results.js';
import { eventually } from '../target/observe.js';
import type { LaunchedTarget, TargetLauncher } from '../target/launcher.js';
import { detectProfile, expiryMsOf, profileOf, type TargetKind, type TargetProfile } from '../target/profile.js';
import { WireSession } from '../target/wire.js';
import { runBrokerPath } from './brokerRunner.js';
import type { RunContext, RunTiming } from './context.js';
import { describeSettings, runLifecyclePath } from './lifecycleRunner.js';
import { protocolChecks, runProtocolCheck } from './protocolChecks.js';
import type { PathMeta } from './walk.js';

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

/** The target did not answer at all: nothing could be checked. */
export class TargetUnreachable extends Error {}

/** What conform was told does not fit the target it found (exit code 2, like any bad argument). */
export class ConformUsageError extends Error {}

interface Job {
  meta: PathMeta;
  /** Where it runs: the serving target, a fresh one, or the one lifecycle run a real target allows. */
  place: 'serving' | 'fresh' | 'tour';
  estimateMs: number;
  /** The lifecycle settings a fresh target is started with. */
  settings?: LifecycleSettings;
  skip?: string;
  run(ctx: RunContext, target: LaunchedTarget): Promise<PathRecord>;
  /** Steps as planned, for a path that does not run. */
  planned: StepRecord[];
}

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
    throw new TargetUnreachable(`cannot start or reach the target (${options.launcher.description}): ${err instanceof Error ? err.message : String(err)}`);
  }
  // In this process, an answer is late only because the machine is busy (tests run in parallel):
  // the timeout is there to notice a request never answered, not to judge speed.
  const requestTimeoutMs = options.requestTimeoutMs ?? (serving.clock.kind === 'simulated' ? 10_000 : 3_000);
  const notes: string[] = [];
  let wire: WireSession | undefined;
  try {
    // Detection only reads; the session's profile does not matter for it.
    wire = new WireSession(serving.address, profileOf('xnamesrv', 'not known yet', undefined, new Map()), requestTimeoutMs);
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
    const ctxFor = (target: LaunchedTarget, session: WireSession): RunContext => ({ wire: session, clock: target.clock, profile, timing, signal: options.signal });

    const jobs = planJobs(options, identity, profile, timing, lifecycleTiming, notes, !!options.launcher.startFresh);
    const lifecycleLine = describeLifecycleAssumption(options, profile, !!options.launcher.startFresh);
    const total = jobs.length;
    const concurrency = clock.kind === 'simulated' ? 1 : Math.max(1, options.concurrency ?? 4);
    options.onProgress?.({ kind: 'planned', total, estimatedMs: clock.kind === 'real' ? estimateMs(jobs, concurrency) : undefined, profile });

    const records: PathRecord[] = new Array(total);
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
      inPool(runnable.filter((o) => o.job.place === 'fresh'), FRESH_TARGETS_AT_ONCE, runJob),
      inPool(runnable.filter((o) => o.job.place !== 'fresh'), concurrency, runJob),
    ]);

    const cleanup = await verifyCleanup(wire, serving);
    const finishedWall = Date.now();
    return {
      tool: { name: 'xnamesrv conform', version: options.toolVersion ?? 'dev' },
      target: { remoting: `${serving.address.host}:${serving.address.port}`, ...(serving.http ? { http: serving.http.baseUrl } : {}), description: options.launcher.description },
      profile: { kind: profile.kind, detectedFrom: profile.detectedFrom, version: profile.version, refresh: profile.refresh, expiry: profile.expiry },
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

/** The tour runs alone, then the other paths share the workers; each path takes at least its own longest wait. */
function estimateMs(jobs: readonly Job[], concurrency: number): number {
  const running = jobs.filter((j) => !j.skip);
  const tour = running.filter((j) => j.place === 'tour').reduce((sum, j) => sum + j.estimateMs, 0);
  const rest = running.filter((j) => j.place !== 'tour');
  return tour + Math.max(rest.reduce((sum, j) => sum + j.estimateMs, 0) / concurrency, ...rest.map((j) => j.estimateMs), 0);
}

function skipped(job: Job, reason: string): PathRecord {
  return { ...job.meta, verdict: 'skip', reason: reason === 'aborted' ? 'aborted' : `skipped: ${reason}`, steps: job.planned, durationMs: 0, targetMs: 0 };
}

function plannedSteps(path: { steps: Array<{ event: { type: string }; state: { value: unknown } }> }): StepRecord[] {
  return path.steps.map((step, index) => ({
    index,
    eventType: step.event.type,
    action: step.event.type,
    from: index > 0 ? stateName(path.steps[index - 1]!.state.value) : null,
    to: stateName(step.state.value),
    verdict: 'not-run',
  }));
}

function planJobs(
  options: ConformOptions,
  identity: RunIdentity,
  profile: TargetProfile,
  timing: RunTiming,
  lifecycleTiming: LifecycleTiming,
  notes: string[],
  canStartTargets: boolean,
): Job[] {
  const jobs: Job[] = [];
  const counters = { lifecycle: 0, broker: 0, protocol: 0 };
  const id = (group: keyof typeof counters) => `${group}-${String(++counters[group]).padStart(2, '0')}`;
  const simple = options.simplePaths ?? true;

  // Lifecycle.
  const lifecycleJob = (config: LifecyclePlanConfig, path: ModelPathNS, place: Job['place'], topic: string): Job => {
    const timeline = timelineOf(path, config.settings, lifecycleTiming);
    const meta: PathMeta = { id: id('lifecycle'), group: 'lifecycle', machineId: 'nameServer', name: lifecyclePathName(config.name, path, sampleLabels(config.brokers)), origin: path.origin, readOnly: false };
    return {
      meta,
      place,
      settings: config.settings,
      estimateMs: timeline.feasible ? timeline.durationMs : 0,
      ...(timeline.feasible ? {} : { skip: `not executable on this target: ${timeline.reason}` }),
      planned: plannedSteps(path),
      run: (ctx, target) =>
        runLifecyclePath(path, config, meta, topic, { startedAt: target.startedAt, startedAtIsFirstContact: place === 'tour', ...(target.http ? { http: target.http } : {}) }, ctx),
    };
  };
  if (canStartTargets) {
    inProcessLifecycleConfigs(identity).forEach((config, i) => {
      const topic = identity.topic(900 + i);
      const paths = [...generateConformLifecyclePaths(config, timing.heartbeatTimeoutMs, timing.expiryMs !== undefined, simple), lifecycleTour(config, timing.heartbeatTimeoutMs, lifecycleTiming)];
      for (const path of paths) jobs.push(lifecycleJob(config, path, 'fresh', topic));
    });
  } else if (options.startedWith) {
    const settings = options.startedWith;
    const extensions = xnamesrvExtensionsIn(settings);
    if (extensions.length > 0 && profile.kind !== 'xnamesrv') {
      throw new ConformUsageError(`${extensions.join(' and ')} describe xnamesrv's wait target, but the target is ${profile.kind} (${profile.detectedFrom}): leave them out, or pass --flavor xnamesrv if it is one`);
    }
    if (settings.needWaitForService && profile.kind === 'rocketmq-4') {
      notes.push('RocketMQ 4.x has no needWaitForService: --wait-seconds does not apply to this target; its lifecycle tour runs as a server without a wait');
    }
    const effective = settings.needWaitForService && profile.kind === 'rocketmq-4' ? { ...settings, needWaitForService: false } : settings;
    crossCheckStartSettings(effective, profile, notes);
    const config: LifecyclePlanConfig = { name: describeSettings(effective), settings: effective, brokers: sampleBrokersFor(effective, identity) };
    jobs.push(lifecycleJob(config, lifecycleTour(config, timing.heartbeatTimeoutMs, lifecycleTiming), 'tour', identity.topic(900)));
  } else {
    jobs.push({
      meta: { id: id('lifecycle'), group: 'lifecycle', machineId: 'nameServer', name: 'lifecycle: wait, ready and never back (apache/rocketmq#9182)', origin: 'lifecycle / tour', readOnly: false },
      place: 'tour',
      estimateMs: 0,
      skip: 'needs --wait-seconds N: how the target was started (start it fresh with needWaitForService=true and waitSecondsForService=N, or give 0 for a target started without a wait)',
      planned: [],
      run: () => Promise.reject(new Error('not runnable')),
    });
  }

  // Protocol checks: read-only, first, so a target that refuses reads is named at once.
  protocolChecks(identity.topic(999)).forEach((check) => {
    const meta: PathMeta = { id: id('protocol'), group: 'protocol', name: check.name, origin: 'protocol / scripted', readOnly: true };
    jobs.push({ meta, place: 'serving', estimateMs: 0, planned: [], run: (ctx) => runProtocolCheck(check, meta.id, ctx) });
  });

  // Broker registration paths.
  conformBrokerPaths({ simple }).forEach((planned: PlannedBrokerPath, n) => {
    const meta: PathMeta = { id: id('broker'), group: 'broker', machineId: 'broker', name: planned.name, origin: planned.path.origin, readOnly: false };
    const expiryMs = timing.expiryMs;
    const fixedMs = profile.expiry.fixedMs;
    jobs.push({
      meta,
      place: 'serving',
      estimateMs: planned.expires && expiryMs !== undefined ? expiryMs * 1.5 + profile.expiry.scanSlackMs : 0,
      ...(planned.expires && expiryMs === undefined ? { skip: `needs ${Math.round((fixedMs ?? 0) / 1000)} s per expiry (this target expires brokers after a fixed ${Math.round((fixedMs ?? 0) / 1000)} s; run with --long)` } : {}),
      planned: plannedSteps(planned.path),
      run: (ctx) => runBrokerPath(planned, meta, n, identity, ctx),
    });
  });

  for (const job of jobs) {
    if (job.skip) continue;
    if (options.readOnly && !job.meta.readOnly) job.skip = 'registers brokers (--read-only)';
    else if (options.only && !options.only(job.meta.name)) job.skip = 'not selected (--paths)';
  }
  return jobs;
}

/** When the target reports its wait settings, they must be the ones conform was told. */
function crossCheckStartSettings(settings: LifecycleSettings, profile: TargetProfile, notes: string[]): void {
  const reported = profile.config;
  const need = reported.get('needWaitForService');
  const seconds = reported.get('waitSecondsForService');
  if (need !== undefined && (need === 'true') !== settings.needWaitForService) {
    notes.push(`the target reports needWaitForService=${need}, but conform was told ${settings.needWaitForService}: the lifecycle tour follows what it was told`);
  }
  if (settings.needWaitForService && seconds !== undefined && Number(seconds) !== settings.waitSecondsForService) {
    notes.push(`the target reports waitSecondsForService=${seconds}, but --wait-seconds says ${settings.waitSecondsForService}: the lifecycle tour follows --wait-seconds`);
  }
}

function describeLifecycleAssumption(options: ConformOptions, profile: TargetProfile, canStartTargets: boolean): string {
  if (canStartTargets) return 'each lifecycle path ran on a target conform started for it, with the configuration in its name';
  if (options.startedWith) return `one lifecycle tour on a target started just before the run: ${describeSettings(options.startedWith)} (${profile.kind})`;
  return 'not checked: conform was not told how the target was started (--wait-seconds)';
}

/** Looks again at the serving target: none of the run's brokers may still be there. */
async function verifyCleanup(wire: WireSession, target: LaunchedTarget): Promise<ConformReport['cleanup']> {
  const brokers = wire.registeredBrokers();
  for (const broker of brokers) await wire.release(broker);
  if (brokers.length === 0) return { brokers: 0, verified: true };
  const leftover = await eventually(
    async () => {
      const info = await wire.clusterInfo();
      for (const broker of brokers) {
        const addrs = info.brokerAddrTable[broker.brokerName]?.brokerAddrs ?? {};
        if (Object.values(addrs).includes(broker.brokerAddr)) {
          return { check: 'cluster-info' as const, kind: 'present' as const, message: `${broker.brokerName}@${broker.brokerAddr} is still registered` };
        }
      }
      return undefined;
    },
    target.clock,
    10_000,
  ).catch((err: Error) => ({ check: 'wire' as const, kind: 'other' as const, message: err.message }));
  return leftover ? { brokers: brokers.length, verified: false, detail: leftover.message } : { brokers: brokers.length, verified: true };
}

import type { LifecycleSettings } from '../../../machines/nameServer.js';
import { stateName } from '../../observe/transitions.js';
import type { ModelPathNS } from '../model/lifecycleModel.js';
import { conformBrokerPaths, type PlannedBrokerPath } from '../plan/brokerPlan.js';
import type { RunIdentity } from '../plan/identity.js';
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
import type { PathRecord, StepRecord } from '../results.js';
import type { LaunchedTarget } from '../target/launcher.js';
import type { TargetProfile } from '../target/profile.js';
import { runBrokerPath } from './brokerRunner.js';
import type { RunContext, RunTiming } from './context.js';
import { ConformUsageError } from './errors.js';
import { describeSettings, runLifecyclePath } from './lifecycleRunner.js';
import { protocolChecks, runProtocolCheck } from './protocolChecks.js';
import type { ConformOptions } from './runner.js';
import type { PathMeta } from './walk.js';

/**
 * What a run will do, path by path: the lifecycle (on targets conform starts,
 * or the one tour a started target allows, or nothing when conform was not
 * told how the target started), the protocol checks and the broker paths,
 * each with where it runs and, when it cannot run here, why.
 */
export interface Job {
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

/** The tour runs alone, then the other paths share the workers; each path takes at least its own longest wait. */
export function estimateMs(jobs: readonly Job[], concurrency: number): number {
  const running = jobs.filter((j) => !j.skip);
  const tour = running.filter((j) => j.place === 'tour').reduce((sum, j) => sum + j.estimateMs, 0);
  const rest = running.filter((j) => j.place !== 'tour');
  return (
    tour + Math.max(rest.reduce((sum, j) => sum + j.estimateMs, 0) / concurrency, ...rest.map((j) => j.estimateMs), 0)
  );
}

export function skipped(job: Job, reason: string): PathRecord {
  return {
    ...job.meta,
    verdict: 'skip',
    reason: reason === 'aborted' ? 'aborted' : `skipped: ${reason}`,
    steps: job.planned,
    durationMs: 0,
    targetMs: 0,
  };
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

export interface PlanInput {
  options: ConformOptions;
  identity: RunIdentity;
  profile: TargetProfile;
  timing: RunTiming;
  lifecycleTiming: LifecycleTiming;
  /** Filled with what the report should tell about the plan. */
  notes: string[];
  canStartTargets: boolean;
}

export function planJobs({ options, identity, profile, timing, lifecycleTiming, notes, canStartTargets }: PlanInput): {
  jobs: Job[];
  lifecycleLine: string;
} {
  const jobs: Job[] = [];
  const counters = { lifecycle: 0, broker: 0, protocol: 0 };
  const id = (group: keyof typeof counters) => `${group}-${String(++counters[group]).padStart(2, '0')}`;
  const simple = options.simplePaths ?? true;
  let lifecycleLine = canStartTargets
    ? 'each lifecycle path ran on a target conform started for it, with the configuration in its name'
    : 'not checked: conform was not told how the target was started (--wait-seconds)';

  // Lifecycle.
  const lifecycleJob = (config: LifecyclePlanConfig, path: ModelPathNS, place: Job['place'], topic: string): Job => {
    const timeline = timelineOf(path, config.settings, lifecycleTiming);
    const meta: PathMeta = {
      id: id('lifecycle'),
      group: 'lifecycle',
      machineId: 'nameServer',
      name: lifecyclePathName(config.name, path, sampleLabels(config.brokers)),
      origin: path.origin,
      readOnly: false,
    };
    return {
      meta,
      place,
      settings: config.settings,
      estimateMs: timeline.feasible ? timeline.durationMs : 0,
      ...(timeline.feasible ? {} : { skip: `not executable on this target: ${timeline.reason}` }),
      planned: plannedSteps(path),
      run: (ctx, target) =>
        runLifecyclePath(
          path,
          config,
          meta,
          topic,
          {
            startedAt: target.startedAt,
            startedAtIsFirstContact: place === 'tour',
            ...(target.http ? { http: target.http } : {}),
          },
          ctx,
        ),
    };
  };
  if (canStartTargets) {
    inProcessLifecycleConfigs(identity).forEach((config, i) => {
      const topic = identity.topic(900 + i);
      const paths = [
        ...generateConformLifecyclePaths(config, timing.heartbeatTimeoutMs, timing.expiryMs !== undefined, simple),
        lifecycleTour(config, timing.heartbeatTimeoutMs, lifecycleTiming),
      ];
      for (const path of paths) jobs.push(lifecycleJob(config, path, 'fresh', topic));
    });
  } else if (options.startedWith) {
    const settings = options.startedWith;
    const extensions = xnamesrvExtensionsIn(settings);
    if (extensions.length > 0 && profile.kind !== 'xnamesrv') {
      throw new ConformUsageError(
        `${extensions.join(' and ')} describe xnamesrv's wait target, but the target is ${profile.kind} (${profile.detectedFrom}): leave them out, or pass --flavor xnamesrv if it is one`,
      );
    }
    if (settings.needWaitForService && profile.kind === 'rocketmq-4') {
      notes.push(
        'RocketMQ 4.x has no needWaitForService: --wait-seconds does not apply to this target; its lifecycle tour runs as a server without a wait',
      );
    }
    const effective =
      settings.needWaitForService && profile.kind === 'rocketmq-4'
        ? { ...settings, needWaitForService: false }
        : settings;
    crossCheckStartSettings(effective, profile, notes);
    const config: LifecyclePlanConfig = {
      name: describeSettings(effective),
      settings: effective,
      brokers: sampleBrokersFor(effective, identity),
    };
    jobs.push(
      lifecycleJob(
        config,
        lifecycleTour(config, timing.heartbeatTimeoutMs, lifecycleTiming),
        'tour',
        identity.topic(900),
      ),
    );
    lifecycleLine = `one lifecycle tour on a target started just before the run: ${describeSettings(effective)} (${profile.kind})`;
  } else {
    jobs.push({
      meta: {
        id: id('lifecycle'),
        group: 'lifecycle',
        machineId: 'nameServer',
        name: 'lifecycle: wait, ready and never back (apache/rocketmq#9182)',
        origin: 'lifecycle / tour',
        readOnly: false,
      },
      place: 'tour',
      estimateMs: 0,
      skip: 'needs --wait-seconds N: how the target was started (start it fresh with needWaitForService=true and waitSecondsForService=N, or give 0 for a target started without a wait)',
      planned: [],
      run: () => Promise.reject(new Error('not runnable')),
    });
  }

  // Protocol checks: read-only, first, so a target that refuses reads is named at once.
  protocolChecks(identity.topic(999)).forEach((check) => {
    const meta: PathMeta = {
      id: id('protocol'),
      group: 'protocol',
      name: check.name,
      origin: 'protocol / scripted',
      readOnly: true,
    };
    jobs.push({
      meta,
      place: 'serving',
      estimateMs: 0,
      planned: [],
      run: (ctx) => runProtocolCheck(check, meta.id, ctx),
    });
  });

  // Broker registration paths.
  conformBrokerPaths({ simple }).forEach((planned: PlannedBrokerPath, n) => {
    const meta: PathMeta = {
      id: id('broker'),
      group: 'broker',
      machineId: 'broker',
      name: planned.name,
      origin: planned.path.origin,
      readOnly: false,
    };
    const expiryMs = timing.expiryMs;
    const fixedMs = profile.expiry.fixedMs;
    jobs.push({
      meta,
      place: 'serving',
      estimateMs: planned.expires && expiryMs !== undefined ? expiryMs * 1.5 + profile.expiry.scanSlackMs : 0,
      ...(planned.expires && expiryMs === undefined
        ? {
            skip: `needs ${Math.round((fixedMs ?? 0) / 1000)} s per expiry (this target expires brokers after a fixed ${Math.round((fixedMs ?? 0) / 1000)} s; run with --long)`,
          }
        : {}),
      planned: plannedSteps(planned.path),
      run: (ctx) => runBrokerPath(planned, meta, n, identity, ctx),
    });
  });

  for (const job of jobs) {
    if (job.skip) continue;
    if (options.readOnly && !job.meta.readOnly) job.skip = 'registers brokers (--read-only)';
    else if (options.only && !options.only(job.meta.name)) job.skip = 'not selected (--paths)';
  }
  return { jobs, lifecycleLine };
}

/** When the target reports its wait settings, they must be the ones conform was told. */
function crossCheckStartSettings(settings: LifecycleSettings, profile: TargetProfile, notes: string[]): void {
  const reported = profile.config;
  const need = reported.get('needWaitForService');
  const seconds = reported.get('waitSecondsForService');
  if (need !== undefined && (need === 'true') !== settings.needWaitForService) {
    notes.push(
      `the target reports needWaitForService=${need}, but conform was told ${settings.needWaitForService}: the lifecycle tour follows what it was told`,
    );
  }
  if (settings.needWaitForService && seconds !== undefined && Number(seconds) !== settings.waitSecondsForService) {
    notes.push(
      `the target reports waitSecondsForService=${seconds}, but --wait-seconds says ${settings.waitSecondsForService}: the lifecycle tour follows --wait-seconds`,
    );
  }
}

import { initialTransition, transition } from 'xstate';
import type { LifecycleSettings, NameServerEvent } from '../../../machines/nameServer.js';
import { stateName } from '../../observe/transitions.js';
import {
  AFTER_WAIT_FOR_SERVICE,
  AFTER_WAIT_TIMEOUT,
  brokerLifecycleEvents,
  lifecyclePaths,
  lifecycleTimerEvent,
  modelNameServerMachine,
  STARTUP_DONE,
  type ModelPathNS,
  type ModelSnapshot,
  type SampleBroker,
} from '../model/lifecycleModel.js';
import type { RunIdentity } from './identity.js';

/**
 * Lifecycle paths for conform: the name server chart driven only by what
 * reaches a name server from outside once it has started (brokers'
 * requests and connections, and time). Start-up, stop and shutdown are not
 * on the wire, so paths begin just after start-up: the target was started
 * with the settings the operator named.
 */
export interface LifecyclePlanConfig {
  name: string;
  settings: LifecycleSettings;
  brokers: SampleBroker[];
  /** Keep only paths that pass through a state satisfying this (all when absent). */
  only?: (snapshot: ModelSnapshot) => boolean;
  simplePathLimit?: number;
}

/** What time costs on this target, for deciding which lifecycle paths fit before the chart's own timers. */
export interface LifecycleTiming {
  /** The expiry the target applies to the sample brokers; undefined when expiry steps cannot run here. */
  expiryMs: number | undefined;
  /** How late after its deadline a removal may still come (the target's scan interval, a poll). */
  expirySlackMs: number;
  /** Time kept free before a lifecycle timer when something must happen first. */
  marginMs: number;
}

export function conformLifecycleEvents(
  brokers: readonly SampleBroker[],
  heartbeatTimeoutMillis: number,
  canExpire: boolean,
) {
  return (snapshot: ModelSnapshot): NameServerEvent[] => {
    const value = stateName(snapshot.value);
    if (value === 'starting') return [{ type: STARTUP_DONE } as unknown as NameServerEvent];
    if (snapshot.status !== 'active') return [];
    const events: NameServerEvent[] = [];
    const timer = lifecycleTimerEvent(snapshot);
    if (timer) events.push(timer);
    for (const event of brokerLifecycleEvents(brokers, snapshot, heartbeatTimeoutMillis)) {
      if (event.type !== 'BROKER.REMOVED' || canExpire) events.push(event);
    }
    return events;
  };
}

/** Serve at once: the configuration's defaults, where needWaitForService is off. */
export const NO_WAIT: LifecycleSettings = {
  needWaitForService: false,
  waitSecondsForService: 45,
  waitTimeoutSeconds: 300,
  waitForBrokers: 0,
  waitForBrokerNames: [],
  waitTimeoutAction: 'serve',
};

/**
 * The four configurations the lifecycle paths are walked in: no wait; a wait
 * with no target; a wait target with each timeout action. `slave` is the
 * master's slave, which counts towards the target's broker count.
 */
export function lifecycleConfigs(master: SampleBroker, slave: SampleBroker): LifecyclePlanConfig[] {
  const target: LifecycleSettings = {
    needWaitForService: true,
    waitSecondsForService: 30,
    waitTimeoutSeconds: 50,
    // Both kinds of target: a count the slave helps with, and a master only the master meets.
    waitForBrokers: 2,
    waitForBrokerNames: [`${master.clusterName}/${master.brokerName}`],
    waitTimeoutAction: 'serve',
  };
  return [
    { name: 'no wait', settings: NO_WAIT, brokers: [master], simplePathLimit: 60 },
    {
      name: 'wait, no target',
      settings: { ...NO_WAIT, needWaitForService: true, waitSecondsForService: 30, waitTimeoutSeconds: 50 },
      brokers: [master],
      simplePathLimit: 60,
    },
    { name: 'wait for target, serve on timeout', settings: target, brokers: [master, slave] },
    {
      name: 'wait for target, refuse on timeout',
      settings: { ...target, waitTimeoutAction: 'refuse' },
      brokers: [master, slave],
      // What differs from "serve" is only observable after the timeout.
      only: (s) => stateName(s.value).startsWith('timedOut'),
    },
  ];
}

/**
 * The configurations an in-process run checks, each on a server of its own:
 * the same four as the model-based tests, with brokers of this run.
 */
export function inProcessLifecycleConfigs(identity: RunIdentity): LifecyclePlanConfig[] {
  const master: SampleBroker = {
    clusterName: identity.clusterName,
    brokerName: identity.brokerName(0),
    brokerAddr: identity.brokerAddr(0, 0),
    brokerId: 0,
  };
  return lifecycleConfigs(master, { ...master, brokerAddr: identity.brokerAddr(0, 1), brokerId: 1 });
}

/**
 * The sample brokers for a target started with a wait target: a master for
 * each named `cluster/brokerName` (the first also gets a slave, which counts
 * towards waitForBrokers but never meets a name), then masters of this run
 * until there are enough to meet the count.
 */
export function sampleBrokersFor(settings: LifecycleSettings, identity: RunIdentity): SampleBroker[] {
  const brokers: SampleBroker[] = [];
  settings.waitForBrokerNames.forEach((entry, i) => {
    const slash = entry.indexOf('/');
    brokers.push({
      clusterName: entry.slice(0, slash),
      brokerName: entry.slice(slash + 1),
      brokerAddr: identity.brokerAddr(100 + i, 0),
      brokerId: 0,
    });
  });
  if (brokers.length > 0) brokers.push({ ...brokers[0]!, brokerAddr: identity.brokerAddr(100, 1), brokerId: 1 });
  for (let n = 0; brokers.length < Math.max(1, settings.waitForBrokers); n++) {
    brokers.push({
      clusterName: identity.clusterName,
      brokerName: identity.brokerName(200 + n),
      brokerAddr: identity.brokerAddr(200 + n, 0),
      brokerId: 0,
    });
  }
  return brokers;
}

export function generateConformLifecyclePaths(
  config: LifecyclePlanConfig,
  heartbeatTimeoutMillis: number,
  canExpire: boolean,
  withSimple: boolean,
): ModelPathNS[] {
  const generated = lifecyclePaths({
    name: config.name,
    settings: config.settings,
    events: conformLifecycleEvents(config.brokers, heartbeatTimeoutMillis, canExpire),
    only: config.only,
    simplePathLimit: withSimple ? config.simplePathLimit : undefined,
  });
  return dedupe([...generated.shortest, ...generated.simple]);
}

/** Drops paths that drive the same events as an earlier one (shortest and simple paths often coincide). */
function dedupe(paths: ModelPathNS[]): ModelPathNS[] {
  const seen = new Set<string>();
  return paths.filter((path) => {
    const key = path.steps.map((s) => JSON.stringify(s.event)).join('\n');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export type Timeline = { feasible: true; durationMs: number } | { feasible: false; reason: string };

/**
 * Target time along a path, counted from the end of start-up: registrations
 * and reads take no time, a lifecycle timer fires at its deadline, an expiry
 * needs the broker's timeout (and the target's scan slack) since its last
 * refresh while every other live broker is kept alive.
 */
class TimeModel {
  now = 0;
  readonly lastRefresh = new Map<string, number>();

  clone(): TimeModel {
    const copy = new TimeModel();
    copy.now = this.now;
    for (const [key, at] of this.lastRefresh) copy.lastRefresh.set(key, at);
    return copy;
  }

  /** Moves time over one step; the reason when the step cannot be seen before the lifecycle timer pending in `before`. */
  step(
    before: ModelSnapshot,
    event: NameServerEvent | { type: string },
    settings: LifecycleSettings,
    timing: LifecycleTiming,
  ): string | undefined {
    const deadline = lifecycleDeadlineMs(stateName(before.value), settings);
    switch (event.type) {
      case AFTER_WAIT_FOR_SERVICE:
        this.keepAliveUntil(Math.min(settings.waitSecondsForService, settings.waitTimeoutSeconds) * 1000);
        return undefined;
      case AFTER_WAIT_TIMEOUT:
        this.keepAliveUntil(settings.waitTimeoutSeconds * 1000);
        return undefined;
      case 'BROKER.REGISTERED':
        this.lastRefresh.set(
          (event as Extract<NameServerEvent, { type: 'BROKER.REGISTERED' }>).registration.brokerKey,
          this.now,
        );
        return undefined;
      case 'BROKER.HEARTBEAT':
        this.lastRefresh.set((event as Extract<NameServerEvent, { type: 'BROKER.HEARTBEAT' }>).brokerKey, this.now);
        return undefined;
      case 'BROKER.UNREGISTERED':
      case 'BROKER.CONNECTION_CLOSED':
        this.lastRefresh.delete((event as { brokerKey: string }).brokerKey);
        return undefined;
      case 'BROKER.REMOVED': {
        if (timing.expiryMs === undefined) return 'expiry steps cannot run on this target';
        const key = (event as Extract<NameServerEvent, { type: 'BROKER.REMOVED' }>).removal.brokerKey;
        const gone = (this.lastRefresh.get(key) ?? this.now) + timing.expiryMs + timing.expirySlackMs;
        if (deadline !== undefined && gone + timing.marginMs > deadline) {
          return `an expiry (${Math.round((timing.expiryMs + timing.expirySlackMs) / 1000)} s on this target) does not fit before the ${Math.round(deadline / 1000)} s lifecycle timer`;
        }
        this.lastRefresh.delete(key);
        this.keepAliveUntil(gone);
        return undefined;
      }
      default:
        return undefined;
    }
  }

  private keepAliveUntil(at: number): void {
    this.now = Math.max(this.now, at);
    for (const key of this.lastRefresh.keys()) this.lastRefresh.set(key, this.now);
  }
}

/**
 * When each step of a path happens on the target. A path is feasible when
 * every expiry the chart puts before a lifecycle timer can be seen before it
 * on this target.
 */
export function timelineOf(path: ModelPathNS, settings: LifecycleSettings, timing: LifecycleTiming): Timeline {
  const time = new TimeModel();
  for (let i = 1; i < path.steps.length; i++) {
    const reason = time.step(path.steps[i - 1]!.state, path.steps[i]!.event, settings, timing);
    if (reason) return { feasible: false, reason };
  }
  return { feasible: true, durationMs: time.now };
}

/** The lifecycle timer pending in a state, in ms after start-up. */
export function lifecycleDeadlineMs(value: string, settings: LifecycleSettings): number | undefined {
  if (value === 'waiting.holding') return Math.min(settings.waitSecondsForService, settings.waitTimeoutSeconds) * 1000;
  if (value === 'waiting.targetPending') return settings.waitTimeoutSeconds * 1000;
  return undefined;
}

/** A step as a transition of the chart: from, what (and which broker role), to. */
function stepKey(before: ModelSnapshot, event: NameServerEvent | { type: string }, after: ModelSnapshot): string {
  const broker = brokerIdOf(before, event);
  return `${stateName(before.value)}|${event.type}${broker === undefined ? '' : `#${broker}`}|${stateName(after.value)}`;
}

function brokerIdOf(snapshot: ModelSnapshot, event: NameServerEvent | { type: string }): number | undefined {
  const e = event as NameServerEvent;
  if (e.type === 'BROKER.REGISTERED') return e.registration.brokerId;
  if (e.type === 'BROKER.REMOVED') return e.removal.brokerId;
  if (e.type === 'BROKER.HEARTBEAT' || e.type === 'BROKER.UNREGISTERED' || e.type === 'BROKER.CONNECTION_CLOSED')
    return snapshot.context.liveBrokers.get(e.brokerKey)?.brokerId;
  return undefined;
}

type Step = { event: NameServerEvent; state: ModelSnapshot };

/**
 * One path for a target that can be started only once per run (a real name
 * server). It follows the chart's main line, phase by phase: in each state of
 * the wait (holding, waiting for the target, timed out) and then in ready, it
 * first takes every kind of broker event that keeps it there (registrations,
 * heartbeats, unregistrations, closes, and expiries when they fit before the
 * state's timer), then leaves by the state's timer, or, when there is none,
 * by the registration that meets the wait target. Ready must then stay
 * ready through all of it: the apache/rocketmq#9182 check.
 */
export function lifecycleTour(
  config: LifecyclePlanConfig,
  heartbeatTimeoutMillis: number,
  timing: LifecycleTiming,
  maxSteps = 80,
): ModelPathNS {
  const events = conformLifecycleEvents(config.brokers, heartbeatTimeoutMillis, timing.expiryMs !== undefined);
  const settings = config.settings;
  let [state] = initialTransition(modelNameServerMachine, settings);
  const steps: Step[] = [{ event: { type: 'xstate.init' } as unknown as NameServerEvent, state }];
  const time = new TimeModel();
  const covered = new Set<string>();
  const take = (trail: Array<Step & { time: TimeModel }>) => {
    for (const step of trail) {
      covered.add(stepKey(steps[steps.length - 1]!.state, step.event, step.state));
      steps.push({ event: step.event, state: step.state });
    }
    state = trail[trail.length - 1]!.state;
    Object.assign(time, { now: trail[trail.length - 1]!.time.now });
    time.lastRefresh.clear();
    for (const [key, at] of trail[trail.length - 1]!.time.lastRefresh) time.lastRefresh.set(key, at);
  };
  take(
    search(
      state,
      time,
      events,
      settings,
      timing,
      (e, before, after) => (e.type as string) === STARTUP_DONE && before !== after,
      1,
    )!,
  );
  while (steps.length < maxSteps) {
    const phase = stateName(state.value);
    const inPhase = search(
      state,
      time,
      events,
      settings,
      timing,
      (e, before, after) => !isTimer(e) && stateName(after.value) === phase && !covered.has(stepKey(before, e, after)),
      3,
      (e, after) => !isTimer(e) && stateName(after.value) === phase,
    );
    if (inPhase) {
      take(inPhase);
      continue;
    }
    if (phase === 'ready') break;
    const exit =
      search(
        state,
        time,
        events,
        settings,
        timing,
        (e, _before, after) => isTimer(e) && stateName(after.value) !== phase,
        1,
      ) ??
      search(
        state,
        time,
        events,
        settings,
        timing,
        (e, _before, after) => !isTimer(e) && stateName(after.value) !== phase,
        3,
        (e) => !isTimer(e),
      );
    if (!exit) break;
    take(exit);
  }
  return { origin: `${config.name} / tour`, steps };
}

function isTimer(event: { type: string }): boolean {
  return event.type === AFTER_WAIT_FOR_SERVICE || event.type === AFTER_WAIT_TIMEOUT;
}

/**
 * Breadth-first from `from`, over events that `through` allows and whose time
 * fits: the shortest run of events whose last step satisfies `goal`.
 */
function search(
  from: ModelSnapshot,
  fromTime: TimeModel,
  events: (s: ModelSnapshot) => NameServerEvent[],
  settings: LifecycleSettings,
  timing: LifecycleTiming,
  goal: (event: NameServerEvent, before: ModelSnapshot, after: ModelSnapshot) => boolean,
  depth: number,
  through: (event: NameServerEvent, after: ModelSnapshot) => boolean = () => false,
): Array<Step & { time: TimeModel }> | undefined {
  let frontier: Array<{ state: ModelSnapshot; time: TimeModel; trail: Array<Step & { time: TimeModel }> }> = [
    { state: from, time: fromTime, trail: [] },
  ];
  for (let d = 0; d < depth; d++) {
    const next: typeof frontier = [];
    for (const node of frontier) {
      for (const event of events(node.state)) {
        const time = node.time.clone();
        if (time.step(node.state, event, settings, timing)) continue;
        const [state] = transition(modelNameServerMachine, node.state, event);
        const trail = [...node.trail, { event, state, time }];
        if (goal(event, node.state, state)) return trail;
        if (through(event, state)) next.push({ state, time, trail });
      }
    }
    frontier = next;
  }
  return undefined;
}

/** The xnamesrv-only wait settings in use, for the error when the target is not xnamesrv. */
export function xnamesrvExtensionsIn(settings: LifecycleSettings | undefined): string[] {
  if (!settings) return [];
  const used: string[] = [];
  if (settings.waitForBrokers > 0) used.push('--wait-for-brokers');
  if (settings.waitForBrokerNames.length > 0) used.push('--wait-for-broker-names');
  return used;
}

import type { SnapshotFrom } from 'xstate';
import {
  evaluateWaitTarget,
  lifecycleStateOf,
  type LifecycleState,
  type LifecycleTag,
  type nameServerMachine,
  type WaitTargetProgress,
  type WaitTimeoutAction,
} from '../../machines/nameServer.js';
import { stateName } from '../observe/transitions.js';

export type NameServerSnapshot = SnapshotFrom<typeof nameServerMachine>;

/** The name server's lifecycle as every surface reports it (probes, gateway, logs). */
export interface LifecycleStatus {
  state: LifecycleState;
  /** Dotted state, e.g. `waiting.holding`, `timedOut.refusing`. */
  detail: string;
  /** When the top-level state was entered. */
  since: number;
  reason?: string;
  /** The active states' tags, sorted. */
  tags: LifecycleTag[];
  live: boolean;
  ready: boolean;
  servingRoutes: boolean;
  /** Why GET_ROUTEINFO_BY_TOPIC is refused now; undefined while routes are served. */
  routesRefused?: string;
  waitTarget: WaitTargetProgress;
  waitTimeoutAction: WaitTimeoutAction;
  /** With needWaitForService, once the wait has begun: when its two timers end (server clock, ms). */
  wait?: WaitTimes;
  /** Set while the server serves with something wrong: what it serves and what is missing. */
  degraded: string[];
}

export interface WaitTimes {
  startedAt: number;
  /** waitSecondsForService after the start: route requests are held at least until then. */
  holdingEndsAt: number;
  /** waitTimeoutSeconds after the start: the deadline, when waitTimeoutAction applies. */
  timeoutAt: number;
}

const TAG_ORDER: readonly LifecycleTag[] = ['live', 'ready', 'servingRoutes', 'degraded'];

/**
 * Reads the lifecycle from the chart's snapshot: the tags decide, this only
 * puts them into words. `otherDegradations` are conditions of other parts
 * (the KV store) that do not change what the chart decides.
 */
export function describeLifecycle(
  snapshot: NameServerSnapshot,
  since: number,
  otherDegradations: readonly string[] = [],
  waitStartedAt?: number,
): LifecycleStatus {
  const { settings, liveBrokers, reason } = snapshot.context;
  const waitTarget = evaluateWaitTarget(settings, liveBrokers);
  const state = lifecycleStateOf(snapshot.value);
  const servingRoutes = snapshot.hasTag('servingRoutes');
  const degraded: string[] = [];
  if (snapshot.hasTag('degraded')) {
    degraded.push(
      `wait for service timed out after ${settings.waitTimeoutSeconds} s (waitTimeoutAction=serve): serving the routes of the ${waitTarget.liveBrokers} live broker(s) registered${missingText(waitTarget)}`,
    );
  }
  degraded.push(...otherDegradations);
  const status: LifecycleStatus = {
    state,
    detail: stateName(snapshot.value),
    since,
    tags: TAG_ORDER.filter((tag) => snapshot.hasTag(tag)),
    live: snapshot.hasTag('live'),
    ready: snapshot.hasTag('ready'),
    servingRoutes,
    waitTarget,
    waitTimeoutAction: settings.waitTimeoutAction,
    degraded,
  };
  if (reason !== undefined) status.reason = reason;
  if (settings.needWaitForService && waitStartedAt !== undefined) {
    status.wait = {
      startedAt: waitStartedAt,
      holdingEndsAt: waitStartedAt + settings.waitSecondsForService * 1000,
      timeoutAt: waitStartedAt + settings.waitTimeoutSeconds * 1000,
    };
  }
  if (!servingRoutes) status.routesRefused = whyRoutesRefused(snapshot, waitTarget);
  return status;
}

function whyRoutesRefused(snapshot: NameServerSnapshot, waitTarget: WaitTargetProgress): string {
  const { settings, reason } = snapshot.context;
  if (snapshot.matches('starting')) return 'starting: binding the listeners and loading the KV file';
  if (snapshot.matches({ waiting: 'holding' })) {
    return `waiting ${settings.waitSecondsForService} s (waitSecondsForService) for brokers to register${missingText(waitTarget)}`;
  }
  if (snapshot.matches('waiting')) return `waiting for the wait target${missingText(waitTarget)}`;
  if (snapshot.matches('timedOut')) {
    return `wait for service timed out after ${settings.waitTimeoutSeconds} s and waitTimeoutAction=refuse${missingText(waitTarget)}`;
  }
  if (snapshot.matches('stopping')) return `shutting down (${reason ?? 'stop requested'})`;
  if (snapshot.matches('failed')) return `failed: ${reason ?? 'unknown reason'}`;
  return 'stopped';
}

function missingText(waitTarget: WaitTargetProgress): string {
  return waitTarget.missing.length > 0 ? `; missing ${waitTarget.missing.join(', ')}` : '';
}

import { getShortestPaths, getSimplePaths } from '@xstate/graph';
import { __unsafe_getAllOwnEventDescriptors, assertEvent, assign, enqueueActions, fromPromise, raise, type SnapshotFrom } from 'xstate';
import { brokerKeyOf, type BrokerRegistration, type BrokerRemoval, type BrokerRemovalReason } from '../../machines/broker.js';
import { nameServerMachine, type LifecycleSettings, type LiveBroker, type NameServerContext, type NameServerEvent } from '../../machines/nameServer.js';
import { stateName } from '../../src/observe/transitions.js';
import { withoutPrefixPaths, type ModelPath } from './paths.js';

/**
 * The name server lifecycle chart as a test model. Its actors are stubbed
 * (start-up and shutdown never settle on their own: the path decides, with a
 * done or error event) and its broker children are replaced by what they do to
 * the parent: an unregister or a close of the broker's current connection ends
 * the broker at once, which the model writes as the BROKER.REMOVED the child
 * would send. An expiry is the BROKER.REMOVED event itself. Context updates are
 * made copy-on-write so graph traversal can branch from any snapshot.
 */
export const modelNameServerMachine = nameServerMachine.provide({
  actors: {
    startUp: fromPromise<void>(() => new Promise<void>(() => {})),
    shutDown: fromPromise<void, { reason: string }>(() => new Promise<void>(() => {})),
  },
  actions: {
    // The registry starts (or refreshes) the broker's actor and reports it live.
    registerBrokerActor: raise(({ event }: { event: NameServerEvent }) => {
      assertEvent(event, 'BROKER.REGISTERED');
      return { type: 'BROKER.LIVE' as const, registration: event.registration };
    }) as any,
    forwardToBrokerActor: enqueueActions(({ context, event, enqueue }: { context: NameServerContext; event: NameServerEvent; enqueue: any }) => {
      assertEvent(event, ['BROKER.HEARTBEAT', 'BROKER.UNREGISTERED', 'BROKER.CONNECTION_CLOSED']);
      // A refresh changes nothing the parent keeps; a fresh (equal) map makes the
      // step a snapshot of its own, so the generator can take it as a step.
      if (event.type === 'BROKER.HEARTBEAT') enqueue.assign({ liveBrokers: new Map(context.liveBrokers) });
      else enqueue.raise(removedEvent(context, event.brokerKey, event.type === 'BROKER.UNREGISTERED' ? 'unregistered' : 'disconnected'));
    }) as any,
    recordLiveBroker: assign(({ context, event }) => {
      assertEvent(event, 'BROKER.LIVE');
      const r = event.registration;
      const live = new Map(context.liveBrokers);
      live.set(r.brokerKey, { clusterName: r.clusterName, brokerName: r.brokerName, brokerId: r.brokerId, generation: r.generation });
      return { liveBrokers: live };
    }),
    forgetRemovedBroker: assign(({ context, event }) => {
      assertEvent(event, 'BROKER.REMOVED');
      const removal = event.removal;
      const current = context.liveBrokers.get(removal.brokerKey);
      if (!current || current.generation !== removal.generation) return {};
      const live = new Map(context.liveBrokers);
      live.delete(removal.brokerKey);
      return { liveBrokers: live };
    }),
    forgetAllLiveBrokers: assign({ liveBrokers: () => new Map<string, LiveBroker>() }),
    removeBrokerFromRoutes: () => {},
  },
});

export type ModelSnapshot = SnapshotFrom<typeof modelNameServerMachine>;
export type ModelPathNS = ModelPath<ModelSnapshot, NameServerEvent>;

function removedEvent(context: NameServerContext, brokerKey: string, reason: BrokerRemovalReason): NameServerEvent {
  const live = context.liveBrokers.get(brokerKey)!;
  const brokerAddr = brokerKey.slice(brokerKey.indexOf('|') + 1);
  return { type: 'BROKER.REMOVED', removal: { brokerKey, brokerAddr, clusterName: live.clusterName, brokerName: live.brokerName, brokerId: live.brokerId, generation: live.generation, reason } };
}

export interface SampleBroker {
  clusterName: string;
  brokerName: string;
  brokerAddr: string;
  brokerId: number;
}

export const BROKER_A: SampleBroker = { clusterName: 'DefaultCluster', brokerName: 'broker-a', brokerAddr: '127.0.0.1:10911', brokerId: 0 };
export const BROKER_A_SLAVE: SampleBroker = { clusterName: 'DefaultCluster', brokerName: 'broker-a', brokerAddr: '127.0.0.1:10921', brokerId: 1 };

/** Heartbeat timeout every model broker registers with. */
export const MODEL_HEARTBEAT_TIMEOUT_MS = 4_000;

export interface LifecycleModelConfig {
  name: string;
  /** Includes waitTimeoutAction: the chart decides serve or refuse from it. */
  settings: LifecycleSettings;
  brokers: SampleBroker[];
  /** Keep only paths that pass through a state satisfying this (all when absent). */
  only?: (snapshot: ModelSnapshot) => boolean;
  /** Also execute simple paths (over a coarser state identity) when there are at most this many. */
  simplePathLimit?: number;
}

const noWait: LifecycleSettings = { needWaitForService: false, waitSecondsForService: 45, waitTimeoutSeconds: 300, waitForBrokers: 0, waitForBrokerNames: [], waitTimeoutAction: 'serve' };
const waitWithTarget: LifecycleSettings = {
  needWaitForService: true,
  waitTimeoutAction: 'serve',
  waitSecondsForService: 30,
  waitTimeoutSeconds: 50,
  // Both kinds of target: a count the slave helps with, and a master only broker-a's master meets.
  waitForBrokers: 2,
  waitForBrokerNames: ['DefaultCluster/broker-a'],
};

export const LIFECYCLE_CONFIGS: LifecycleModelConfig[] = [
  { name: 'no wait', settings: noWait, brokers: [BROKER_A], simplePathLimit: 60 },
  {
    name: 'wait, no target',
    settings: { ...noWait, needWaitForService: true, waitSecondsForService: 30, waitTimeoutSeconds: 50 },
    brokers: [BROKER_A],
    simplePathLimit: 60,
  },
  { name: 'wait for target, serve on timeout', settings: waitWithTarget, brokers: [BROKER_A, BROKER_A_SLAVE] },
  {
    name: 'wait for target, refuse on timeout',
    settings: { ...waitWithTarget, waitTimeoutAction: 'refuse' },
    brokers: [BROKER_A, BROKER_A_SLAVE],
    // What differs from "serve" is only observable after the timeout.
    only: (s) => stateName(s.value).startsWith('timedOut'),
  },
];

export const STARTUP_DONE = 'xstate.done.actor.0.nameServer.starting';
export const STARTUP_ERROR = 'xstate.error.actor.0.nameServer.starting';
export const SHUTDOWN_DONE = 'xstate.done.actor.0.nameServer.stopping';
export const SHUTDOWN_ERROR = 'xstate.error.actor.0.nameServer.stopping';
export const AFTER_WAIT_FOR_SERVICE = 'xstate.after.waitForService.nameServer.waiting.holding';
export const AFTER_WAIT_TIMEOUT = 'xstate.after.waitTimeout.nameServer.waiting';

export function registrationOf(broker: SampleBroker, connectionId: number): BrokerRegistration {
  return {
    brokerKey: brokerKeyOf(broker.clusterName, broker.brokerAddr),
    clusterName: broker.clusterName,
    brokerName: broker.brokerName,
    brokerAddr: broker.brokerAddr,
    brokerId: broker.brokerId,
    generation: 1,
    connectionId,
    heartbeatTimeoutMillis: MODEL_HEARTBEAT_TIMEOUT_MS,
  };
}

/**
 * The inputs the outside world can produce in each state. Event types the
 * chart knows but the executor cannot produce from outside are simply absent,
 * and then the coverage check fails: that is the point.
 */
export function modelEvents(config: LifecycleModelConfig) {
  return (snapshot: ModelSnapshot): NameServerEvent[] => {
    const events = drivableEvents(config, snapshot);
    // An event type the chart accepts here that the executor has never heard
    // of is offered too, so a path reaches it and the executor names it.
    const offered = new Set(events.map((e) => e.type as string));
    for (const type of __unsafe_getAllOwnEventDescriptors(snapshot)) {
      if (!offered.has(type) && !KNOWN_EVENT_TYPES.has(type)) events.push({ type } as unknown as NameServerEvent);
    }
    return events;
  };
}

/** Every event type the executor can produce (in some state). */
const KNOWN_EVENT_TYPES = new Set<string>([
  STARTUP_DONE,
  STARTUP_ERROR,
  SHUTDOWN_DONE,
  SHUTDOWN_ERROR,
  AFTER_WAIT_FOR_SERVICE,
  AFTER_WAIT_TIMEOUT,
  'STOP',
  'BROKER.REGISTERED',
  // Reported by the broker registry once a registration's actor took it: driven by REGISTER_BROKER.
  'BROKER.LIVE',
  'BROKER.HEARTBEAT',
  'BROKER.UNREGISTERED',
  'BROKER.CONNECTION_CLOSED',
  'BROKER.REMOVED',
]);

function drivableEvents(config: LifecycleModelConfig, snapshot: ModelSnapshot): NameServerEvent[] {
  const value = stateName(snapshot.value);
  const any = (e: { type: string } & Record<string, unknown>) => e as unknown as NameServerEvent;
  if (value === 'starting') {
    return [any({ type: STARTUP_DONE }), any({ type: STARTUP_ERROR, error: new Error('start-up failed') }), { type: 'STOP', reason: 'model stop' }];
  }
  if (snapshot.status !== 'active') return [];
  const events: NameServerEvent[] = [];
  if (value.startsWith('stopping')) events.push(any({ type: SHUTDOWN_DONE }), any({ type: SHUTDOWN_ERROR, error: new Error('shutdown failed') }));
  else events.push({ type: 'STOP', reason: 'model stop' });
  const { waitSecondsForService, waitTimeoutSeconds } = snapshot.context.settings;
  // Only the timer that fires first can fire (config validation keeps waitTimeout >= waitForService).
  if (value === 'waiting.holding') events.push(any({ type: waitSecondsForService < waitTimeoutSeconds ? AFTER_WAIT_FOR_SERVICE : AFTER_WAIT_TIMEOUT }));
  if (value === 'waiting.targetPending') events.push(any({ type: AFTER_WAIT_TIMEOUT }));
  config.brokers.forEach((broker, index) => {
    const registration = registrationOf(broker, index + 1);
    events.push({ type: 'BROKER.REGISTERED', registration });
    const live = snapshot.context.liveBrokers.get(registration.brokerKey);
    if (!live) return;
    events.push(
      { type: 'BROKER.HEARTBEAT', brokerKey: registration.brokerKey },
      { type: 'BROKER.UNREGISTERED', brokerKey: registration.brokerKey },
      { type: 'BROKER.CONNECTION_CLOSED', brokerKey: registration.brokerKey, connectionId: index + 1 },
      {
        type: 'BROKER.REMOVED',
        removal: { brokerKey: registration.brokerKey, clusterName: broker.clusterName, brokerName: broker.brokerName, brokerAddr: broker.brokerAddr, brokerId: broker.brokerId, generation: live.generation, reason: 'expired' } satisfies BrokerRemoval,
      },
    );
  });
  return events;
}

function liveKeys(snapshot: ModelSnapshot): string {
  return [...snapshot.context.liveBrokers.keys()].sort().join(',');
}

/**
 * State identity for path generation: the state, the live brokers, and the
 * kind of event that led there from which state, so that shortest paths to
 * every identity take every transition, self-loops (a heartbeat, a second
 * registration) included. A
 * snapshot keeps the identity it was first given: an event no transition
 * takes returns the same snapshot, which must not become a new state.
 */
function fineSerializer() {
  const seen = new WeakMap<object, string>();
  return (snapshot: ModelSnapshot, event: NameServerEvent | undefined, previous: ModelSnapshot | undefined): string => {
    const known = seen.get(snapshot);
    if (known !== undefined) return known;
    const via = event ? `${event.type} from ${previous ? stateName(previous.value) : '?'}` : 'init';
    const id = `${stateName(snapshot.value)}|live=${liveKeys(snapshot)}|via=${via}`;
    seen.set(snapshot, id);
    return id;
  };
}

function coarseSerializer(snapshot: ModelSnapshot): string {
  return `${stateName(snapshot.value)}|live=${liveKeys(snapshot)}`;
}

export interface GeneratedPaths {
  shortest: ModelPathNS[];
  simple: ModelPathNS[];
  /** Simple paths over the coarse identity, when there were too many to run. */
  simpleSkipped?: number;
}

export function generateLifecyclePaths(config: LifecycleModelConfig): GeneratedPaths {
  const events = modelEvents(config);
  const shortest = getShortestPaths(modelNameServerMachine, {
    input: config.settings,
    events: events as any,
    serializeState: fineSerializer() as any,
  }) as unknown as Array<{ state: ModelSnapshot; steps: Array<{ event: NameServerEvent; state: ModelSnapshot }> }>;
  const keep = (p: { steps: Array<{ state: ModelSnapshot }> }) => !config.only || p.steps.some((s) => config.only!(s.state));
  const shortestPaths = withoutPrefixPaths(
    shortest.filter(keep).map((p) => ({ origin: `${config.name} / shortest`, steps: p.steps })),
  );
  let simplePaths: ModelPathNS[] = [];
  let simpleSkipped: number | undefined;
  if (config.simplePathLimit) {
    const simple = getSimplePaths(modelNameServerMachine, {
      input: config.settings,
      events: events as any,
      serializeState: coarseSerializer as any,
    }) as unknown as Array<{ state: ModelSnapshot; steps: Array<{ event: NameServerEvent; state: ModelSnapshot }> }>;
    const candidates = withoutPrefixPaths(simple.filter(keep).map((p) => ({ origin: `${config.name} / simple`, steps: p.steps })));
    if (candidates.length <= config.simplePathLimit) simplePaths = candidates;
    else simpleSkipped = candidates.length;
  }
  return { shortest: shortestPaths, simple: simplePaths, simpleSkipped };
}

import { getShortestPaths, getSimplePaths } from '@xstate/graph';
import { assertEvent, assign, enqueueActions, fromPromise, raise, type SnapshotFrom } from 'xstate';
import { brokerKeyOf, type BrokerRegistration, type BrokerRemovalReason } from '../../../machines/broker.js';
import {
  nameServerMachine,
  type LifecycleSettings,
  type LiveBroker,
  type NameServerContext,
  type NameServerEvent,
} from '../../../machines/nameServer.js';
import { stateName } from '../../observe/transitions.js';
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
    forwardToBrokerActor: enqueueActions(
      ({ context, event, enqueue }: { context: NameServerContext; event: NameServerEvent; enqueue: any }) => {
        assertEvent(event, ['BROKER.HEARTBEAT', 'BROKER.UNREGISTERED', 'BROKER.CONNECTION_CLOSED']);
        // A refresh changes nothing the parent keeps; a fresh (equal) map makes the
        // step a snapshot of its own, so the generator can take it as a step.
        if (event.type === 'BROKER.HEARTBEAT') enqueue.assign({ liveBrokers: new Map(context.liveBrokers) });
        else
          enqueue.raise(
            removedEvent(
              context,
              event.brokerKey,
              event.type === 'BROKER.UNREGISTERED' ? 'unregistered' : 'disconnected',
            ),
          );
      },
    ) as any,
    recordLiveBroker: assign(({ context, event }) => {
      assertEvent(event, 'BROKER.LIVE');
      const r = event.registration;
      const live = new Map(context.liveBrokers);
      live.set(r.brokerKey, {
        clusterName: r.clusterName,
        brokerName: r.brokerName,
        brokerId: r.brokerId,
        generation: r.generation,
      });
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
  // `cluster|address`: a cluster name may hold "|", an address never does.
  const brokerAddr = brokerKey.slice(brokerKey.lastIndexOf('|') + 1);
  return {
    type: 'BROKER.REMOVED',
    removal: {
      brokerKey,
      brokerAddr,
      clusterName: live.clusterName,
      brokerName: live.brokerName,
      brokerId: live.brokerId,
      generation: live.generation,
      reason,
    },
  };
}

/** A broker the lifecycle model registers, by identity. */
export interface SampleBroker {
  clusterName: string;
  brokerName: string;
  brokerAddr: string;
  brokerId: number;
}

export const STARTUP_DONE = 'xstate.done.actor.0.nameServer.starting';
export const STARTUP_ERROR = 'xstate.error.actor.0.nameServer.starting';
export const SHUTDOWN_DONE = 'xstate.done.actor.0.nameServer.stopping';
export const SHUTDOWN_ERROR = 'xstate.error.actor.0.nameServer.stopping';
export const AFTER_WAIT_FOR_SERVICE = 'xstate.after.waitForService.nameServer.waiting.holding';
export const AFTER_WAIT_TIMEOUT = 'xstate.after.waitTimeout.nameServer.waiting';

export function registrationOf(
  broker: SampleBroker,
  connectionId: number,
  heartbeatTimeoutMillis: number,
): BrokerRegistration {
  return {
    brokerKey: brokerKeyOf(broker.clusterName, broker.brokerAddr),
    clusterName: broker.clusterName,
    brokerName: broker.brokerName,
    brokerAddr: broker.brokerAddr,
    brokerId: broker.brokerId,
    generation: 1,
    connectionId,
    heartbeatTimeoutMillis,
  };
}

/** The events a broker can cause in the lifecycle chart, for each sample broker, given who is live. */
export function brokerLifecycleEvents(
  brokers: readonly SampleBroker[],
  snapshot: ModelSnapshot,
  heartbeatTimeoutMillis: number,
): NameServerEvent[] {
  const events: NameServerEvent[] = [];
  brokers.forEach((broker, index) => {
    const registration = registrationOf(broker, index + 1, heartbeatTimeoutMillis);
    events.push({ type: 'BROKER.REGISTERED', registration });
    const live = snapshot.context.liveBrokers.get(registration.brokerKey);
    if (!live) return;
    events.push(
      { type: 'BROKER.HEARTBEAT', brokerKey: registration.brokerKey },
      { type: 'BROKER.UNREGISTERED', brokerKey: registration.brokerKey },
      { type: 'BROKER.CONNECTION_CLOSED', brokerKey: registration.brokerKey, connectionId: index + 1 },
      {
        type: 'BROKER.REMOVED',
        removal: {
          brokerKey: registration.brokerKey,
          clusterName: broker.clusterName,
          brokerName: broker.brokerName,
          brokerAddr: broker.brokerAddr,
          brokerId: broker.brokerId,
          generation: live.generation,
          reason: 'expired',
        },
      },
    );
  });
  return events;
}

/** The timer that can fire in a waiting state (config validation keeps waitTimeout >= waitForService). */
export function lifecycleTimerEvent(snapshot: ModelSnapshot): NameServerEvent | undefined {
  const value = stateName(snapshot.value);
  const { waitSecondsForService, waitTimeoutSeconds } = snapshot.context.settings;
  const any = (type: string) => ({ type }) as unknown as NameServerEvent;
  if (value === 'waiting.holding')
    return any(waitSecondsForService < waitTimeoutSeconds ? AFTER_WAIT_FOR_SERVICE : AFTER_WAIT_TIMEOUT);
  if (value === 'waiting.targetPending') return any(AFTER_WAIT_TIMEOUT);
  return undefined;
}

function liveKeys(snapshot: ModelSnapshot): string {
  return [...snapshot.context.liveBrokers.keys()].sort().join(',');
}

/**
 * State identity for path generation: the state, the live brokers, and the
 * kind of event that led there from which state, so that shortest paths to
 * every identity take every transition, self-loops (a heartbeat, a second
 * registration) included. A snapshot keeps the identity it was first given:
 * an event no transition takes returns the same snapshot, which must not
 * become a new state.
 */
export function fineLifecycleSerializer() {
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

export function coarseLifecycleSerializer(snapshot: ModelSnapshot): string {
  return `${stateName(snapshot.value)}|live=${liveKeys(snapshot)}`;
}

export interface LifecyclePathOptions {
  /** Names the generator and configuration in each path's origin. */
  name: string;
  settings: LifecycleSettings;
  events: (snapshot: ModelSnapshot) => NameServerEvent[];
  /** Keep only paths that pass through a state satisfying this (all when absent). */
  only?: (snapshot: ModelSnapshot) => boolean;
  /** Also generate simple paths (over a coarser state identity) when there are at most this many. */
  simplePathLimit?: number;
}

export interface GeneratedPaths {
  shortest: ModelPathNS[];
  simple: ModelPathNS[];
  /** Simple paths over the coarse identity, when there were too many to run. */
  simpleSkipped?: number;
}

type RawPath = { state: ModelSnapshot; steps: Array<{ event: NameServerEvent; state: ModelSnapshot }> };

/** Shortest paths to every fine state identity (and simple paths when few), prefixes dropped. */
export function lifecyclePaths(options: LifecyclePathOptions): GeneratedPaths {
  const keep = (p: { steps: Array<{ state: ModelSnapshot }> }) =>
    !options.only || p.steps.some((s) => options.only!(s.state));
  const shortest = getShortestPaths(modelNameServerMachine, {
    input: options.settings,
    events: options.events as any,
    serializeState: fineLifecycleSerializer() as any,
  }) as unknown as RawPath[];
  const shortestPaths = withoutPrefixPaths(
    shortest.filter(keep).map((p) => ({ origin: `${options.name} / shortest`, steps: p.steps })),
  );
  let simplePaths: ModelPathNS[] = [];
  let simpleSkipped: number | undefined;
  if (options.simplePathLimit) {
    const simple = getSimplePaths(modelNameServerMachine, {
      input: options.settings,
      events: options.events as any,
      serializeState: coarseLifecycleSerializer as any,
    }) as unknown as RawPath[];
    const candidates = withoutPrefixPaths(
      simple.filter(keep).map((p) => ({ origin: `${options.name} / simple`, steps: p.steps })),
    );
    if (candidates.length <= options.simplePathLimit) simplePaths = candidates;
    else simpleSkipped = candidates.length;
  }
  return { shortest: shortestPaths, simple: simplePaths, simpleSkipped };
}

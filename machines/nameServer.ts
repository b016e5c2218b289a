import { assertEvent, assign, fromPromise, sendTo, setup } from 'xstate';
import type { BrokerRegistration, BrokerRemoval } from './broker.js';
import { createBrokerRegistry } from './brokerRegistry.js';
import { errorMessage } from '../src/util/errorMessage.js';

/**
 * The name server lifecycle. apache/rocketmq#9182 was a wait with no explicit
 * target, no deadline and a way back into "not ready"; here the target is
 * data (`waitForBrokers`, `waitForBrokerNames`), the deadline is a named delay,
 * what happens at the deadline (serve or refuse) is a state of its own, and
 * `ready` has no outgoing transition but shutdown.
 *
 * Every lifecycle decision is read from this chart's snapshot, mostly through
 * its tags, so the probes, the route processors, the gateway and the metrics
 * cannot disagree with what the visualizer shows:
 * - `live`: the process is doing its job (the liveness probe);
 * - `ready`: send traffic here (the readiness probe);
 * - `servingRoutes`: GET_ROUTEINFO_BY_TOPIC answers routes;
 * - `degraded`: serving, but with less than the wait target asked for.
 */
export type WaitTimeoutAction = 'serve' | 'refuse';

export interface LifecycleSettings {
  needWaitForService: boolean;
  waitSecondsForService: number;
  waitTimeoutSeconds: number;
  waitForBrokers: number;
  /** `cluster/brokerName` entries that must each have a live master. */
  waitForBrokerNames: readonly string[];
  /** At the deadline: serve what is registered (degraded) or keep refusing route requests. */
  waitTimeoutAction: WaitTimeoutAction;
}

export type LifecycleTag = 'live' | 'ready' | 'servingRoutes' | 'degraded';

export interface LiveBroker {
  clusterName: string;
  brokerName: string;
  brokerId: number;
  generation: number;
}

export interface NameServerContext {
  settings: LifecycleSettings;
  /**
   * Brokers whose actors are in `registered`, by broker key. Mutated in place
   * by named actions: with tens of thousands of brokers, copying the map per
   * registration would make a registration storm quadratic.
   */
  liveBrokers: Map<string, LiveBroker>;
  /** Why the last transition into failed/stopping happened, for probes and logs. */
  reason?: string;
}

export type NameServerEvent =
  /** A REGISTER_BROKER was applied to the route table. */
  | { type: 'BROKER.REGISTERED'; registration: BrokerRegistration }
  /** The broker registry: this broker's actor has entered `registered` with this registration. */
  | { type: 'BROKER.LIVE'; registration: BrokerRegistration }
  | { type: 'BROKER.HEARTBEAT'; brokerKey: string }
  | { type: 'BROKER.UNREGISTERED'; brokerKey: string }
  | { type: 'BROKER.CONNECTION_CLOSED'; brokerKey: string; connectionId: number }
  /** The broker registry: this broker's actor reached a final state. */
  | { type: 'BROKER.REMOVED'; removal: BrokerRemoval }
  | { type: 'STOP'; reason: string };

export interface WaitTargetProgress {
  met: boolean;
  liveBrokers: number;
  /** What is still missing, in words an operator can act on. */
  missing: string[];
}

/** Pure evaluation of the wait target; the lifecycle guard and the probes share it. */
export function evaluateWaitTarget(
  settings: LifecycleSettings,
  liveBrokers: ReadonlyMap<string, LiveBroker>,
): WaitTargetProgress {
  const missing: string[] = [];
  if (liveBrokers.size < settings.waitForBrokers) {
    missing.push(
      `${settings.waitForBrokers - liveBrokers.size} more live broker(s) (have ${liveBrokers.size} of ${settings.waitForBrokers})`,
    );
  }
  if (settings.waitForBrokerNames.length > 0) {
    const liveMasters = new Set<string>();
    for (const broker of liveBrokers.values()) {
      if (broker.brokerId === 0) liveMasters.add(`${broker.clusterName}/${broker.brokerName}`);
    }
    for (const name of settings.waitForBrokerNames) {
      if (!liveMasters.has(name)) missing.push(`live master for ${name}`);
    }
  }
  return { met: missing.length === 0, liveBrokers: liveBrokers.size, missing };
}

/** The message of an invoked actor's error event (start-up or shutdown). */
function errorMessageOf(event: object): string {
  return errorMessage('error' in event ? event.error : undefined);
}

export const nameServerMachine = setup({
  types: {
    context: {} as NameServerContext,
    events: {} as NameServerEvent,
    input: {} as LifecycleSettings,
    tags: {} as LifecycleTag,
  },
  actors: {
    // Real timers unless the composition root provides a registry on its clock.
    brokerRegistry: createBrokerRegistry(),
    // Placeholders: the composition root provides the real start-up (bind the
    // listeners, load the KV store) and shutdown (drain, flush) with `provide`.
    startUp: fromPromise<void>(async () => {}),
    shutDown: fromPromise<void, { reason: string }>(async () => {}),
  },
  actions: {
    /** Starts the broker's actor, or hands the running one its new registration; the registry answers BROKER.LIVE. */
    registerBrokerActor: sendTo('brokerRegistry', ({ event }) => {
      assertEvent(event, 'BROKER.REGISTERED');
      return { type: 'REGISTER' as const, registration: event.registration };
    }),
    forwardToBrokerActor: sendTo('brokerRegistry', ({ event }) => {
      assertEvent(event, ['BROKER.HEARTBEAT', 'BROKER.UNREGISTERED', 'BROKER.CONNECTION_CLOSED']);
      switch (event.type) {
        case 'BROKER.HEARTBEAT':
          return { type: 'HEARTBEAT' as const, brokerKey: event.brokerKey };
        case 'BROKER.UNREGISTERED':
          return { type: 'UNREGISTER' as const, brokerKey: event.brokerKey };
        case 'BROKER.CONNECTION_CLOSED':
          return { type: 'CONNECTION_CLOSED' as const, brokerKey: event.brokerKey, connectionId: event.connectionId };
      }
    }),
    recordLiveBroker: assign(({ context, event }) => {
      assertEvent(event, 'BROKER.LIVE');
      const r = event.registration;
      context.liveBrokers.set(r.brokerKey, {
        clusterName: r.clusterName,
        brokerName: r.brokerName,
        brokerId: r.brokerId,
        generation: r.generation,
      });
      return { liveBrokers: context.liveBrokers };
    }),
    forgetRemovedBroker: assign(({ context, event }) => {
      assertEvent(event, 'BROKER.REMOVED');
      const removal = event.removal;
      const live = context.liveBrokers.get(removal.brokerKey);
      // A newer registration under the same key has already replaced this one.
      if (live && live.generation === removal.generation) context.liveBrokers.delete(removal.brokerKey);
      return { liveBrokers: context.liveBrokers };
    }),
    // Implemented by the composition root: remove the broker (this generation
    // of it) from the route table. Runs after the broker's own transition, so
    // the stream shows the removal before the route change it causes.
    removeBrokerFromRoutes: () => {},
    // The registry stops the broker actors when this actor ends; nothing is live after.
    forgetAllLiveBrokers: assign(({ context }) => {
      context.liveBrokers.clear();
      return { liveBrokers: context.liveBrokers };
    }),
    recordFailure: assign(({ event }) => ({ reason: errorMessageOf(event) })),
    recordStopReason: assign(({ event }) => {
      assertEvent(event, 'STOP');
      return { reason: event.reason };
    }),
    clearReason: assign({ reason: undefined }),
  },
  guards: {
    needWaitForService: ({ context }) => context.settings.needWaitForService,
    isLiveBroker: ({ context, event }) => {
      assertEvent(event, ['BROKER.HEARTBEAT', 'BROKER.UNREGISTERED', 'BROKER.CONNECTION_CLOSED']);
      return context.liveBrokers.has(event.brokerKey);
    },
    waitTargetMet: ({ context }) => evaluateWaitTarget(context.settings, context.liveBrokers).met,
    servesAfterTimeout: ({ context }) => context.settings.waitTimeoutAction === 'serve',
  },
  delays: {
    waitForService: ({ context }) => context.settings.waitSecondsForService * 1000,
    waitTimeout: ({ context }) => context.settings.waitTimeoutSeconds * 1000,
  },
}).createMachine({
  id: 'nameServer',
  context: ({ input }) => ({ settings: input, liveBrokers: new Map() }),
  initial: 'starting',
  invoke: { id: 'brokerRegistry', src: 'brokerRegistry' },
  on: {
    'BROKER.REGISTERED': { actions: 'registerBrokerActor' },
    'BROKER.LIVE': { actions: 'recordLiveBroker' },
    'BROKER.HEARTBEAT': { guard: 'isLiveBroker', actions: 'forwardToBrokerActor' },
    'BROKER.UNREGISTERED': { guard: 'isLiveBroker', actions: 'forwardToBrokerActor' },
    'BROKER.CONNECTION_CLOSED': { guard: 'isLiveBroker', actions: 'forwardToBrokerActor' },
    'BROKER.REMOVED': { actions: ['forgetRemovedBroker', 'removeBrokerFromRoutes'] },
  },
  states: {
    starting: {
      description: 'Binding the listeners and loading the KV file; route requests are refused.',
      tags: ['live'],
      invoke: {
        src: 'startUp',
        onDone: [{ guard: 'needWaitForService', target: 'waiting' }, { target: 'ready' }],
        onError: { target: 'failed', actions: 'recordFailure' },
      },
      on: { STOP: { target: 'stopping.refusing', actions: 'recordStopReason' } },
    },
    waiting: {
      description:
        'needWaitForService: brokers register and heartbeat, route requests are refused until the wait target is met.',
      tags: ['live'],
      initial: 'holding',
      // The deadline belongs to the whole wait, so no target can hold it forever.
      after: {
        waitTimeout: [{ guard: 'servesAfterTimeout', target: 'timedOut.serving' }, { target: 'timedOut.refusing' }],
      },
      on: { STOP: { target: 'stopping.refusing', actions: 'recordStopReason' } },
      states: {
        holding: {
          description:
            "RocketMQ's fixed minimum wait (waitSecondsForService): brokers get time to register everything.",
          after: { waitForService: { target: 'targetPending' } },
        },
        targetPending: {
          description:
            'Checked after every event, so the registration that completes the target makes the server ready at once.',
          always: { guard: 'waitTargetMet', target: '#nameServer.ready' },
        },
      },
    },
    timedOut: {
      description:
        'The wait deadline passed with the target unmet; waitTimeoutAction chose what happens now. Still ready as soon as the target is met.',
      tags: ['live'],
      always: { guard: 'waitTargetMet', target: 'ready' },
      initial: 'refusing',
      states: {
        serving: {
          description: 'waitTimeoutAction=serve: routes of whatever is registered are served, reported as degraded.',
          tags: ['ready', 'servingRoutes', 'degraded'],
          on: { STOP: { target: '#nameServer.stopping.serving', actions: 'recordStopReason' } },
        },
        refusing: {
          description: 'waitTimeoutAction=refuse: route requests are still refused; not ready.',
          on: { STOP: { target: '#nameServer.stopping.refusing', actions: 'recordStopReason' } },
        },
      },
    },
    ready: {
      description: 'Routes are served. Only shutdown leaves this state.',
      tags: ['live', 'ready', 'servingRoutes'],
      entry: 'clearReason',
      on: { STOP: { target: 'stopping.serving', actions: 'recordStopReason' } },
    },
    stopping: {
      description: 'Draining: no new connections, in-flight requests answered, KV flushed. Not ready.',
      tags: ['live'],
      initial: 'refusing',
      invoke: {
        src: 'shutDown',
        input: ({ context }) => ({ reason: context.reason ?? 'stop requested' }),
        onDone: { target: 'stopped' },
        onError: { target: 'failed', actions: 'recordFailure' },
      },
      states: {
        // Requests still arriving on open connections are answered as they were before the stop.
        serving: { tags: ['servingRoutes'] },
        refusing: {},
      },
    },
    stopped: { type: 'final', entry: 'forgetAllLiveBrokers' },
    failed: { type: 'final', entry: 'forgetAllLiveBrokers' },
  },
});

/** Top-level lifecycle state name of a snapshot value (`waiting` for `{ waiting: 'holding' }`). */
export function lifecycleStateOf(value: string | Record<string, unknown>): LifecycleState {
  return (typeof value === 'string' ? value : Object.keys(value)[0]) as LifecycleState;
}

export type LifecycleState = 'starting' | 'waiting' | 'ready' | 'timedOut' | 'stopping' | 'stopped' | 'failed';

import { assign, fromPromise, sendTo, setup } from 'xstate';
import type { BrokerRegistration, BrokerRemoval } from './broker.js';
import { createBrokerRegistry, type BrokerActorRef } from './brokerRegistry.js';

/**
 * The name server lifecycle. apache/rocketmq#9182 was a wait with no explicit
 * target, no deadline and a way back into "not ready"; here the target is
 * data (`waitForBrokers`, `waitForBrokerNames`), the deadline is a named delay,
 * and `ready` has no outgoing transition but shutdown.
 */
export interface LifecycleSettings {
  needWaitForService: boolean;
  waitSecondsForService: number;
  waitTimeoutSeconds: number;
  waitForBrokers: number;
  /** `cluster/brokerName` entries that must each have a live master. */
  waitForBrokerNames: readonly string[];
}

export interface LiveBroker {
  clusterName: string;
  brokerName: string;
  brokerId: number;
  generation: number;
}

export interface NameServerContext {
  settings: LifecycleSettings;
  /**
   * Live registrations by broker key. Mutated in place by named actions: with
   * tens of thousands of brokers, copying the map per registration would make
   * a registration storm quadratic.
   */
  liveBrokers: Map<string, LiveBroker>;
  brokerActors: Map<string, BrokerActorRef>;
  /** Why the last transition into failed/stopping happened, for probes and logs. */
  reason?: string;
}

export type NameServerEvent =
  | { type: 'BROKER.REGISTERED'; registration: BrokerRegistration }
  | { type: 'BROKER.HEARTBEAT'; brokerKey: string }
  | { type: 'BROKER.UNREGISTERED'; brokerKey: string }
  | { type: 'BROKER.CONNECTION_CLOSED'; brokerKey: string; connectionId: number }
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
    missing.push(`${settings.waitForBrokers - liveBrokers.size} more live broker(s) (have ${liveBrokers.size} of ${settings.waitForBrokers})`);
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

function brokerActorFor(context: NameServerContext, brokerKey: string) {
  // Guards only let events through for live brokers, so the actor exists.
  return context.brokerActors.get(brokerKey)!;
}

function removalOf(event: NameServerEvent): BrokerRemoval {
  return (event as Extract<NameServerEvent, { type: 'BROKER.REMOVED' }>).removal;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export const nameServerMachine = setup({
  types: {
    context: {} as NameServerContext,
    events: {} as NameServerEvent,
    input: {} as LifecycleSettings,
  },
  actors: {
    brokerRegistry: createBrokerRegistry(),
    // Placeholders: the composition root provides the real start-up (bind the
    // listeners, load the KV store) and shutdown (drain, flush) with `provide`.
    startUp: fromPromise<void>(async () => {}),
    shutDown: fromPromise<void, { reason: string }>(async () => {}),
  },
  actions: {
    spawnBroker: sendTo('brokerRegistry', ({ event }) => ({
      type: 'SPAWN' as const,
      registration: (event as Extract<NameServerEvent, { type: 'BROKER.REGISTERED' }>).registration,
    })),
    forwardRegistration: sendTo(
      ({ context, event }) => brokerActorFor(context, (event as Extract<NameServerEvent, { type: 'BROKER.REGISTERED' }>).registration.brokerKey),
      ({ event }) => ({
        type: 'REGISTER' as const,
        registration: (event as Extract<NameServerEvent, { type: 'BROKER.REGISTERED' }>).registration,
      }),
    ),
    forwardHeartbeat: sendTo(
      ({ context, event }) => brokerActorFor(context, (event as Extract<NameServerEvent, { type: 'BROKER.HEARTBEAT' }>).brokerKey),
      { type: 'HEARTBEAT' as const },
    ),
    forwardUnregister: sendTo(
      ({ context, event }) => brokerActorFor(context, (event as Extract<NameServerEvent, { type: 'BROKER.UNREGISTERED' }>).brokerKey),
      { type: 'UNREGISTER' as const },
    ),
    forwardConnectionClosed: sendTo(
      ({ context, event }) => brokerActorFor(context, (event as Extract<NameServerEvent, { type: 'BROKER.CONNECTION_CLOSED' }>).brokerKey),
      ({ event }) => ({
        type: 'CONNECTION_CLOSED' as const,
        connectionId: (event as Extract<NameServerEvent, { type: 'BROKER.CONNECTION_CLOSED' }>).connectionId,
      }),
    ),
    recordLiveBroker: assign(({ context, event }) => {
      if (event.type === 'BROKER.REGISTERED') {
        const r = event.registration;
        context.liveBrokers.set(r.brokerKey, {
          clusterName: r.clusterName,
          brokerName: r.brokerName,
          brokerId: r.brokerId,
          generation: r.generation,
        });
      }
      return { liveBrokers: context.liveBrokers };
    }),
    forgetRemovedBroker: assign(({ context, event }) => {
      const removal = removalOf(event);
      const live = context.liveBrokers.get(removal.brokerKey);
      // A newer registration under the same key has already replaced this one.
      if (live && live.generation === removal.generation) context.liveBrokers.delete(removal.brokerKey);
      return { liveBrokers: context.liveBrokers };
    }),
    releaseBrokerActor: ({ context, event }) => {
      const removal = removalOf(event);
      const broker = context.brokerActors.get(removal.brokerKey);
      if (broker && broker.getSnapshot().status !== 'active') context.brokerActors.delete(removal.brokerKey);
    },
    // The registry stops the broker actors when this actor ends; nothing is live after.
    stopBrokerActors: ({ context }) => {
      context.liveBrokers.clear();
    },
    // Implemented by the composition root: remove the broker from the route table.
    brokerRemoved: (_, _removal: BrokerRemoval) => {},
    recordFailure: assign(({ event }) => ({
      reason: describeError((event as unknown as { error?: unknown }).error),
    })),
    recordStopReason: assign(({ event }) => ({ reason: event.type === 'STOP' ? event.reason : undefined })),
    clearReason: assign({ reason: undefined }),
  },
  guards: {
    needWaitForService: ({ context }) => context.settings.needWaitForService,
    isKnownBroker: ({ context, event }) =>
      event.type === 'BROKER.REGISTERED' && context.liveBrokers.has(event.registration.brokerKey),
    isLiveBroker: ({ context, event }) =>
      (event.type === 'BROKER.HEARTBEAT' ||
        event.type === 'BROKER.UNREGISTERED' ||
        event.type === 'BROKER.CONNECTION_CLOSED') &&
      context.liveBrokers.has(event.brokerKey),
    waitTargetMet: ({ context }) => evaluateWaitTarget(context.settings, context.liveBrokers).met,
  },
  delays: {
    waitForService: ({ context }) => context.settings.waitSecondsForService * 1000,
    waitTimeout: ({ context }) => context.settings.waitTimeoutSeconds * 1000,
  },
}).createMachine({
  id: 'nameServer',
  context: ({ input }) => ({ settings: input, liveBrokers: new Map(), brokerActors: new Map() }),
  initial: 'starting',
  invoke: { id: 'brokerRegistry', src: 'brokerRegistry', input: ({ context }) => ({ actors: context.brokerActors }) },
  on: {
    'BROKER.REGISTERED': [
      { guard: 'isKnownBroker', actions: ['forwardRegistration', 'recordLiveBroker'] },
      { actions: ['spawnBroker', 'recordLiveBroker'] },
    ],
    'BROKER.HEARTBEAT': { guard: 'isLiveBroker', actions: 'forwardHeartbeat' },
    'BROKER.UNREGISTERED': { guard: 'isLiveBroker', actions: 'forwardUnregister' },
    'BROKER.CONNECTION_CLOSED': { guard: 'isLiveBroker', actions: 'forwardConnectionClosed' },
    'BROKER.REMOVED': {
      actions: ['forgetRemovedBroker', 'releaseBrokerActor', { type: 'brokerRemoved', params: ({ event }: { event: NameServerEvent }) => removalOf(event) }],
    },
  },
  states: {
    starting: {
      invoke: {
        src: 'startUp',
        onDone: [{ guard: 'needWaitForService', target: 'waiting' }, { target: 'ready' }],
        onError: { target: 'failed', actions: 'recordFailure' },
      },
      on: { STOP: { target: 'stopping', actions: 'recordStopReason' } },
    },
    waiting: {
      initial: 'holding',
      // The deadline belongs to the whole wait, so no target can hold it forever.
      after: { waitTimeout: { target: 'timedOut' } },
      on: { STOP: { target: 'stopping', actions: 'recordStopReason' } },
      states: {
        // RocketMQ's fixed minimum wait: brokers get time to register everything.
        holding: { after: { waitForService: { target: 'targetPending' } } },
        // Checked after every event, so the registration that completes the
        // target makes the server ready at once.
        targetPending: { always: { guard: 'waitTargetMet', target: '#nameServer.ready' } },
      },
    },
    timedOut: {
      always: { guard: 'waitTargetMet', target: 'ready' },
      on: { STOP: { target: 'stopping', actions: 'recordStopReason' } },
    },
    ready: {
      entry: 'clearReason',
      on: { STOP: { target: 'stopping', actions: 'recordStopReason' } },
    },
    stopping: {
      invoke: {
        src: 'shutDown',
        input: ({ context }) => ({ reason: context.reason ?? 'stop requested' }),
        onDone: { target: 'stopped' },
        onError: { target: 'failed', actions: 'recordFailure' },
      },
    },
    stopped: { type: 'final', entry: 'stopBrokerActors' },
    failed: { type: 'final', entry: 'stopBrokerActors' },
  },
});

export type NameServerMachine = typeof nameServerMachine;

/** Top-level lifecycle state name of a snapshot value (`waiting` for `{ waiting: 'holding' }`). */
export function lifecycleStateOf(value: string | Record<string, unknown>): LifecycleState {
  return (typeof value === 'string' ? value : Object.keys(value)[0]) as LifecycleState;
}

export type LifecycleState = 'starting' | 'waiting' | 'ready' | 'timedOut' | 'stopping' | 'stopped' | 'failed';

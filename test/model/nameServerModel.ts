import { __unsafe_getAllOwnEventDescriptors } from 'xstate';
import type { NameServerEvent } from '../../machines/nameServer.js';
import { stateName } from '../../src/observe/transitions.js';
import {
  AFTER_WAIT_FOR_SERVICE,
  AFTER_WAIT_TIMEOUT,
  brokerLifecycleEvents,
  lifecyclePaths,
  lifecycleTimerEvent,
  registrationOf as sampleRegistration,
  SHUTDOWN_DONE,
  SHUTDOWN_ERROR,
  STARTUP_DONE,
  STARTUP_ERROR,
  type GeneratedPaths,
  type ModelSnapshot,
  type SampleBroker,
} from '../../src/conform/model/lifecycleModel.js';
import { lifecycleConfigs, type LifecyclePlanConfig } from '../../src/conform/plan/lifecyclePlan.js';

// The model itself moved to src/conform/model/lifecycleModel.ts (`xnamesrv conform` walks it too).
export {
  AFTER_WAIT_FOR_SERVICE,
  AFTER_WAIT_TIMEOUT,
  modelNameServerMachine,
  SHUTDOWN_DONE,
  SHUTDOWN_ERROR,
  STARTUP_DONE,
  STARTUP_ERROR,
  type GeneratedPaths,
  type ModelPathNS,
  type ModelSnapshot,
  type SampleBroker,
} from '../../src/conform/model/lifecycleModel.js';

export const BROKER_A: SampleBroker = {
  clusterName: 'DefaultCluster',
  brokerName: 'broker-a',
  brokerAddr: '127.0.0.1:10911',
  brokerId: 0,
};
export const BROKER_A_SLAVE: SampleBroker = {
  clusterName: 'DefaultCluster',
  brokerName: 'broker-a',
  brokerAddr: '127.0.0.1:10921',
  brokerId: 1,
};

/** Heartbeat timeout every model broker registers with. */
export const MODEL_HEARTBEAT_TIMEOUT_MS = 4_000;

/** The same four configurations `xnamesrv conform` walks, with broker-a's master and slave. */
export const LIFECYCLE_CONFIGS: LifecyclePlanConfig[] = lifecycleConfigs(BROKER_A, BROKER_A_SLAVE);

export function registrationOf(broker: SampleBroker, connectionId: number) {
  return sampleRegistration(broker, connectionId, MODEL_HEARTBEAT_TIMEOUT_MS);
}

/**
 * The inputs the outside world can produce in each state. Event types the
 * chart knows but the executor cannot produce from outside are simply absent,
 * and then the coverage check fails: that is the point.
 */
export function modelEvents(config: LifecyclePlanConfig) {
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

function drivableEvents(config: LifecyclePlanConfig, snapshot: ModelSnapshot): NameServerEvent[] {
  const value = stateName(snapshot.value);
  const any = (e: { type: string } & Record<string, unknown>) => e as unknown as NameServerEvent;
  if (value === 'starting') {
    return [
      any({ type: STARTUP_DONE }),
      any({ type: STARTUP_ERROR, error: new Error('start-up failed') }),
      { type: 'STOP', reason: 'model stop' },
    ];
  }
  if (snapshot.status !== 'active') return [];
  const events: NameServerEvent[] = [];
  if (value.startsWith('stopping'))
    events.push(any({ type: SHUTDOWN_DONE }), any({ type: SHUTDOWN_ERROR, error: new Error('shutdown failed') }));
  else events.push({ type: 'STOP', reason: 'model stop' });
  const timer = lifecycleTimerEvent(snapshot);
  if (timer) events.push(timer);
  events.push(...brokerLifecycleEvents(config.brokers, snapshot, MODEL_HEARTBEAT_TIMEOUT_MS));
  return events;
}

export function generateLifecyclePaths(config: LifecyclePlanConfig): GeneratedPaths {
  return lifecyclePaths({
    name: config.name,
    settings: config.settings,
    events: modelEvents(config),
    only: config.only,
    simplePathLimit: config.simplePathLimit,
  });
}

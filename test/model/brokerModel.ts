import { getShortestPaths, getSimplePaths } from '@xstate/graph';
import { __unsafe_getAllOwnEventDescriptors, initialTransition, transition, type SnapshotFrom } from 'xstate';
import { brokerKeyOf, brokerMachine, type BrokerEvent, type BrokerRegistration } from '../../machines/broker.js';
import { stateName } from '../../src/observe/transitions.js';
import { withoutPrefixPaths, type ModelPath } from './paths.js';

/**
 * The broker registration chart as a test model. It has no actors to stub;
 * its inputs are a broker's own requests and connections, and its timer.
 * Symbolic connection ids 1 and 2 stand for two TCP connections of one broker.
 */
export type BrokerSnapshot = SnapshotFrom<typeof brokerMachine>;
export type BrokerPath = ModelPath<BrokerSnapshot, BrokerEvent>;

export const BROKER_HEARTBEAT_TIMEOUT_MS = 4_000;
export const AFTER_HEARTBEAT_TIMEOUT = 'xstate.after.heartbeatTimeout.broker.registered';

/** A template identity; each executed path gets a broker address of its own. */
export function modelRegistration(connectionId: number): BrokerRegistration {
  return {
    brokerKey: brokerKeyOf('DefaultCluster', 'model-broker'),
    clusterName: 'DefaultCluster',
    brokerName: 'model-broker',
    brokerAddr: 'model-broker',
    brokerId: 0,
    generation: connectionId,
    connectionId,
    heartbeatTimeoutMillis: BROKER_HEARTBEAT_TIMEOUT_MS,
  };
}

/**
 * Inputs in each state. A close is offered for the current connection only:
 * the close of a connection the broker has left changes nothing, so it is no
 * step of the graph; the fenced path below drives it explicitly.
 */
function brokerEvents(snapshot: BrokerSnapshot): BrokerEvent[] {
  if (snapshot.status !== 'active') return [];
  const events: BrokerEvent[] = [
    { type: 'REGISTER', registration: modelRegistration(1) },
    { type: 'REGISTER', registration: modelRegistration(2) },
    { type: 'HEARTBEAT' },
    { type: 'UNREGISTER' },
    { type: 'CONNECTION_CLOSED', connectionId: snapshot.context.connectionId },
    { type: AFTER_HEARTBEAT_TIMEOUT } as unknown as BrokerEvent,
  ];
  // An event type the chart accepts that the executor does not know is offered
  // too, so a path reaches it and the executor names it.
  for (const type of __unsafe_getAllOwnEventDescriptors(snapshot)) {
    if (!events.some((e) => e.type === type)) events.push({ type } as unknown as BrokerEvent);
  }
  return events;
}

/** State, current connection and the kind of event that led there (so refreshes are states of their own). */
function fine(snapshot: BrokerSnapshot, event: BrokerEvent | undefined): string {
  return `${stateName(snapshot.value)}|c${snapshot.context.connectionId}|via=${event?.type ?? 'init'}`;
}

function coarse(snapshot: BrokerSnapshot): string {
  return `${stateName(snapshot.value)}|c${snapshot.context.connectionId}`;
}

type RawPath = { state: BrokerSnapshot; steps: Array<{ event: BrokerEvent; state: BrokerSnapshot }> };

export function generateBrokerPaths(simplePathLimit = 80): { shortest: BrokerPath[]; simple: BrokerPath[]; fenced: BrokerPath[]; simpleSkipped?: number } {
  const input = modelRegistration(1);
  const shortest = getShortestPaths(brokerMachine, { input, events: brokerEvents as any, serializeState: fine as any }) as unknown as RawPath[];
  const simple = getSimplePaths(brokerMachine, { input, events: brokerEvents as any, serializeState: coarse as any }) as unknown as RawPath[];
  // rocketmq#11043: the broker re-registered on connection 2, then connection 1 closes.
  const fencedEvents: BrokerEvent[] = [
    { type: 'REGISTER', registration: modelRegistration(2) },
    { type: 'CONNECTION_CLOSED', connectionId: 1 },
    { type: 'HEARTBEAT' },
    { type: 'CONNECTION_CLOSED', connectionId: 2 },
  ];
  // A scripted path: the generator never takes a step that changes nothing.
  let state = initialTransition(brokerMachine, input)[0];
  const fencedSteps: RawPath['steps'] = [{ event: { type: 'xstate.init' } as unknown as BrokerEvent, state }];
  for (const event of fencedEvents) {
    state = transition(brokerMachine, state, event)[0];
    fencedSteps.push({ event, state });
  }
  const simplePaths = withoutPrefixPaths(simple.map((p) => ({ origin: 'broker / simple', steps: p.steps })));
  return {
    shortest: withoutPrefixPaths(shortest.map((p) => ({ origin: 'broker / shortest', steps: p.steps }))),
    simple: simplePaths.length <= simplePathLimit ? simplePaths : [],
    simpleSkipped: simplePaths.length > simplePathLimit ? simplePaths.length : undefined,
    fenced: [{ origin: 'broker / scripted: fenced close (rocketmq#11043)', steps: fencedSteps }],
  };
}

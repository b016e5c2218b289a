import { getShortestPaths, getSimplePaths } from '@xstate/graph';
import { __unsafe_getAllOwnEventDescriptors, initialTransition, transition, type SnapshotFrom } from 'xstate';
import { brokerMachine, type BrokerEvent, type BrokerRegistration } from '../../../machines/broker.js';
import { stateName } from '../../observe/transitions.js';
import { withoutPrefixPaths, type ModelPath } from './paths.js';

/**
 * The broker registration chart as a test model. It has no actors to stub;
 * its inputs are a broker's own requests and connections, and its timer.
 * Symbolic connection ids 1 and 2 stand for two TCP connections of one broker.
 */
export type BrokerSnapshot = SnapshotFrom<typeof brokerMachine>;
export type BrokerPath = ModelPath<BrokerSnapshot, BrokerEvent>;

export const AFTER_HEARTBEAT_TIMEOUT = 'xstate.after.heartbeatTimeout.broker.registered';

/**
 * Inputs in each state. A close is offered for the current connection only:
 * the close of a connection the broker has left changes nothing, so it is no
 * step of the graph; scripted paths drive it explicitly.
 */
export function brokerEvents(registrationOn: (connectionId: number) => BrokerRegistration) {
  return (snapshot: BrokerSnapshot): BrokerEvent[] => {
    if (snapshot.status !== 'active') return [];
    const events: BrokerEvent[] = [
      { type: 'REGISTER', registration: registrationOn(1) },
      { type: 'REGISTER', registration: registrationOn(2) },
      { type: 'HEARTBEAT' },
      { type: 'UNREGISTER' },
      { type: 'CONNECTION_CLOSED', connectionId: snapshot.context.connectionId },
      { type: AFTER_HEARTBEAT_TIMEOUT } as unknown as BrokerEvent,
    ];
    // An event type the chart accepts that the executor does not know is offered
    // too, so a path reaches it and the executor names it.
    for (const type of __unsafe_getAllOwnEventDescriptors(snapshot)) {
      if (!events.some((e) => e.type === type)) events.push({ type });
    }
    return events;
  };
}

/** State, current connection and the kind of event that led there (so refreshes are states of their own). */
function fine(snapshot: BrokerSnapshot, event: BrokerEvent | undefined): string {
  return `${stateName(snapshot.value)}|c${snapshot.context.connectionId}|via=${event?.type ?? 'init'}`;
}

function coarse(snapshot: BrokerSnapshot): string {
  return `${stateName(snapshot.value)}|c${snapshot.context.connectionId}`;
}

type RawPath = { state: BrokerSnapshot; steps: Array<{ event: BrokerEvent; state: BrokerSnapshot }> };

export interface GeneratedBrokerPaths {
  shortest: BrokerPath[];
  simple: BrokerPath[];
  /** Simple paths, when there were more than the limit (then none is kept). */
  simpleSkipped?: number;
}

/** Shortest paths to every fine state identity, and simple paths when there are few enough. */
export function brokerPaths(
  input: BrokerRegistration,
  events: (snapshot: BrokerSnapshot) => BrokerEvent[],
  simplePathLimit: number,
): GeneratedBrokerPaths {
  const shortest = getShortestPaths(brokerMachine, {
    input,
    events: events as any,
    serializeState: fine as any,
  }) as unknown as RawPath[];
  const simple = getSimplePaths(brokerMachine, {
    input,
    events: events as any,
    serializeState: coarse as any,
  }) as unknown as RawPath[];
  const simplePaths = withoutPrefixPaths(simple.map((p) => ({ origin: 'broker / simple', steps: p.steps })));
  return {
    shortest: withoutPrefixPaths(shortest.map((p) => ({ origin: 'broker / shortest', steps: p.steps }))),
    simple: simplePaths.length <= simplePathLimit ? simplePaths : [],
    simpleSkipped: simplePaths.length > simplePathLimit ? simplePaths.length : undefined,
  };
}

/**
 * A path written by hand and run through the chart, for sequences the
 * generator never takes because a step changes nothing (the close of a
 * connection the broker has left) or needs a registration it does not offer.
 */
export function scriptedBrokerPath(
  origin: string,
  input: BrokerRegistration,
  events: readonly BrokerEvent[],
): BrokerPath {
  let state = initialTransition(brokerMachine, input)[0];
  const steps: BrokerPath['steps'] = [{ event: { type: 'xstate.init' } as unknown as BrokerEvent, state }];
  for (const event of events) {
    state = transition(brokerMachine, state, event)[0];
    steps.push({ event, state });
  }
  return { origin, steps };
}

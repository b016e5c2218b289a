import {
  createActor,
  fromCallback,
  type ActorOptions,
  type ActorRefFrom,
  type AnyActorLogic,
  type InspectionEvent,
} from 'xstate';
import { brokerMachine, type BrokerRegistration, type BrokerRemoval } from './broker.js';

export type BrokerActorRef = ActorRefFrom<typeof brokerMachine>;

/** What the name server asks of its broker actors. */
export type BrokerRegistryEvent =
  | { type: 'REGISTER'; registration: BrokerRegistration }
  | { type: 'HEARTBEAT'; brokerKey: string }
  | { type: 'UNREGISTER'; brokerKey: string }
  | { type: 'CONNECTION_CLOSED'; brokerKey: string; connectionId: number };

/** What the registry tells the name server. */
export type BrokerRegistryReport =
  { type: 'BROKER.LIVE'; registration: BrokerRegistration } | { type: 'BROKER.REMOVED'; removal: BrokerRemoval };

/** xstate's clock (its type is not exported by name): the name server's clock, or a SimulatedClock in tests. */
export type TimerClock = NonNullable<ActorOptions<AnyActorLogic>['clock']>;

export interface BrokerRegistryOptions {
  /** The clock broker timers run on (the name server's). Without one, xstate's default: real time. */
  clock?: TimerClock;
  /** Inspection observer for broker actors (the gateway stream, @statelyai/inspect). */
  inspect?: (event: InspectionEvent) => void;
  /** The running broker actors by broker key, kept up to date here for whoever shows them. */
  actors?: Map<string, BrokerActorRef>;
}

/**
 * The name server's child that runs one actor per broker registration and
 * reports, in causal order, what they did: BROKER.LIVE once a broker's actor
 * has entered `registered` (so its transition is observed before anything it
 * makes the name server do), BROKER.REMOVED once it reached a final state.
 *
 * Each broker runs in an actor system of its own, on the clock given here.
 * Not spawnChild: XState copies the parent's children record on every spawn
 * and stop, and cancels timers by scanning every scheduled event of the
 * system, so with 10,000 brokers in one system both are quadratic (seconds
 * per thousand removals, measured with --cpu-prof). Stopping the registry
 * (the name server reaching a final state) stops every broker actor and with
 * them their timers.
 */
export function createBrokerRegistry(options: BrokerRegistryOptions = {}) {
  return fromCallback<BrokerRegistryEvent>(({ receive, sendBack }) => {
    const actors = options.actors ?? new Map<string, BrokerActorRef>();
    const report = (message: BrokerRegistryReport) => sendBack(message);

    const start = (registration: BrokerRegistration) => {
      const broker = createActor(brokerMachine, {
        id: registration.brokerKey,
        input: registration,
        ...(options.clock ? { clock: options.clock } : {}),
        inspect: options.inspect,
      });
      broker.subscribe({
        complete: () => {
          if (actors.get(registration.brokerKey) === broker) actors.delete(registration.brokerKey);
          const snapshot = broker.getSnapshot();
          if (snapshot.status === 'done' && snapshot.output)
            report({ type: 'BROKER.REMOVED', removal: snapshot.output });
        },
      });
      actors.set(registration.brokerKey, broker);
      broker.start();
    };

    receive((event) => {
      switch (event.type) {
        case 'REGISTER': {
          const running = actors.get(event.registration.brokerKey);
          if (running) running.send({ type: 'REGISTER', registration: event.registration });
          else start(event.registration);
          report({ type: 'BROKER.LIVE', registration: event.registration });
          return;
        }
        case 'HEARTBEAT':
          actors.get(event.brokerKey)?.send({ type: 'HEARTBEAT' });
          return;
        case 'UNREGISTER':
          actors.get(event.brokerKey)?.send({ type: 'UNREGISTER' });
          return;
        case 'CONNECTION_CLOSED':
          actors.get(event.brokerKey)?.send({ type: 'CONNECTION_CLOSED', connectionId: event.connectionId });
          return;
      }
    });
    return () => {
      for (const broker of [...actors.values()]) broker.stop();
      actors.clear();
    };
  });
}

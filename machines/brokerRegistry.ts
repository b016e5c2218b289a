import { createActor, fromCallback, type ActorRefFrom, type InspectionEvent } from 'xstate';
import { brokerMachine, type BrokerRegistration, type BrokerRemoval } from './broker.js';

export type BrokerActorRef = ActorRefFrom<typeof brokerMachine>;

export type BrokerRegistryEvent = { type: 'SPAWN'; registration: BrokerRegistration };

export interface BrokerRegistryInput {
  /** The name server's index of live broker actors, filled in here. */
  actors: Map<string, BrokerActorRef>;
}

export interface BrokerRegistryOptions {
  /** Inspection observer for broker actors (the gateway stream, @statelyai/inspect). */
  inspect?: (event: InspectionEvent) => void;
}

/**
 * The name server's child that starts broker actors and reports their end as
 * BROKER.REMOVED. Each broker runs in an actor system of its own, on the name
 * server's clock. Not spawnChild: XState copies the parent's children record
 * on every spawn and stop, and cancels timers by scanning every scheduled
 * event of the system, so with 10,000 brokers in one system both are
 * quadratic (seconds per thousand removals, measured with --cpu-prof).
 * Stopping the registry (the name server reaching a final state) stops every
 * broker actor and with them their timers.
 */
export function createBrokerRegistry(options: BrokerRegistryOptions = {}) {
  return fromCallback<BrokerRegistryEvent, BrokerRegistryInput>(({ input, receive, sendBack, system }) => {
    const { actors } = input;
    receive((event) => {
      const registration = event.registration;
      const broker = createActor(brokerMachine, {
        id: registration.brokerKey,
        input: registration,
        clock: system._clock,
        inspect: options.inspect,
      });
      broker.subscribe({
        complete: () => {
          const snapshot = broker.getSnapshot();
          if (snapshot.status === 'done' && snapshot.output) sendBack({ type: 'BROKER.REMOVED', removal: snapshot.output satisfies BrokerRemoval });
        },
      });
      actors.set(registration.brokerKey, broker);
      broker.start();
    });
    return () => {
      for (const broker of actors.values()) broker.stop();
      actors.clear();
    };
  });
}

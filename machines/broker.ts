import { assertEvent, assign, setup } from 'xstate';

/**
 * One broker registration: a (clusterName, brokerAddr) pair that is alive while
 * this actor is in `registered`. Liveness is the chart's own timer, so a broker
 * that stops refreshing cannot outlive `heartbeatTimeoutMillis`, and every way
 * out is a final state that stops the actor (no timers are left behind).
 */
export interface BrokerIdentity {
  /** `clusterName|brokerAddr`, also the actor id under the name server. */
  brokerKey: string;
  clusterName: string;
  brokerName: string;
  brokerAddr: string;
  brokerId: number;
}

export interface BrokerRegistration extends BrokerIdentity {
  /** Increases whenever the broker registers on a new connection or afresh. */
  generation: number;
  connectionId: number;
  heartbeatTimeoutMillis: number;
}

export type BrokerRemovalReason = 'expired' | 'unregistered' | 'disconnected';

export interface BrokerRemoval extends BrokerIdentity {
  generation: number;
  reason: BrokerRemovalReason;
}

export type BrokerEvent =
  | { type: 'REGISTER'; registration: BrokerRegistration }
  | { type: 'HEARTBEAT' }
  | { type: 'UNREGISTER' }
  | { type: 'CONNECTION_CLOSED'; connectionId: number };

export interface BrokerContext extends BrokerRegistration {
  removalReason?: BrokerRemovalReason;
}

export function brokerKeyOf(clusterName: string, brokerAddr: string): string {
  return `${clusterName}|${brokerAddr}`;
}

function removal(context: BrokerContext, reason: BrokerRemovalReason): BrokerRemoval {
  return {
    brokerKey: context.brokerKey,
    clusterName: context.clusterName,
    brokerName: context.brokerName,
    brokerAddr: context.brokerAddr,
    brokerId: context.brokerId,
    generation: context.generation,
    reason,
  };
}

export const brokerMachine = setup({
  types: {
    context: {} as BrokerContext,
    events: {} as BrokerEvent,
    input: {} as BrokerRegistration,
    output: {} as BrokerRemoval,
    tags: {} as 'live',
  },
  actions: {
    recordRemovalReason: assign((_, params: { reason: BrokerRemovalReason }) => ({ removalReason: params.reason })),
    recordRegistration: assign(({ event }) => {
      assertEvent(event, 'REGISTER');
      return { ...event.registration };
    }),
  },
  guards: {
    // A close of a connection the broker has already left (it re-registered on a
    // new one) must not remove the fresh registration: apache/rocketmq#11043.
    isCurrentConnection: ({ context, event }) => {
      assertEvent(event, 'CONNECTION_CLOSED');
      return event.connectionId === context.connectionId;
    },
  },
  delays: {
    heartbeatTimeout: ({ context }) => context.heartbeatTimeoutMillis,
  },
}).createMachine({
  id: 'broker',
  context: ({ input }) => ({ ...input }),
  initial: 'registered',
  states: {
    registered: {
      description: 'In the routes; refreshed by every registration, BROKER_HEARTBEAT and QUERY_DATA_VERSION.',
      tags: ['live'],
      // Re-entering restarts the heartbeat timer; the timer of the previous
      // generation is cancelled with it, so a stale expiry cannot fire.
      after: { heartbeatTimeout: { target: 'expired' } },
      on: {
        REGISTER: { target: 'registered', reenter: true, actions: 'recordRegistration' },
        HEARTBEAT: { target: 'registered', reenter: true },
        UNREGISTER: { target: 'unregistered' },
        CONNECTION_CLOSED: { guard: 'isCurrentConnection', target: 'disconnected' },
      },
    },
    expired: {
      type: 'final',
      description: 'No refresh within heartbeatTimeoutMillis.',
      entry: { type: 'recordRemovalReason', params: { reason: 'expired' } },
    },
    unregistered: {
      type: 'final',
      description: 'The broker sent UNREGISTER_BROKER.',
      entry: { type: 'recordRemovalReason', params: { reason: 'unregistered' } },
    },
    disconnected: {
      type: 'final',
      description: 'The connection it registered over closed.',
      entry: { type: 'recordRemovalReason', params: { reason: 'disconnected' } },
    },
  },
  // Each way out tells the parent why, with the generation that fences the
  // route table removal.
  output: ({ context }) => removal(context, context.removalReason ?? 'expired'),
});

import type { Logger } from 'pino';
import { brokerKeyOf, type BrokerRemoval } from '../../machines/broker.js';
import type { BrokerActorRef } from '../../machines/brokerRegistry.js';
import type { NameServerEvent } from '../../machines/nameServer.js';
import { stateName, type Transition } from '../observe/transitions.js';
import type { RemovalReason, RouteTable } from '../route/routeTable.js';

/** One live broker as probes, the gateway and admin tools show it. */
export interface BrokerSnapshot {
  brokerKey: string;
  clusterName: string;
  brokerName: string;
  brokerAddr: string;
  brokerId: number;
  state: string;
  generation: number;
  lastRefresh: number;
  heartbeatTimeoutMillis: number | null;
  dataVersion: { counter: number; timestamp: number; stateVersion?: number };
  topicCount: number;
}

export interface BrokerLivenessOptions {
  routes: RouteTable;
  logger: Logger;
  /** The name server actor's inbox. */
  send(event: NameServerEvent): void;
}

const ROUTE_REMOVAL_CAUSE: Record<BrokerRemoval['reason'], RemovalReason> = {
  expired: 'expired',
  unregistered: 'unregister',
  disconnected: 'connectionClosed',
};

/**
 * Everything the server keeps per broker outside the charts: which
 * connection each broker registered over (so a close removes it), the broker
 * actors the registry runs (for snapshots and metrics), when each last
 * refreshed, and the route-table side of a broker actor's end. The broker
 * machine decides when a broker is live; this module only indexes and shows.
 */
export class BrokerLiveness {
  /** Filled by the broker registry (createBrokerRegistry's `actors`). */
  readonly actors = new Map<string, BrokerActorRef>();
  private readonly brokersByConnection = new Map<number, Set<string>>();
  /** Last time each broker actor entered `registered` (registration or heartbeat). */
  private readonly lastRefresh = new Map<string, number>();

  constructor(private readonly options: BrokerLivenessOptions) {}

  /** Remember that a broker registered over a connection, so its close removes it. */
  bindToConnection(connectionId: number, brokerKey: string): void {
    let keys = this.brokersByConnection.get(connectionId);
    if (!keys) {
      keys = new Set();
      this.brokersByConnection.set(connectionId, keys);
    }
    keys.add(brokerKey);
  }

  /** A connection closed: each broker that registered over it gets a (generation-fenced) removal. */
  connectionClosed(connectionId: number): void {
    const keys = this.brokersByConnection.get(connectionId);
    if (!keys) return;
    this.brokersByConnection.delete(connectionId);
    for (const brokerKey of keys) this.options.send({ type: 'BROKER.CONNECTION_CLOSED', brokerKey, connectionId });
  }

  /** Transition listener: keeps each broker's last refresh time. */
  readonly observe = (transition: Transition): void => {
    if (transition.machine !== 'broker') return;
    if (transition.to === 'registered') this.lastRefresh.set(transition.actorId, transition.at);
    else this.lastRefresh.delete(transition.actorId);
  };

  /**
   * The route-table side of a broker actor's end (the name server machine's
   * `removeBrokerFromRoutes`). Only the ended generation is removed: a
   * broker that re-registered meanwhile stays.
   */
  removeFromRoutes(removal: BrokerRemoval): void {
    const removed = this.options.routes.removeBroker(
      { clusterName: removal.clusterName, brokerAddr: removal.brokerAddr, generation: removal.generation },
      ROUTE_REMOVAL_CAUSE[removal.reason],
    );
    const fields: Record<string, unknown> = {
      broker: removal.brokerAddr,
      brokerName: removal.brokerName,
      cluster: removal.clusterName,
      reason: removal.reason,
      generation: removal.generation,
    };
    // UNREGISTER_BROKER takes the broker out of the routes itself, before its actor ends.
    if (removal.reason !== 'unregistered') fields.removedFromRoutes = removed;
    this.options.logger[removal.reason === 'unregistered' ? 'info' : 'warn'](fields, `broker ${removal.brokerAddr} removed: ${removal.reason}`);
  }

  /** Broker actor states, one per running actor (for metrics). */
  *states(): Iterable<string> {
    for (const broker of this.actors.values()) yield stateName(broker.getSnapshot().value);
  }

  /** Every live broker: identity, actor state, generation, last refresh, DataVersion, topic count. */
  snapshots(): BrokerSnapshot[] {
    return this.options.routes.liveBrokerView().map((view) => {
      const brokerKey = brokerKeyOf(view.clusterName, view.brokerAddr);
      const actor = this.actors.get(brokerKey);
      return {
        brokerKey,
        clusterName: view.clusterName,
        brokerName: view.brokerName,
        brokerAddr: view.brokerAddr,
        brokerId: view.brokerId,
        state: actor ? stateName(actor.getSnapshot().value) : 'unknown',
        generation: view.generation,
        lastRefresh: this.lastRefresh.get(brokerKey) ?? view.lastUpdateTimestamp,
        heartbeatTimeoutMillis: actor?.getSnapshot().context.heartbeatTimeoutMillis ?? view.heartbeatTimeoutMillis ?? null,
        dataVersion: view.dataVersion,
        topicCount: view.topicCount,
      };
    });
  }
}

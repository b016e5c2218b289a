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
  /**
   * Whether the name server is stopping (its snapshot `matches('stopping')`).
   * Closing every connection then disconnects every broker: expected, so
   * counted and logged once at the end, not warned about one by one.
   */
  stopping?: () => boolean;
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
  /** Brokers disconnected by the name server's own stop, for the one summary line. */
  private droppedAtShutdown = 0;

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

  /** Transition listener: keeps each broker's last refresh time, and sums up the brokers a stop dropped. */
  readonly observe = (transition: Transition): void => {
    if (transition.machine === 'nameServer') {
      if (transition.from?.startsWith('stopping') && !transition.to.startsWith('stopping')) this.summarizeShutdown();
      return;
    }
    if (transition.machine !== 'broker') return;
    if (transition.to === 'registered') this.lastRefresh.set(transition.actorId, transition.at);
    else this.lastRefresh.delete(transition.actorId);
  };

  /**
   * One line for every broker the stop dropped: those its closed connections
   * disconnected, and those still registered (over no connection of their
   * own, e.g. through the gateway) whose actors end with the name server.
   */
  private summarizeShutdown(): void {
    const stillRegistered = this.actors.size;
    const dropped = this.droppedAtShutdown + stillRegistered;
    this.droppedAtShutdown = 0;
    if (dropped === 0) return;
    this.options.logger.info(
      { brokers: dropped, disconnected: dropped - stillRegistered, stillRegistered },
      `${dropped} broker${dropped === 1 ? '' : 's'} dropped at shutdown`,
    );
  }

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
    if (removal.reason === 'unregistered') {
      // UNREGISTER_BROKER took the broker out of the routes itself, before its
      // actor ended; what counts is that this registration is gone from them.
      const left = this.options.routes.lookupBroker(removal.clusterName, removal.brokerAddr);
      fields.removedFromRoutes = removed || left === undefined || left.generation !== removal.generation;
      this.options.logger.info(fields, `broker ${removal.brokerAddr} removed: unregistered`);
      return;
    }
    fields.removedFromRoutes = removed;
    if (!removed) {
      // Fenced: a newer registration of the same broker holds the routes.
      const current = this.options.routes.lookupBroker(removal.clusterName, removal.brokerAddr);
      if (current !== undefined) fields.currentGeneration = current.generation;
    }
    if (removal.reason === 'disconnected' && this.options.stopping?.()) {
      // The name server's own stop closed the connection: expected, summed up once.
      this.droppedAtShutdown++;
      this.options.logger.debug(fields, `broker ${removal.brokerAddr} dropped: the name server is stopping`);
      return;
    }
    const what = removed
      ? `removed: ${removal.reason}`
      : fields.currentGeneration !== undefined
        ? `${removal.reason}, but a newer registration (generation ${fields.currentGeneration as number}) stays in the routes`
        : `${removal.reason}; it was no longer in the routes`;
    this.options.logger.warn(fields, `broker ${removal.brokerAddr} ${what}`);
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
        heartbeatTimeoutMillis:
          actor?.getSnapshot().context.heartbeatTimeoutMillis ?? view.heartbeatTimeoutMillis ?? null,
        dataVersion: view.dataVersion,
        topicCount: view.topicCount,
      };
    });
  }
}

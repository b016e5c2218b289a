import type { Logger } from 'pino';
import type { RuntimeConfig } from '../config/runtimeConfig.js';
import type { KvStore } from '../kv/kvStore.js';
import type { RouteTable } from '../route/routeTable.js';
import type { ServerClock } from '../clock.js';
import type { NameServerEvent } from '../../machines/nameServer.js';

/**
 * What request processors may touch. The route table and KV store are read and
 * written directly; broker liveness goes to the lifecycle actor as events.
 */
export interface ProcessorContext {
  config: RuntimeConfig;
  kv: KvStore;
  routes: RouteTable;
  clock: ServerClock;
  logger: Logger;
  /** Send an event to the name server actor (broker registrations and removals). */
  sendToLifecycle(event: NameServerEvent): void;
  /** The name server snapshot's `servingRoutes` tag: GET_ROUTEINFO_BY_TOPIC may answer. */
  servingRoutes(): boolean;
  /** The ports the listeners are bound to (differ from the configuration when it says 0). */
  boundPorts(): { listenPort: number; httpPort: number };
  /** Remember that a broker registered over a connection, so its close removes it. */
  bindBrokerToConnection(connectionId: number, brokerKey: string): void;
}

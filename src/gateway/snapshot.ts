import type { BrokerSnapshot } from '../brokers/brokerLiveness.js';
import type { LifecycleStatus } from '../lifecycle/lifecycleStatus.js';
import type { GatewayHost } from './host.js';
import type { GatewayStream } from './stream.js';
import type { Subscription } from './subscription.js';

/** The state a client can start from (hello, reset), as of stream sequence `seq`. */
export interface StateSnapshot {
  seq: number;
  lifecycle: LifecycleStatus;
  brokers: BrokerSnapshot[];
  /** Current routes of the subscribed topics; absent while routes are held or none are subscribed. */
  routes?: Record<string, unknown>;
}

export function takeSnapshot(host: GatewayHost, stream: GatewayStream, subscription: Subscription): StateSnapshot {
  const snapshot: StateSnapshot = {
    seq: stream.currentSeq,
    lifecycle: host.lifecycle(),
    brokers: host.brokerSnapshots().filter((broker) => subscription.acceptsBroker(broker)),
  };
  const topics = subscription.topicList();
  if (topics.length > 0 && subscription.wantsStream('routes')) {
    const routes = stream.routeSnapshot(topics);
    if (routes) snapshot.routes = routes;
  }
  return snapshot;
}

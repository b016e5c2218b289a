/**
 * What a write to the route table changed, as its onChange listeners hear of
 * it (the gateway's route pushes, NOTIFY_MIN_BROKER_ID_CHANGE), and the record
 * a write fills while it runs.
 */
import type { EncodedRouteCache } from './encodedRouteCache.js';
import { addrsRecord, minKey, type BrokerEntry } from './routeData.js';

/** RouteInfoManager.notifyMinBrokerIdChanged's inputs; the caller sends NOTIFY_MIN_BROKER_ID_CHANGE. */
export interface MinBrokerIdChange {
  brokerName: string;
  brokerAddrs: Record<string, string>;
  minBrokerId: number;
  minBrokerAddr: string;
  offlineBrokerAddr?: string;
  haBrokerAddr?: string;
  /** Who Java would notify (chooseBrokerAddrsToNotify). */
  notifyAddrs: string[];
}

export type RemovalReason = 'unregister' | 'expired' | 'connectionClosed';

export interface RouteChange {
  /** Topics whose route body changed (including topics that no longer exist). */
  topics: string[];
  /** Cluster info (broker names, addresses, clusters) changed. */
  clusters: boolean;
  cause: 'register' | RemovalReason | 'deleteTopic' | 'registerTopic' | 'wipeWritePerm' | 'addWritePerm' | 'options';
  minBrokerIdChanges?: MinBrokerIdChange[];
}

/** What one write changed so far; the route table announces it when the write is done. */
export class Changes {
  readonly topics = new Set<string>();
  clusters = false;
  readonly minBrokerIdChanges: MinBrokerIdChange[] = [];

  constructor(private readonly caches: readonly EncodedRouteCache[]) {}

  /**
   * A topic's route changes: its cached encodings go now, not at commit, so
   * a registration applied in chunks never leaves a stale route cached.
   * Callers touch a topic in the same synchronous step as they change it.
   */
  touch(topic: string): void {
    this.topics.add(topic);
    // Every time, not only the first: a reader between two chunks may have
    // cached this topic's route since it was last touched.
    for (const cache of this.caches) cache.delete(topic);
  }
}

/** The smallest broker id of a broker name changed: what Java's notifyMinBrokerIdChanged is told. */
export function minBrokerIdChange(
  entry: BrokerEntry,
  offlineBrokerAddr: string | undefined,
  haBrokerAddr: string | undefined,
): MinBrokerIdChange {
  const minBrokerId = minKey(entry.addrs);
  let notifyAddrs: string[];
  if (offlineBrokerAddr !== undefined || entry.addrs.size === 1) {
    notifyAddrs = [...entry.addrs.values()];
  } else {
    // A new broker registered: tell the ones that were there before it.
    notifyAddrs = [...entry.addrs].filter(([id]) => id !== minBrokerId).map(([, addr]) => addr);
  }
  const change: MinBrokerIdChange = {
    brokerName: entry.brokerName,
    brokerAddrs: addrsRecord(entry.addrs),
    minBrokerId,
    minBrokerAddr: entry.addrs.get(minBrokerId)!,
    notifyAddrs,
  };
  if (offlineBrokerAddr !== undefined) change.offlineBrokerAddr = offlineBrokerAddr;
  if (haBrokerAddr !== undefined) change.haBrokerAddr = haBrokerAddr;
  return change;
}

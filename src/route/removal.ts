/**
 * Taking a registration out of the route data: an expiry or a closed
 * connection (removeRegistration, fenced by generation, as Java's
 * onChannelDestroy and scanNotActiveBroker), or UNREGISTER_BROKER
 * (unregisterOne, as RouteInfoManager.unRegisterBroker), each followed by the
 * cleanup of the topics the broker name served.
 */
import { MASTER_ID, PermName } from '../protocol/types.js';
import { minBrokerIdChange, type Changes } from './routeChanges.js';
import { minKey, type BrokerEntry, type RouteData, type RouteSettings } from './routeData.js';

/** The registration an expiry or a closed connection ends. */
export interface RemovalTarget {
  clusterName: string;
  brokerAddr: string;
  /** Only this generation is removed; without one, whatever is registered. */
  generation?: number;
}

/** One broker id of one broker name, as UNREGISTER_BROKER's header names it. */
export interface UnregisterRequest {
  clusterName: string;
  brokerAddr: string;
  brokerName: string;
  brokerId: number;
}

/**
 * Removes one registration. With a generation, only that generation is
 * removed: an expiry or a connection close that raced with a re-registration
 * is a no-op (false, nothing changed).
 */
export function removeRegistration(
  data: RouteData,
  settings: RouteSettings,
  target: RemovalTarget,
  changes: Changes,
): boolean {
  const { clusterName, brokerAddr } = target;
  const live = data.liveOf(clusterName, brokerAddr);
  if (target.generation !== undefined && (live === undefined || live.generation !== target.generation)) return false;

  // Java looks the address up among the cluster's broker names.
  const holders: Array<{ brokerName: string; brokerId: number }> = [];
  for (const entry of data.brokersOfCluster(clusterName)) {
    for (const [id, addr] of entry.addrs) {
      if (addr === brokerAddr) {
        holders.push({ brokerName: entry.brokerName, brokerId: id });
        break;
      }
    }
  }
  if (holders.length === 0 && live !== undefined) {
    // A broker name first registered under another cluster: Java would leave
    // this address in its routes with nothing left to expire it.
    holders.push({ brokerName: live.brokerName, brokerId: live.brokerId });
  }
  if (holders.length === 0) return false;

  for (const holder of holders)
    unregisterOne(
      data,
      settings,
      { clusterName, brokerAddr, brokerName: holder.brokerName, brokerId: holder.brokerId },
      changes,
    );
  return true;
}

/** RouteInfoManager.unRegisterBroker for one request, then its topic cleanup. Whether anything was there. */
export function unregisterOne(
  data: RouteData,
  settings: RouteSettings,
  request: UnregisterRequest,
  changes: Changes,
): boolean {
  const { clusterName, brokerAddr, brokerName, brokerId } = request;
  let touched = false;
  const byAddr = data.live.get(clusterName);
  if (byAddr?.delete(brokerAddr)) {
    touched = true;
    if (byAddr.size === 0) data.live.delete(clusterName);
  }
  const filters = data.filterServers.get(clusterName);
  if (filters?.has(brokerAddr)) {
    data.collectTopicsOfAddr(clusterName, brokerAddr, changes);
    filters.delete(brokerAddr);
    data.filterServerEntries--;
    if (filters.size === 0) data.filterServers.delete(clusterName);
    touched = true;
  }

  let brokerNameRemoved = false;
  const entry = data.brokers.get(brokerName);
  if (entry) {
    const minIdChanged = entry.addrs.size > 0 && brokerId === minKey(entry.addrs);
    let removed = false;
    for (const [id, addr] of entry.addrs) {
      if (addr === brokerAddr) {
        entry.addrs.delete(id);
        removed = true;
      }
    }
    if (removed) {
      entry.fragments = undefined;
      touched = true;
      changes.clusters = true;
      data.collectTopicsOf(entry.brokerName, changes);
    }
    if (entry.addrs.size === 0) {
      data.brokers.delete(brokerName);
      brokerNameRemoved = true;
      changes.clusters = true;
    } else if (minIdChanged && settings.notifyMinBrokerIdChanged && entry.enableActingMaster) {
      changes.minBrokerIdChanges.push(minBrokerIdChange(entry, brokerAddr, undefined));
    }
  }

  if (brokerNameRemoved) {
    const names = data.clusters.get(clusterName);
    if (names?.delete(brokerName)) {
      changes.clusters = true;
      if (names.size === 0) data.clusters.delete(clusterName);
    }
    for (const queues of data.takeTopicsOf(brokerName)) {
      queues.delete(brokerName);
      changes.touch(queues.topic);
      if (queues.size === 0) data.topics.delete(queues.topic);
    }
  } else {
    const remaining = data.brokers.get(brokerName);
    if (remaining && remaining.enableActingMaster && noMasterExists(remaining)) {
      // The master is gone: its queues become read-only until it returns.
      for (const queues of data.topicsOf(brokerName)) {
        const code = queues.get(brokerName);
        if (code === undefined) continue;
        const perm = data.codes.perm(code);
        const wiped = perm & ~PermName.PERM_WRITE;
        if (wiped !== perm) {
          queues.set(brokerName, data.codes.withPerm(code, wiped));
          changes.touch(queues.topic);
        }
      }
    }
  }
  return touched;
}

function noMasterExists(entry: BrokerEntry): boolean {
  return entry.addrs.size === 0 || minKey(entry.addrs) > MASTER_ID;
}

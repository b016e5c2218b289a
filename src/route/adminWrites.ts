/**
 * The writes an operator sends rather than a broker: WIPE_WRITE_PERM_OF_BROKER
 * and ADD_WRITE_PERM_OF_BROKER, DELETE_TOPIC_IN_NAMESRV,
 * REGISTER_TOPIC_IN_NAMESRV. Each marks the broker names it changed, so their
 * next registration applies Java's rules in full (BrokerEntry.topicSyncAddr).
 */
import type { QueueData } from '../protocol/types.js';
import type { Changes } from './routeChanges.js';
import type { RouteData } from './routeData.js';

/** Sets the perm of every queue of a broker name to `next(perm)`; returns how many topics it serves. */
export function setWritePerm(
  data: RouteData,
  brokerName: string,
  next: (perm: number) => number,
  changes: Changes,
): number {
  let count = 0;
  for (const queues of data.topicsOf(brokerName)) {
    const code = queues.get(brokerName);
    if (code === undefined) continue;
    count++;
    const perm = data.codes.perm(code);
    const updated = next(perm);
    if (updated !== perm) {
      queues.set(brokerName, data.codes.withPerm(code, updated));
      changes.touch(queues.topic);
    }
  }
  return count;
}

/** DELETE_TOPIC_IN_NAMESRV: everywhere, or only from one cluster's broker names. */
export function deleteTopic(
  data: RouteData,
  topic: string,
  clusterName: string | undefined,
  changes: Changes,
): boolean {
  const queues = data.topics.get(topic);
  if (!queues) return false;
  if (clusterName === undefined) {
    for (const name of queues.keys()) {
      data.invalidateTopicSync(name);
      data.indexRemove(name);
    }
    data.topics.delete(topic);
    changes.touch(topic);
  } else {
    const names = data.clusters.get(clusterName);
    if (!names || names.size === 0) return false;
    for (const name of names) {
      if (queues.has(name)) {
        data.dropQueue(topic, queues, name);
        data.invalidateTopicSync(name);
        changes.touch(topic);
      }
    }
  }
  return changes.topics.size > 0;
}

/**
 * REGISTER_TOPIC_IN_NAMESRV: every queue's broker name must be registered,
 * or nothing is applied (Java stops at the first unknown one).
 */
export function registerTopic(
  data: RouteData,
  topic: string,
  queueDatas: readonly QueueData[],
  changes: Changes,
): boolean {
  if (queueDatas.length === 0) return false;
  for (const q of queueDatas) if (!data.brokers.has(q.brokerName)) return false;
  for (const q of queueDatas) {
    const name = data.brokers.get(q.brokerName)!.brokerName;
    data.invalidateTopicSync(name);
    data.putQueue(topic, name, data.codes.encode(q.readQueueNums, q.writeQueueNums, q.perm, q.topicSysFlag), changes);
  }
  return true;
}

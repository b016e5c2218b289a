/**
 * Reads of the route data, as RouteInfoManager answers them: a topic's route
 * (as plain data, or as the JSON text the encoded route cache keeps), cluster
 * info, the topic lists, DataVersion queries and views of the live
 * registrations. Nothing here writes to the data, except the per-broker JSON
 * fragments it caches on first use.
 */
import { setOwnKey } from '../util/ownKey.js';
import { writeBrokerData, writeQueueData, writeTopicRouteData } from '../protocol/fastjsonWriter.js';
import {
  cloneDataVersion,
  dataVersionEquals,
  hasUnitFlag,
  hasUnitSubFlag,
  isWriteable,
  MASTER_ID,
  SYNC_BROKER_MEMBER_GROUP_PREFIX,
  type BrokerData,
  type BrokerMemberGroup,
  type ClusterInfo,
  type DataVersion,
  type QueueData,
  type TopicList,
  type TopicQueueMappingInfo,
  type TopicRouteData,
} from '../protocol/types.js';
import {
  addrsRecord,
  cloneMapping,
  minKey,
  type BrokerEntry,
  type LiveEntry,
  type RouteData,
  type RouteSettings,
} from './routeData.js';
import { compareText } from '../util/compareText.js';

export interface LiveBrokerView {
  clusterName: string;
  brokerName: string;
  brokerAddr: string;
  brokerId: number;
  generation: number;
  connectionId: number;
  dataVersion: DataVersion;
  topicCount: number;
  haServerAddr: string;
  heartbeatTimeoutMillis: number | undefined;
  lastUpdateTimestamp: number;
}

/**
 * The text of a topic's route (without orderTopicConf), as
 * writeTopicRouteData(topicRouteData()) writes it; undefined when the topic
 * has no route. Most routes are put together from cached fragments.
 */
export function topicRouteText(
  data: RouteData,
  settings: RouteSettings,
  topic: string,
  standard: boolean,
): string | undefined {
  const text = routeTextFromFragments(data, settings, topic, standard);
  if (text === null) return undefined;
  if (text !== undefined) return text;
  const route = topicRouteData(data, settings, topic);
  return route ? writeTopicRouteData(route, standard) : undefined;
}

/**
 * A route's text put together from its broker names' cached JSON parts:
 * after a registration invalidated thousands of routes, reads rebuild them
 * cheaply. null: the topic has no route; undefined: a case left to the
 * general encoder (filter servers, static-topic mappings, an acting master to show).
 */
function routeTextFromFragments(
  data: RouteData,
  settings: RouteSettings,
  topic: string,
  standard: boolean,
): string | null | undefined {
  const queues = data.topics.get(topic);
  if (!queues) return null;
  if (data.filterServerEntries > 0 || data.mappings.has(topic)) return undefined;
  const acting = settings.supportActingMaster && !topic.startsWith(SYNC_BROKER_MEMBER_GROUP_PREFIX);
  const style = standard ? 1 : 0;
  let brokerText = '';
  let queueText = '';
  for (const [name, code] of queues) {
    const entry = data.brokers.get(name);
    if (queueText.length > 0) queueText += ',';
    if (entry === undefined) {
      queueText += writeQueueData(data.queueData(name, code), standard);
      continue;
    }
    // applyActingMaster would rewrite this broker's addresses.
    if (acting && entry.addrs.size > 0 && !entry.addrs.has(MASTER_ID)) return undefined;
    const fragments = (entry.fragments ??= { broker: [undefined, undefined], queues: [undefined, undefined] });
    const byCode = (fragments.queues[style] ??= new Map<number, string>());
    let queue = byCode.get(code);
    if (queue === undefined) {
      queue = writeQueueData(data.queueData(name, code), standard);
      byCode.set(code, queue);
    }
    queueText += queue;
    if (brokerText.length > 0) brokerText += ',';
    brokerText += fragments.broker[style] ??= writeBrokerData(brokerData(settings, entry), standard);
  }
  if (brokerText.length === 0) return null;
  return '{"brokerDatas":[' + brokerText + '],"filterServerTable":{},"queueDatas":[' + queueText + ']}';
}

/** RouteInfoManager.pickupTopicRouteData: a fresh object the caller may change. */
export function topicRouteData(data: RouteData, settings: RouteSettings, topic: string): TopicRouteData | undefined {
  const queues = data.topics.get(topic);
  if (!queues) return undefined;
  const queueDatas: QueueData[] = [];
  const brokerDatas: BrokerData[] = [];
  const filterServerTable: Record<string, string[]> = {};
  for (const [name, code] of queues) {
    queueDatas.push(data.queueData(name, code));
    const entry = data.brokers.get(name);
    if (!entry) continue;
    brokerDatas.push(brokerData(settings, entry));
    if (data.filterServerEntries === 0) continue;
    const filters = data.filterServers.get(entry.cluster);
    if (!filters) continue;
    for (const addr of entry.addrs.values()) {
      const list = filters.get(addr);
      if (list) setOwnKey(filterServerTable, addr, [...list]);
    }
  }
  if (brokerDatas.length === 0) return undefined;
  const route: TopicRouteData = { queueDatas, brokerDatas, filterServerTable };
  const byBroker = data.mappings.get(topic);
  if (byBroker) {
    const out: Record<string, TopicQueueMappingInfo> = {};
    for (const [bname, info] of byBroker) setOwnKey(out, bname, cloneMapping(info));
    route.topicQueueMappingByBroker = out;
  }
  if (settings.supportActingMaster && !topic.startsWith(SYNC_BROKER_MEMBER_GROUP_PREFIX))
    applyActingMaster(data, route);
  return route;
}

/**
 * With no master alive, a broker name that allows acting masters shows its
 * smallest-id slave as id 0, once its queues are read-only.
 */
function applyActingMaster(data: RouteData, route: TopicRouteData): void {
  const master = String(MASTER_ID);
  let needed = false;
  for (const bd of route.brokerDatas) {
    if (Object.keys(bd.brokerAddrs).length > 0 && !(master in bd.brokerAddrs)) {
      needed = true;
      break;
    }
  }
  if (!needed) return;
  for (const bd of route.brokerDatas) {
    const ids = Object.keys(bd.brokerAddrs);
    if (ids.length === 0 || master in bd.brokerAddrs || !data.brokers.get(bd.brokerName)?.enableActingMaster) continue;
    const queue = route.queueDatas.find((q) => q.brokerName === bd.brokerName);
    if (queue && !isWriteable(queue.perm)) {
      const minId = ids.map(Number).reduce((a, b) => (b < a ? b : a));
      const addr = bd.brokerAddrs[String(minId)]!;
      delete bd.brokerAddrs[String(minId)];
      bd.brokerAddrs[master] = addr;
    }
  }
}

function brokerData(settings: RouteSettings, entry: BrokerEntry): BrokerData {
  const bd: BrokerData = {
    cluster: entry.cluster,
    brokerName: entry.brokerName,
    brokerAddrs: addrsRecord(entry.addrs),
  };
  if (entry.zoneName !== undefined) bd.zoneName = entry.zoneName;
  if (settings.enableActingMasterField === 'always' || entry.enableActingMaster) {
    bd.enableActingMaster = entry.enableActingMaster;
  }
  return bd;
}

/** ClusterInfo as an object; broker names and clusters sorted. */
export function clusterInfoData(data: RouteData, settings: RouteSettings): ClusterInfo {
  const brokerAddrTable: Record<string, BrokerData> = {};
  for (const name of [...data.brokers.keys()].sort(compareText))
    setOwnKey(brokerAddrTable, name, brokerData(settings, data.brokers.get(name)!));
  const clusterAddrTable: Record<string, string[]> = {};
  for (const cluster of [...data.clusters.keys()].sort(compareText)) {
    setOwnKey(clusterAddrTable, cluster, [...data.clusters.get(cluster)!].sort(compareText));
  }
  return { brokerAddrTable, clusterAddrTable };
}

export function allTopicList(data: RouteData): TopicList {
  return { topicList: [...data.topics.keys()] };
}

/**
 * Cluster names and broker names (brokers create topics named after both),
 * and, as Java does, the address of the first broker name that has one.
 */
export function systemTopicList(data: RouteData): TopicList {
  const topics = new Set<string>();
  for (const [cluster, names] of data.clusters) {
    topics.add(cluster);
    for (const name of names) topics.add(name);
  }
  let brokerAddr: string | undefined;
  for (const entry of data.brokers.values()) {
    if (entry.addrs.size > 0) {
      brokerAddr = entry.addrs.get(minKey(entry.addrs));
      break;
    }
  }
  return brokerAddr === undefined ? { topicList: [...topics] } : { brokerAddr, topicList: [...topics] };
}

export function topicsByCluster(data: RouteData, cluster: string): TopicList {
  const names = data.clusters.get(cluster);
  const topicList: string[] = [];
  if (names && names.size > 0) {
    for (const [topic, queues] of data.topics) {
      for (const name of queues.keys()) {
        if (names.has(name)) {
          topicList.push(topic);
          break;
        }
      }
    }
  }
  return { topicList };
}

/** Java judges a topic by the sysFlag of its first queue data. */
function topicsBySysFlag(data: RouteData, test: (sysFlag: number) => boolean): TopicList {
  const topicList: string[] = [];
  for (const [topic, queues] of data.topics) {
    const first = queues.values().next();
    if (!first.done && test(data.codes.sysFlag(first.value))) topicList.push(topic);
  }
  return { topicList };
}

export function unitTopics(data: RouteData): TopicList {
  return topicsBySysFlag(data, (f) => hasUnitFlag(f));
}

export function hasUnitSubTopics(data: RouteData): TopicList {
  return topicsBySysFlag(data, (f) => hasUnitSubFlag(f));
}

export function hasUnitSubUnUnitTopics(data: RouteData): TopicList {
  return topicsBySysFlag(data, (f) => !hasUnitFlag(f) && hasUnitSubFlag(f));
}

/**
 * QUERY_DATA_VERSION. Java also refreshes the broker's live timestamp here:
 * `known` tells the caller whether there is a registration to refresh.
 */
export function queryDataVersion(
  data: RouteData,
  query: { clusterName: string; brokerAddr: string; dataVersion: DataVersion | undefined },
): { changed: boolean; current?: DataVersion; known: boolean; generation?: number } {
  const live = data.liveOf(query.clusterName, query.brokerAddr);
  if (!live) return { changed: true, known: false };
  return {
    changed: !dataVersionEquals(live.dataVersion, query.dataVersion),
    current: cloneDataVersion(live.dataVersion),
    known: true,
    generation: live.generation,
  };
}

export function brokerMemberGroup(data: RouteData, clusterName: string, brokerName: string): BrokerMemberGroup {
  const entry = data.brokers.get(brokerName);
  return { brokerAddrs: entry ? addrsRecord(entry.addrs) : {}, brokerName, cluster: clusterName };
}

export function liveView(live: LiveEntry): LiveBrokerView {
  return {
    clusterName: live.clusterName,
    brokerName: live.brokerName,
    brokerAddr: live.brokerAddr,
    brokerId: live.brokerId,
    generation: live.generation,
    connectionId: live.connectionId,
    dataVersion: cloneDataVersion(live.dataVersion),
    topicCount: live.topicCount,
    haServerAddr: live.haServerAddr,
    heartbeatTimeoutMillis: live.heartbeatTimeoutMillis,
    lastUpdateTimestamp: live.lastUpdateTimestamp,
  };
}

export function liveBrokerViews(data: RouteData): LiveBrokerView[] {
  const out: LiveBrokerView[] = [];
  for (const byAddr of data.live.values()) for (const live of byAddr.values()) out.push(liveView(live));
  return out;
}

/** Sizes of the data, for /metrics. */
export function dataCounts(data: RouteData): {
  topics: number;
  brokerNames: number;
  clusters: number;
  liveBrokers: number;
  queueEntries: number;
} {
  let queueEntries = 0;
  for (const queues of data.topics.values()) queueEntries += queues.size;
  let liveBrokers = 0;
  for (const byAddr of data.live.values()) liveBrokers += byAddr.size;
  return {
    topics: data.topics.size,
    brokerNames: data.brokers.size,
    clusters: data.clusters.size,
    liveBrokers,
    queueEntries,
  };
}

/** The whole table as sorted plain data (caches left out). */
export function dumpData(data: RouteData): Record<string, unknown> {
  const sortedKeys = <V>(m: Map<string, V>): string[] => [...m.keys()].sort(compareText);
  const topics: Record<string, unknown> = {};
  for (const topic of sortedKeys(data.topics)) {
    const queues = data.topics.get(topic)!;
    const out: Record<string, unknown> = {};
    for (const name of sortedKeys(queues)) {
      const q = data.queueData(name, queues.get(name)!);
      setOwnKey(out, name, {
        readQueueNums: q.readQueueNums,
        writeQueueNums: q.writeQueueNums,
        perm: q.perm,
        topicSysFlag: q.topicSysFlag,
      });
    }
    setOwnKey(topics, topic, out);
  }
  const brokers: Record<string, unknown> = {};
  for (const name of sortedKeys(data.brokers)) {
    const e = data.brokers.get(name)!;
    setOwnKey(brokers, name, {
      cluster: e.cluster,
      brokerAddrs: addrsRecord(e.addrs),
      zoneName: e.zoneName ?? null,
      enableActingMaster: e.enableActingMaster,
      topicSyncAddr: e.topicSyncAddr ?? null,
    });
  }
  const clusters: Record<string, string[]> = {};
  for (const cluster of sortedKeys(data.clusters))
    setOwnKey(clusters, cluster, [...data.clusters.get(cluster)!].sort(compareText));
  const live: Record<string, unknown> = {};
  for (const cluster of sortedKeys(data.live)) {
    const byAddr = data.live.get(cluster)!;
    for (const addr of sortedKeys(byAddr)) setOwnKey(live, `${cluster}|${addr}`, liveView(byAddr.get(addr)!));
  }
  const filterServers: Record<string, string[]> = {};
  for (const cluster of sortedKeys(data.filterServers)) {
    const byAddr = data.filterServers.get(cluster)!;
    for (const addr of sortedKeys(byAddr)) setOwnKey(filterServers, `${cluster}|${addr}`, [...byAddr.get(addr)!]);
  }
  const mappings: Record<string, unknown> = {};
  for (const topic of sortedKeys(data.mappings)) {
    const byBroker = data.mappings.get(topic)!;
    const out: Record<string, unknown> = {};
    for (const bname of sortedKeys(byBroker)) setOwnKey(out, bname, cloneMapping(byBroker.get(bname)!));
    setOwnKey(mappings, topic, out);
  }
  return { clusters, brokers, live, topics, filterServers, mappings, generationSeq: data.generationSeq };
}

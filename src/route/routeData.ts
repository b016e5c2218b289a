/**
 * The route table's data: RouteInfoManager's tables (topic queues, broker
 * names and addresses, clusters, per-address registrations, filter servers,
 * static-topic mappings) as plain indexed structures, and the small
 * operations that keep their indexes in step. Registration (registration.ts),
 * removal (removal.ts), the admin writes (adminWrites.ts) and the reads
 * (routeReads.ts) work on it; routeTable.ts puts them together.
 */
import type { DataVersion, QueueData, TopicQueueMappingInfo } from '../protocol/types.js';
import { QueueCodes } from './queueCodes.js';
import type { Changes } from './routeChanges.js';

/** The table's options as every part of it reads them; updateOptions changes them in place. */
export interface RouteSettings {
  supportActingMaster: boolean;
  deleteTopicWithBrokerRegistration: boolean;
  notifyMinBrokerIdChanged: boolean;
  enableActingMasterField: 'always' | 'whenTrue';
  routeCacheMaxBytes: number;
  maxInflatedBytes: number;
  onListenerError?: (error: unknown) => void;
}

/** One broker name (Java's brokerAddrTable entry). */
export interface BrokerEntry {
  cluster: string;
  brokerName: string;
  addrs: Map<number, string>;
  zoneName: string | undefined;
  enableActingMaster: boolean;
  /**
   * The address whose full registration last set this broker name's queues,
   * while nothing else has touched them since. An unchanged re-registration
   * from that address cannot change any queue, so its topics need no parsing.
   */
  topicSyncAddr: string | undefined;
  /** This broker name's parts of route JSON, made on first use; cleared when the entry changes. */
  fragments: BrokerFragments | undefined;
}

/** Index 0: fastjson style; 1: standard JSON. */
export interface BrokerFragments {
  broker: [string | undefined, string | undefined];
  /** queue code -> QueueData JSON */
  queues: [Map<number, string> | undefined, Map<number, string> | undefined];
}

/** One (cluster, address) registration (Java's brokerLiveTable entry). */
export interface LiveEntry {
  clusterName: string;
  brokerAddr: string;
  brokerName: string;
  brokerId: number;
  haServerAddr: string;
  dataVersion: DataVersion;
  heartbeatTimeoutMillis: number | undefined;
  connectionId: number;
  generation: number;
  topicCount: number;
  lastUpdateTimestamp: number;
  /**
   * registerBodyKey of the last body decoded in full. The fast path (skip the
   * topics of an unchanged DataVersion) only takes byte-identical bodies, so a
   * body broken after its DataVersion is still decoded and refused.
   */
  fullBodyKey: number | undefined;
}

/**
 * One broker name's topics. `list` gains a topic whenever the topic gains the
 * broker's queues; losing them only counts in `removed`. While `removed` is 0
 * the list is exact (a topic can only gain the queues again after losing
 * them); otherwise it is cleaned up before it is read (topicsOf).
 */
interface BrokerTopics {
  list: TopicQueues[];
  removed: number;
}

/**
 * One topic's queues: broker name -> queue code. Knows its topic's name (the
 * table's own key string), so the per-broker index can hold these instead of
 * strings: no second copy of a name, no lookup to get from a name to its queues.
 */
export class TopicQueues extends Map<string, number> {
  constructor(readonly topic: string) {
    super();
  }
}

export class RouteData {
  /** topic -> brokerName -> queue code */
  readonly topics = new Map<string, TopicQueues>();
  /** brokerName -> entry (Java's brokerAddrTable) */
  readonly brokers = new Map<string, BrokerEntry>();
  /** clusterName -> brokerNames */
  readonly clusters = new Map<string, Set<string>>();
  /** clusterName -> brokerAddr -> registration (Java's brokerLiveTable) */
  readonly live = new Map<string, Map<string, LiveEntry>>();
  /** clusterName -> brokerAddr -> filter servers */
  readonly filterServers = new Map<string, Map<string, string[]>>();
  filterServerEntries = 0;
  /** topic -> brokerName -> static-topic mapping; Java never prunes it, neither does this. */
  readonly mappings = new Map<string, Map<string, TopicQueueMappingInfo>>();
  /** brokerName -> its topics: the inverse of `topics`, so a broker's changes cost its own topics, not all. */
  private readonly topicsByBroker = new Map<string, BrokerTopics>();

  readonly codes = new QueueCodes();
  /** The last registration generation handed out. */
  generationSeq = 0;

  liveOf(clusterName: string, brokerAddr: string): LiveEntry | undefined {
    return this.live.get(clusterName)?.get(brokerAddr);
  }

  queueData(brokerName: string, code: number): QueueData {
    return {
      brokerName,
      readQueueNums: this.codes.read(code),
      writeQueueNums: this.codes.write(code),
      perm: this.codes.perm(code),
      topicSysFlag: this.codes.sysFlag(code),
    };
  }

  /** Sets one broker name's queues on a topic, adding the topic if it is new. */
  putQueue(topic: string, brokerName: string, code: number, changes: Changes): void {
    const queues = this.topics.get(topic);
    if (!queues) {
      this.addTopic(detached(topic), brokerName, code);
      changes.touch(topic);
      return;
    }
    if (queues.get(brokerName) !== code) {
      if (!queues.has(brokerName)) this.indexAdd(brokerName, queues);
      queues.set(brokerName, code);
      changes.touch(topic);
    }
  }

  /** A topic new to the table, with one broker name's queues. */
  addTopic(topic: string, brokerName: string, code: number): void {
    const queues = new TopicQueues(topic);
    queues.set(brokerName, code);
    this.topics.set(topic, queues);
    this.indexAdd(brokerName, queues);
  }

  /** Removes one broker name's queues from a topic, and the topic once it has none. */
  dropQueue(topic: string, queues: Map<string, number>, brokerName: string): void {
    if (!queues.delete(brokerName)) return;
    this.indexRemove(brokerName);
    if (queues.size === 0) this.topics.delete(topic);
  }

  /** A topic gained `brokerName`'s queues (it did not have them). */
  indexAdd(brokerName: string, queues: TopicQueues): void {
    const entry = this.topicsByBroker.get(brokerName);
    if (entry) entry.list.push(queues);
    else this.topicsByBroker.set(brokerName, { list: [queues], removed: 0 });
  }

  /** Some topic lost `brokerName`'s queues: its list is left as it is until read. */
  indexRemove(brokerName: string): void {
    const entry = this.topicsByBroker.get(brokerName);
    if (entry) entry.removed++;
  }

  /**
   * The topics with `brokerName`'s queues, each once. Callers may change
   * queues while iterating, but must not add topics to this broker name.
   */
  topicsOf(brokerName: string): readonly TopicQueues[] {
    const entry = this.topicsByBroker.get(brokerName);
    if (!entry) return [];
    if (entry.removed > 0) {
      // Drop topics that lost the broker (or left the table) and duplicates from losing and regaining it.
      const seen = new Set<TopicQueues>();
      const exact: TopicQueues[] = [];
      for (const queues of entry.list) {
        if (seen.has(queues)) continue;
        seen.add(queues);
        if (queues.has(brokerName) && this.topics.get(queues.topic) === queues) exact.push(queues);
      }
      entry.list = exact;
      entry.removed = 0;
    }
    return entry.list;
  }

  /** topicsOf, for a broker name that is going: its index entry goes with it. */
  takeTopicsOf(brokerName: string): readonly TopicQueues[] {
    const topics = this.topicsOf(brokerName);
    this.topicsByBroker.delete(brokerName);
    return topics;
  }

  /** Broker names first registered under `clusterName` (Java's brokerAddrTable entries of that cluster). */
  *brokersOfCluster(clusterName: string): Generator<BrokerEntry> {
    const names = this.clusters.get(clusterName);
    if (!names) return;
    for (const name of names) {
      const entry = this.brokers.get(name);
      if (entry && entry.cluster === clusterName) yield entry;
    }
  }

  /** Every topic served by a broker name: its route shows that name's addresses. */
  collectTopicsOf(brokerName: string, changes: Changes): void {
    for (const queues of this.topicsOf(brokerName)) changes.touch(queues.topic);
  }

  /** Routes list filter servers by (broker name's cluster, address). */
  collectTopicsOfAddr(clusterName: string, brokerAddr: string, changes: Changes): void {
    for (const entry of this.brokersOfCluster(clusterName)) {
      for (const addr of entry.addrs.values()) {
        if (addr === brokerAddr) {
          this.collectTopicsOf(entry.brokerName, changes);
          break;
        }
      }
    }
  }

  /** Queues were changed by something other than the broker's own registration. */
  invalidateTopicSync(brokerName: string): void {
    const entry = this.brokers.get(brokerName);
    if (entry) entry.topicSyncAddr = undefined;
  }
}

export function minKey(map: Map<number, string>): number {
  let min = Infinity;
  for (const id of map.keys()) if (id < min) min = id;
  return min;
}

/**
 * A copy that does not share storage with the string it came from: a
 * substring of a parsed body may keep the whole body alive for as long as the
 * topic lives in the table.
 */
export function detached(s: string): string {
  return s.length < 13 ? s : (JSON.parse(JSON.stringify(s)) as string);
}

export function addrsRecord(addrs: Map<number, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const ids = [...addrs.keys()].sort((a, b) => a - b);
  for (const id of ids) out[String(id)] = addrs.get(id)!;
  return out;
}

export function cloneMapping(m: TopicQueueMappingInfo): TopicQueueMappingInfo {
  return { ...m, currIdMap: { ...m.currIdMap } };
}

/**
 * The route table: RouteInfoManager's data (topic queues, broker names and
 * addresses, clusters, per-address registrations, filter servers, static-topic
 * mappings) as plain indexed structures with synchronous methods.
 *
 * It is not an actor and keeps no time of its own: liveness belongs to the
 * broker actors, which tell it to remove a registration (fenced by generation).
 * Every mutation is validated in full before the first write, so a refused
 * request leaves the table exactly as it was.
 */

import {
  cloneDataVersion,
  dataVersionEquals,
  hasUnitFlag,
  hasUnitSubFlag,
  isWriteable,
  MASTER_ID,
  MQVersionOrdinal,
  PermName,
  SYNC_BROKER_MEMBER_GROUP_PREFIX,
  type BrokerData,
  type BrokerMemberGroup,
  type ClusterInfo,
  type DataVersion,
  type QueueData,
  type RegisterBrokerBody,
  type TopicConfigSerializeWrapper,
  type TopicList,
  type TopicQueueMappingInfo,
  type TopicRouteData,
} from './types.js';
import { ownedUtf8, writeClusterInfo, writeTopicRouteData } from './json.js';
import { checkBodyCrc32, decodeRegisterBrokerBody, emptyRegisterBrokerBody, peekRegisterBody } from './registerBody.js';

const SUCCESS = 0;
const SYSTEM_ERROR = 1;

export interface RouteTableOptions {
  supportActingMaster: boolean;
  deleteTopicWithBrokerRegistration: boolean;
  notifyMinBrokerIdChanged?: boolean;
  /**
   * BrokerData.enableActingMaster in route and cluster bodies. Java 5.x always
   * writes it; 4.9.x's BrokerData has no such field. 'whenTrue' (default)
   * writes it only when set, which reproduces 4.9.8's bytes and reads the same
   * to 5.x clients (absent means false).
   */
  enableActingMasterField?: 'always' | 'whenTrue';
  /** Upper bound on encoded routes kept, per encoding; oldest go first. Default 256 MiB. */
  routeCacheMaxBytes?: number;
  /** Upper bound on a compressed register body once inflated. */
  maxInflatedBytes?: number;
  /** A change listener threw; the table itself is consistent regardless. */
  onListenerError?: (error: unknown) => void;
}

export interface RegisterBrokerInput {
  clusterName: string;
  brokerAddr: string;
  brokerName: string;
  brokerId: number;
  haServerAddr: string;
  zoneName?: string;
  /**
   * The header's enableActingMaster. Leave it undefined when the header lacks
   * it: Java then treats the sender as a pre-5.0 broker, which is never a
   * "prime slave" that publishes topics on its master's behalf.
   */
  enableActingMaster?: boolean;
  heartbeatTimeoutMillis?: number;
  connectionId: number;
  now: number;
  /** The request's `version` (the sender's MQVersion ordinal). */
  clientVersion: number;
  body: Buffer | undefined;
  compressed: boolean;
  bodyCrc32: number;
}

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

export type RegisterRefusal = 'crc' | 'badBody' | 'singleTopicBeforeFirstRegistration' | 'stateVersionConflict';

export type RegisterBrokerResult =
  | {
      ok: true;
      /** The live master's HA address, for a slave; undefined otherwise (Java sends no field). */
      haServerAddr: string | undefined;
      masterAddr: string | undefined;
      generation: number;
      firstRegistration: boolean;
      topicsChanged: boolean;
      /** The body's DataVersion was unchanged and its topics were not parsed. */
      fastPath: boolean;
      minBrokerIdChange?: MinBrokerIdChange;
    }
  | {
      ok: false;
      /**
       * The response code Java answers with. A stateVersion conflict is
       * SUCCESS with no fields: Java ignores the older broker silently.
       */
      code: number;
      remark: string;
      reason: RegisterRefusal;
    };

export type RemovalReason = 'unregister' | 'expired' | 'connectionClosed';

export interface RouteChange {
  /** Topics whose route body changed (including topics that no longer exist). */
  topics: string[];
  /** Cluster info (broker names, addresses, clusters) changed. */
  clusters: boolean;
  cause: 'register' | RemovalReason | 'deleteTopic' | 'registerTopic' | 'wipeWritePerm' | 'addWritePerm' | 'options';
  minBrokerIdChanges?: MinBrokerIdChange[];
}

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

interface BrokerEntry {
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
}

interface LiveEntry {
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
}

/**
 * Queue data as one small integer. Most (read, write, perm, sysFlag) fit 12,
 * 12, 4 and 2 bits and are packed into a non-negative small integer, which V8
 * stores unboxed in a Map; any other combination is interned and referenced by
 * a negative id. Equal queue data always gets the same code.
 */
class QueueCodes {
  private readonly tuples: number[] = [];
  private readonly ids = new Map<string, number>();

  encode(read: number, write: number, perm: number, sysFlag: number): number {
    if (
      read >= 0 && read <= 4095 && Number.isInteger(read) &&
      write >= 0 && write <= 4095 && Number.isInteger(write) &&
      perm >= 0 && perm <= 15 && Number.isInteger(perm) &&
      sysFlag >= 0 && sysFlag <= 3 && Number.isInteger(sysFlag)
    ) {
      return (read << 18) | (write << 6) | (perm << 2) | sysFlag;
    }
    const key = `${read},${write},${perm},${sysFlag}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.tuples.length / 4;
      this.tuples.push(read, write, perm, sysFlag);
      this.ids.set(key, id);
    }
    return -(id + 1);
  }

  read(code: number): number {
    return code >= 0 ? code >>> 18 : this.tuples[(-code - 1) * 4]!;
  }

  write(code: number): number {
    return code >= 0 ? (code >>> 6) & 4095 : this.tuples[(-code - 1) * 4 + 1]!;
  }

  perm(code: number): number {
    return code >= 0 ? (code >>> 2) & 15 : this.tuples[(-code - 1) * 4 + 2]!;
  }

  sysFlag(code: number): number {
    return code >= 0 ? code & 3 : this.tuples[(-code - 1) * 4 + 3]!;
  }

  withPerm(code: number, perm: number): number {
    return this.encode(this.read(code), this.write(code), perm, this.sysFlag(code));
  }
}

/** Encoded bodies by topic, bounded in bytes; the oldest entry goes first. */
class EncodedCache {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private maxBytes: number) {}

  get(key: string): Buffer | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: Buffer): void {
    this.delete(key);
    if (value.length > this.maxBytes) return;
    while (this.bytes + value.length > this.maxBytes) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
    this.entries.set(key, value);
    this.bytes += value.length;
  }

  delete(key: string): void {
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.bytes -= old.length;
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  get size(): number {
    return this.entries.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }
}

class Changes {
  readonly topics = new Set<string>();
  clusters = false;
  readonly minBrokerIdChanges: MinBrokerIdChange[] = [];
}

function minKey(map: Map<number, string>): number {
  let min = Infinity;
  for (const id of map.keys()) if (id < min) min = id;
  return min;
}

/** Records keyed by outside strings must not let "__proto__" reach the prototype. */
function putKey<V>(target: Record<string, V>, key: string, value: V): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/**
 * A copy that does not share storage with the string it came from: a
 * substring of a parsed body may keep the whole body alive for as long as the
 * topic lives in the table.
 */
function detached(s: string): string {
  return s.length < 13 ? s : (JSON.parse(JSON.stringify(s)) as string);
}

function addrsRecord(addrs: Map<number, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const ids = [...addrs.keys()].sort((a, b) => a - b);
  for (const id of ids) out[String(id)] = addrs.get(id)!;
  return out;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function cloneMapping(m: TopicQueueMappingInfo): TopicQueueMappingInfo {
  return { ...m, currIdMap: { ...m.currIdMap } };
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class RouteTable {
  private options: Required<Omit<RouteTableOptions, 'onListenerError' | 'notifyMinBrokerIdChanged'>> & {
    notifyMinBrokerIdChanged: boolean;
    onListenerError?: (error: unknown) => void;
  };

  /** topic -> brokerName -> queue code */
  private readonly topics = new Map<string, Map<string, number>>();
  /** brokerName -> entry (Java's brokerAddrTable) */
  private readonly brokers = new Map<string, BrokerEntry>();
  /** clusterName -> brokerNames */
  private readonly clusters = new Map<string, Set<string>>();
  /** clusterName -> brokerAddr -> registration (Java's brokerLiveTable) */
  private readonly live = new Map<string, Map<string, LiveEntry>>();
  /** clusterName -> brokerAddr -> filter servers */
  private readonly filterServers = new Map<string, Map<string, string[]>>();
  private filterServerEntries = 0;
  /** topic -> brokerName -> static-topic mapping; Java never prunes it, neither does this. */
  private readonly mappings = new Map<string, Map<string, TopicQueueMappingInfo>>();

  private readonly codes = new QueueCodes();
  private generationSeq = 0;

  private readonly fastjsonRoutes: EncodedCache;
  private readonly standardRoutes: EncodedCache;
  private clusterInfoFastjson: Buffer | undefined;
  private clusterInfoStandard: Buffer | undefined;

  private readonly listeners = new Set<(change: RouteChange) => void>();

  constructor(options: RouteTableOptions) {
    this.options = {
      supportActingMaster: options.supportActingMaster,
      deleteTopicWithBrokerRegistration: options.deleteTopicWithBrokerRegistration,
      notifyMinBrokerIdChanged: options.notifyMinBrokerIdChanged ?? false,
      enableActingMasterField: options.enableActingMasterField ?? 'whenTrue',
      routeCacheMaxBytes: options.routeCacheMaxBytes ?? 256 * 1024 * 1024,
      maxInflatedBytes: options.maxInflatedBytes ?? 256 * 1024 * 1024,
      onListenerError: options.onListenerError,
    };
    this.fastjsonRoutes = new EncodedCache(this.options.routeCacheMaxBytes);
    this.standardRoutes = new EncodedCache(this.options.routeCacheMaxBytes);
  }

  /** Runtime config changes (UPDATE_NAMESRV_CONFIG). */
  updateOptions(next: Partial<Omit<RouteTableOptions, 'routeCacheMaxBytes'>>): void {
    const before = { ...this.options };
    for (const [key, value] of Object.entries(next)) {
      if (value !== undefined) (this.options as Record<string, unknown>)[key] = value;
    }
    if (
      before.supportActingMaster !== this.options.supportActingMaster ||
      before.enableActingMasterField !== this.options.enableActingMasterField
    ) {
      // Every encoded route may read differently now.
      this.fastjsonRoutes.clear();
      this.standardRoutes.clear();
      this.clusterInfoFastjson = undefined;
      this.clusterInfoStandard = undefined;
      this.emit({ topics: [...this.topics.keys()], clusters: true, cause: 'options' });
    }
    if (before.deleteTopicWithBrokerRegistration !== this.options.deleteTopicWithBrokerRegistration) {
      // The next registration of each broker name applies Java's rules in full.
      for (const entry of this.brokers.values()) entry.topicSyncAddr = undefined;
    }
  }

  onChange(listener: (change: RouteChange) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  // -------------------------------------------------------------------------
  // Registration

  registerBroker(input: RegisterBrokerInput): RegisterBrokerResult {
    const body = input.body && input.body.length > 0 ? input.body : undefined;
    if (!checkBodyCrc32(body, input.bodyCrc32)) {
      return { ok: false, code: SYSTEM_ERROR, remark: 'crc32 not match', reason: 'crc' };
    }

    const { clusterName, brokerAddr, brokerName, brokerId } = input;
    const existing = this.brokers.get(brokerName);
    const live = this.liveOf(clusterName, brokerAddr);
    const oldAddrAtId = existing?.addrs.get(brokerId);
    const registerFirst = !existing || !oldAddrAtId;
    const isMaster = brokerId === MASTER_ID;
    const isOldVersionBroker = input.enableActingMaster === undefined;
    // The smallest id once this registration is in (the same address under
    // another id is dropped first: a slave switching to master).
    let minIdAfter = brokerId;
    if (existing) {
      for (const [id, addr] of existing.addrs) {
        if (!(addr === brokerAddr && id !== brokerId) && id < minIdAfter) minIdAfter = id;
      }
    }
    const isPrimeSlave = !isOldVersionBroker && !isMaster && brokerId === minIdAfter;
    const appliesTopics = isMaster || isPrimeSlave;

    let dataVersion: DataVersion | undefined;
    let filterServerList: string[] | null = null;
    let wrapper: TopicConfigSerializeWrapper | undefined;
    let fastPath = false;

    if (
      body !== undefined &&
      input.clientVersion >= MQVersionOrdinal.V3_0_11 &&
      !registerFirst &&
      live !== undefined &&
      oldAddrAtId === brokerAddr &&
      (!appliesTopics || existing!.topicSyncAddr === brokerAddr)
    ) {
      const peek = peekRegisterBody(body, { compressed: input.compressed, maxInflatedBytes: this.options.maxInflatedBytes });
      if (peek && dataVersionEquals(peek.dataVersion, live.dataVersion)) {
        fastPath = true;
        dataVersion = peek.dataVersion;
        filterServerList = peek.filterServerList;
      }
    }
    if (!fastPath) {
      let decoded: RegisterBrokerBody;
      if (body === undefined) {
        decoded = emptyRegisterBrokerBody();
      } else {
        const result = decodeRegisterBrokerBody(body, input.compressed, {
          clientVersion: input.clientVersion,
          now: input.now,
          maxInflatedBytes: this.options.maxInflatedBytes,
        });
        if (!result.ok) {
          return { ok: false, code: SYSTEM_ERROR, remark: `Failed to decode RegisterBrokerBody: ${result.error}`, reason: 'badBody' };
        }
        decoded = result.value;
      }
      wrapper = decoded.topicConfigSerializeWrapper;
      dataVersion = wrapper.dataVersion;
      filterServerList = decoded.filterServerList;
    }
    const newVersion = dataVersion!;

    // Java makes these two checks after it has already changed its tables;
    // here nothing has been touched yet.
    if (oldAddrAtId !== undefined && oldAddrAtId !== brokerAddr) {
      const holder = this.liveOf(clusterName, oldAddrAtId);
      if (holder && (holder.dataVersion.stateVersion ?? 0) > (newVersion.stateVersion ?? 0)) {
        return { ok: false, code: SUCCESS, remark: '', reason: 'stateVersionConflict' };
      }
    }
    if (oldAddrAtId === undefined && wrapper && wrapper.topicConfigTable.size === 1) {
      // A broker's single-topic registration must follow its first full one (5.x).
      return { ok: false, code: SYSTEM_ERROR, remark: 'register broker failed', reason: 'singleTopicBeforeFirstRegistration' };
    }

    // ---- apply
    const changes = new Changes();
    let names = this.clusters.get(clusterName);
    if (!names) {
      names = new Set();
      this.clusters.set(detached(clusterName), names);
    }
    let entry = existing;
    if (!entry) {
      entry = {
        cluster: detached(clusterName),
        brokerName: detached(brokerName),
        addrs: new Map(),
        zoneName: undefined,
        enableActingMaster: false,
        topicSyncAddr: undefined,
      };
      this.brokers.set(entry.brokerName, entry);
      changes.clusters = true;
    }
    if (!names.has(entry.brokerName)) {
      names.add(entry.brokerName);
      changes.clusters = true;
    }
    const name = entry.brokerName;

    let brokerChanged = false;
    const enableActingMaster = input.enableActingMaster === true;
    if (entry.enableActingMaster !== enableActingMaster) {
      entry.enableActingMaster = enableActingMaster;
      brokerChanged = true;
    }
    const zoneName = input.zoneName ?? undefined;
    if (entry.zoneName !== zoneName) {
      entry.zoneName = zoneName;
      brokerChanged = true;
    }
    const prevMinId = entry.addrs.size > 0 ? minKey(entry.addrs) : 0;
    const minIdChanged = brokerId < prevMinId;
    for (const [id, addr] of entry.addrs) {
      if (addr === brokerAddr && id !== brokerId) {
        entry.addrs.delete(id);
        brokerChanged = true;
      }
    }
    if (entry.addrs.get(brokerId) !== brokerAddr) {
      entry.addrs.set(brokerId, detached(brokerAddr));
      brokerChanged = true;
    }
    if (brokerChanged) {
      changes.clusters = true;
      this.collectTopicsOf(name, changes);
    }

    if (appliesTopics && wrapper) {
      this.applyTopics(entry, brokerAddr, wrapper, registerFirst || !live || !dataVersionEquals(live.dataVersion, newVersion), registerFirst, isPrimeSlave, changes);
    }

    const liveEntry = this.putLive(input, name, newVersion, wrapper, live);

    if (filterServerList !== null) this.setFilterServers(clusterName, brokerAddr, filterServerList, changes);

    let haServerAddr: string | undefined;
    let masterAddr: string | undefined;
    if (brokerId !== MASTER_ID) {
      const master = entry.addrs.get(MASTER_ID);
      if (master !== undefined) {
        const masterLive = this.liveOf(clusterName, master);
        if (masterLive) {
          haServerAddr = masterLive.haServerAddr;
          masterAddr = master;
        }
      }
    }

    let minBrokerIdChange: MinBrokerIdChange | undefined;
    // Java notifies only broker names that run with acting master enabled.
    if (minIdChanged && this.options.notifyMinBrokerIdChanged && entry.enableActingMaster) {
      minBrokerIdChange = this.minBrokerIdChange(entry, undefined, liveEntry.haServerAddr);
      changes.minBrokerIdChanges.push(minBrokerIdChange);
    }

    const topicsChanged = changes.topics.size > 0;
    this.commit(changes, 'register');
    const result: RegisterBrokerResult = {
      ok: true,
      haServerAddr,
      masterAddr,
      generation: liveEntry.generation,
      firstRegistration: registerFirst,
      topicsChanged,
      fastPath,
    };
    if (minBrokerIdChange) result.minBrokerIdChange = minBrokerIdChange;
    return result;
  }

  private applyTopics(
    entry: BrokerEntry,
    brokerAddr: string,
    wrapper: TopicConfigSerializeWrapper,
    versionChanged: boolean,
    registerFirst: boolean,
    isPrimeSlave: boolean,
    changes: Changes,
  ): void {
    const name = entry.brokerName;
    const table = wrapper.topicConfigTable;
    const mappings = wrapper.topicQueueMappingInfoMap;
    // Static topics are not deleted this way (as in Java).
    if (this.options.deleteTopicWithBrokerRegistration && (!mappings || mappings.size === 0)) {
      for (const [topic, queues] of this.topics) {
        if (queues.has(name) && !table.has(topic)) {
          queues.delete(name);
          changes.topics.add(topic);
          if (queues.size === 0) this.topics.delete(topic);
        }
      }
    }
    // A prime slave stands in for an absent master read-only.
    const wipeWrite = isPrimeSlave && entry.enableActingMaster;
    for (const tc of table.values()) {
      const queues = this.topics.get(tc.topicName);
      if (!versionChanged && queues !== undefined && queues.has(name)) continue;
      const perm = wipeWrite ? tc.perm & ~PermName.PERM_WRITE : tc.perm;
      this.putQueue(tc.topicName, name, this.codes.encode(tc.readQueueNums, tc.writeQueueNums, perm, tc.topicSysFlag), changes);
    }
    if ((versionChanged || registerFirst) && mappings) {
      for (const [topic, info] of mappings) {
        let byBroker = this.mappings.get(topic);
        if (!byBroker) {
          byBroker = new Map();
          this.mappings.set(detached(topic), byBroker);
        }
        // Java files it under the mapping's own bname.
        byBroker.set(info.bname ?? 'null', cloneMapping(info));
        changes.topics.add(topic);
      }
    }
    entry.topicSyncAddr = brokerAddr;
  }

  private putQueue(topic: string, brokerName: string, code: number, changes: Changes): void {
    const queues = this.topics.get(topic);
    if (!queues) {
      this.topics.set(detached(topic), new Map([[brokerName, code]]));
      changes.topics.add(topic);
      return;
    }
    if (queues.get(brokerName) !== code) {
      queues.set(brokerName, code);
      changes.topics.add(topic);
    }
  }

  private putLive(
    input: RegisterBrokerInput,
    brokerName: string,
    dataVersion: DataVersion,
    wrapper: TopicConfigSerializeWrapper | undefined,
    previous: LiveEntry | undefined,
  ): LiveEntry {
    const generation =
      previous === undefined || previous.connectionId !== input.connectionId ? ++this.generationSeq : previous.generation;
    const topicCount = wrapper ? wrapper.topicConfigTable.size : (previous?.topicCount ?? 0);
    if (previous) {
      previous.brokerName = brokerName;
      previous.brokerId = input.brokerId;
      previous.haServerAddr = input.haServerAddr;
      if (!dataVersionEquals(previous.dataVersion, dataVersion)) previous.dataVersion = cloneDataVersion(dataVersion);
      previous.heartbeatTimeoutMillis = input.heartbeatTimeoutMillis;
      previous.connectionId = input.connectionId;
      previous.generation = generation;
      previous.topicCount = topicCount;
      previous.lastUpdateTimestamp = input.now;
      return previous;
    }
    const entry: LiveEntry = {
      clusterName: detached(input.clusterName),
      brokerAddr: detached(input.brokerAddr),
      brokerName,
      brokerId: input.brokerId,
      haServerAddr: input.haServerAddr,
      dataVersion: cloneDataVersion(dataVersion),
      heartbeatTimeoutMillis: input.heartbeatTimeoutMillis,
      connectionId: input.connectionId,
      generation,
      topicCount,
      lastUpdateTimestamp: input.now,
    };
    let byAddr = this.live.get(entry.clusterName);
    if (!byAddr) {
      byAddr = new Map();
      this.live.set(entry.clusterName, byAddr);
    }
    byAddr.set(entry.brokerAddr, entry);
    return entry;
  }

  private setFilterServers(clusterName: string, brokerAddr: string, list: string[], changes: Changes): void {
    const byAddr = this.filterServers.get(clusterName);
    const current = byAddr?.get(brokerAddr);
    if (list.length === 0) {
      if (current === undefined) return;
      this.collectTopicsOfAddr(clusterName, brokerAddr, changes);
      byAddr!.delete(brokerAddr);
      this.filterServerEntries--;
      if (byAddr!.size === 0) this.filterServers.delete(clusterName);
      return;
    }
    if (current !== undefined && sameList(current, list)) return;
    if (byAddr) {
      byAddr.set(brokerAddr, [...list]);
    } else {
      this.filterServers.set(clusterName, new Map([[brokerAddr, [...list]]]));
    }
    if (current === undefined) this.filterServerEntries++;
    this.collectTopicsOfAddr(clusterName, brokerAddr, changes);
  }

  private minBrokerIdChange(entry: BrokerEntry, offlineBrokerAddr: string | undefined, haBrokerAddr: string | undefined): MinBrokerIdChange {
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

  // -------------------------------------------------------------------------
  // Removal

  /**
   * Removes one registration, as Java's onChannelDestroy/scanNotActiveBroker
   * do. With a generation, only that generation is removed: an expiry or a
   * connection close that raced with a re-registration is a no-op.
   */
  removeBroker(target: { clusterName: string; brokerAddr: string; generation?: number }, reason: RemovalReason): boolean {
    const { clusterName, brokerAddr } = target;
    const live = this.liveOf(clusterName, brokerAddr);
    if (target.generation !== undefined && (live === undefined || live.generation !== target.generation)) return false;

    // Java looks the address up among the cluster's broker names.
    const holders: Array<{ brokerName: string; brokerId: number }> = [];
    for (const entry of this.brokers.values()) {
      if (entry.cluster !== clusterName) continue;
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

    const changes = new Changes();
    for (const holder of holders) this.unregisterOne(clusterName, brokerAddr, holder.brokerName, holder.brokerId, changes);
    this.commit(changes, reason);
    return true;
  }

  /** UNREGISTER_BROKER: by the header's identity, whatever the generation. */
  unregisterBroker(request: { clusterName: string; brokerAddr: string; brokerName: string; brokerId: number }): boolean {
    const changes = new Changes();
    const touched = this.unregisterOne(request.clusterName, request.brokerAddr, request.brokerName, request.brokerId, changes);
    this.commit(changes, 'unregister');
    return touched;
  }

  /** RouteInfoManager.unRegisterBroker for one request, then its topic cleanup. */
  private unregisterOne(clusterName: string, brokerAddr: string, brokerName: string, brokerId: number, changes: Changes): boolean {
    let touched = false;
    const byAddr = this.live.get(clusterName);
    if (byAddr?.delete(brokerAddr)) {
      touched = true;
      if (byAddr.size === 0) this.live.delete(clusterName);
    }
    const filters = this.filterServers.get(clusterName);
    if (filters?.has(brokerAddr)) {
      this.collectTopicsOfAddr(clusterName, brokerAddr, changes);
      filters.delete(brokerAddr);
      this.filterServerEntries--;
      if (filters.size === 0) this.filterServers.delete(clusterName);
      touched = true;
    }

    let brokerNameRemoved = false;
    const entry = this.brokers.get(brokerName);
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
        touched = true;
        changes.clusters = true;
        this.collectTopicsOf(entry.brokerName, changes);
      }
      if (entry.addrs.size === 0) {
        this.brokers.delete(brokerName);
        brokerNameRemoved = true;
        changes.clusters = true;
      } else if (minIdChanged && this.options.notifyMinBrokerIdChanged && entry.enableActingMaster) {
        changes.minBrokerIdChanges.push(this.minBrokerIdChange(entry, brokerAddr, undefined));
      }
    }

    if (brokerNameRemoved) {
      const names = this.clusters.get(clusterName);
      if (names?.delete(brokerName)) {
        changes.clusters = true;
        if (names.size === 0) this.clusters.delete(clusterName);
      }
      for (const [topic, queues] of this.topics) {
        if (queues.delete(brokerName)) {
          changes.topics.add(topic);
          if (queues.size === 0) this.topics.delete(topic);
        }
      }
    } else {
      const remaining = this.brokers.get(brokerName);
      if (remaining && remaining.enableActingMaster && this.noMasterExists(remaining)) {
        // The master is gone: its queues become read-only until it returns.
        for (const [topic, queues] of this.topics) {
          const code = queues.get(brokerName);
          if (code === undefined) continue;
          const perm = this.codes.perm(code);
          const wiped = perm & ~PermName.PERM_WRITE;
          if (wiped !== perm) {
            queues.set(brokerName, this.codes.withPerm(code, wiped));
            changes.topics.add(topic);
          }
        }
      }
    }
    return touched;
  }

  private noMasterExists(entry: BrokerEntry): boolean {
    return entry.addrs.size === 0 || minKey(entry.addrs) > MASTER_ID;
  }

  // -------------------------------------------------------------------------
  // Admin operations

  /** WIPE_WRITE_PERM_OF_BROKER; returns the number of topics the broker name serves. */
  wipeWritePermOfBroker(brokerName: string): number {
    return this.operateWritePerm(brokerName, (perm) => perm & ~PermName.PERM_WRITE, 'wipeWritePerm');
  }

  /** ADD_WRITE_PERM_OF_BROKER: perm becomes exactly read|write, as in Java. */
  addWritePermOfBroker(brokerName: string): number {
    return this.operateWritePerm(brokerName, () => PermName.PERM_READ | PermName.PERM_WRITE, 'addWritePerm');
  }

  private operateWritePerm(brokerName: string, next: (perm: number) => number, cause: RouteChange['cause']): number {
    const changes = new Changes();
    let count = 0;
    for (const [topic, queues] of this.topics) {
      const code = queues.get(brokerName);
      if (code === undefined) continue;
      count++;
      const perm = this.codes.perm(code);
      const updated = next(perm);
      if (updated !== perm) {
        queues.set(brokerName, this.codes.withPerm(code, updated));
        changes.topics.add(topic);
      }
    }
    this.commit(changes, cause);
    return count;
  }

  /** DELETE_TOPIC_IN_NAMESRV: everywhere, or only from one cluster's broker names. */
  deleteTopic(topic: string, clusterName?: string): boolean {
    const queues = this.topics.get(topic);
    if (!queues) return false;
    const changes = new Changes();
    if (clusterName === undefined) {
      for (const name of queues.keys()) this.invalidateTopicSync(name);
      this.topics.delete(topic);
      changes.topics.add(topic);
    } else {
      const names = this.clusters.get(clusterName);
      if (!names || names.size === 0) return false;
      for (const name of names) {
        if (queues.delete(name)) {
          this.invalidateTopicSync(name);
          changes.topics.add(topic);
        }
      }
      if (queues.size === 0) this.topics.delete(topic);
    }
    this.commit(changes, 'deleteTopic');
    return changes.topics.size > 0;
  }

  /**
   * REGISTER_TOPIC_IN_NAMESRV: every queue's broker name must be registered,
   * or nothing is applied (Java stops at the first unknown one).
   */
  registerTopic(topic: string, queueDatas: readonly QueueData[]): boolean {
    if (queueDatas.length === 0) return false;
    for (const q of queueDatas) if (!this.brokers.has(q.brokerName)) return false;
    const changes = new Changes();
    for (const q of queueDatas) {
      const name = this.brokers.get(q.brokerName)!.brokerName;
      this.invalidateTopicSync(name);
      this.putQueue(topic, name, this.codes.encode(q.readQueueNums, q.writeQueueNums, q.perm, q.topicSysFlag), changes);
    }
    this.commit(changes, 'registerTopic');
    return true;
  }

  /** Queues were changed by something other than the broker's own registration. */
  private invalidateTopicSync(brokerName: string): void {
    const entry = this.brokers.get(brokerName);
    if (entry) entry.topicSyncAddr = undefined;
  }

  // -------------------------------------------------------------------------
  // Reads

  /**
   * The encoded TopicRouteData of a topic (without orderTopicConf), or
   * undefined when the topic has no route. The Buffer is shared: do not modify it.
   */
  pickupTopicRoute(topic: string, standardJson: boolean): Buffer | undefined {
    const cache = standardJson ? this.standardRoutes : this.fastjsonRoutes;
    const hit = cache.get(topic);
    if (hit !== undefined) return hit;
    const data = this.pickupTopicRouteData(topic);
    if (!data) return undefined;
    const encoded = ownedUtf8(writeTopicRouteData(data, standardJson));
    cache.set(topic, encoded);
    return encoded;
  }

  /** RouteInfoManager.pickupTopicRouteData: a fresh object the caller may change. */
  pickupTopicRouteData(topic: string): TopicRouteData | undefined {
    const queues = this.topics.get(topic);
    if (!queues) return undefined;
    const queueDatas: QueueData[] = [];
    const brokerDatas: BrokerData[] = [];
    const filterServerTable: Record<string, string[]> = {};
    for (const [name, code] of queues) {
      queueDatas.push(this.queueData(name, code));
      const entry = this.brokers.get(name);
      if (!entry) continue;
      brokerDatas.push(this.brokerData(entry));
      if (this.filterServerEntries === 0) continue;
      const filters = this.filterServers.get(entry.cluster);
      if (!filters) continue;
      for (const addr of entry.addrs.values()) {
        const list = filters.get(addr);
        if (list) putKey(filterServerTable, addr, [...list]);
      }
    }
    if (brokerDatas.length === 0) return undefined;
    const data: TopicRouteData = { queueDatas, brokerDatas, filterServerTable };
    const byBroker = this.mappings.get(topic);
    if (byBroker) {
      const out: Record<string, TopicQueueMappingInfo> = {};
      for (const [bname, info] of byBroker) putKey(out, bname, cloneMapping(info));
      data.topicQueueMappingByBroker = out;
    }
    if (this.options.supportActingMaster && !topic.startsWith(SYNC_BROKER_MEMBER_GROUP_PREFIX)) this.applyActingMaster(data);
    return data;
  }

  /**
   * With no master alive, a broker name that allows acting masters shows its
   * smallest-id slave as id 0, once its queues are read-only.
   */
  private applyActingMaster(data: TopicRouteData): void {
    const master = String(MASTER_ID);
    let needed = false;
    for (const bd of data.brokerDatas) {
      if (Object.keys(bd.brokerAddrs).length > 0 && !(master in bd.brokerAddrs)) {
        needed = true;
        break;
      }
    }
    if (!needed) return;
    for (const bd of data.brokerDatas) {
      const ids = Object.keys(bd.brokerAddrs);
      if (ids.length === 0 || master in bd.brokerAddrs || !this.brokers.get(bd.brokerName)?.enableActingMaster) continue;
      const queue = data.queueDatas.find((q) => q.brokerName === bd.brokerName);
      if (queue && !isWriteable(queue.perm)) {
        const minId = ids.map(Number).reduce((a, b) => (b < a ? b : a));
        const addr = bd.brokerAddrs[String(minId)]!;
        delete bd.brokerAddrs[String(minId)];
        bd.brokerAddrs[master] = addr;
      }
    }
  }

  private queueData(brokerName: string, code: number): QueueData {
    return {
      brokerName,
      readQueueNums: this.codes.read(code),
      writeQueueNums: this.codes.write(code),
      perm: this.codes.perm(code),
      topicSysFlag: this.codes.sysFlag(code),
    };
  }

  private brokerData(entry: BrokerEntry): BrokerData {
    const bd: BrokerData = { cluster: entry.cluster, brokerName: entry.brokerName, brokerAddrs: addrsRecord(entry.addrs) };
    if (entry.zoneName !== undefined) bd.zoneName = entry.zoneName;
    if (this.options.enableActingMasterField === 'always' || entry.enableActingMaster) {
      bd.enableActingMaster = entry.enableActingMaster;
    }
    return bd;
  }

  /** ClusterInfo as an object; broker names and clusters sorted. */
  getClusterInfoData(): ClusterInfo {
    const brokerAddrTable: Record<string, BrokerData> = {};
    for (const name of [...this.brokers.keys()].sort(compareStrings)) putKey(brokerAddrTable, name, this.brokerData(this.brokers.get(name)!));
    const clusterAddrTable: Record<string, string[]> = {};
    for (const cluster of [...this.clusters.keys()].sort(compareStrings)) {
      putKey(clusterAddrTable, cluster, [...this.clusters.get(cluster)!].sort(compareStrings));
    }
    return { brokerAddrTable, clusterAddrTable };
  }

  /**
   * GET_BROKER_CLUSTER_INFO's body. Java writes it with ClusterInfo.encode()
   * for every client version (bare integer keys), so pass false to answer as
   * Java does; true gives the standard-JSON form. Cached until the next change.
   */
  getClusterInfo(standardJson = false): Buffer {
    const cached = standardJson ? this.clusterInfoStandard : this.clusterInfoFastjson;
    if (cached) return cached;
    const encoded = ownedUtf8(writeClusterInfo(this.getClusterInfoData(), standardJson));
    if (standardJson) this.clusterInfoStandard = encoded;
    else this.clusterInfoFastjson = encoded;
    return encoded;
  }

  getAllTopicList(): TopicList {
    return { topicList: [...this.topics.keys()] };
  }

  /**
   * Cluster names and broker names (brokers create topics named after both),
   * and, as Java does, the address of the first broker name that has one.
   */
  getSystemTopicList(): TopicList {
    const topics = new Set<string>();
    for (const [cluster, names] of this.clusters) {
      topics.add(cluster);
      for (const name of names) topics.add(name);
    }
    let brokerAddr: string | undefined;
    for (const entry of this.brokers.values()) {
      if (entry.addrs.size > 0) {
        brokerAddr = entry.addrs.get(minKey(entry.addrs));
        break;
      }
    }
    return brokerAddr === undefined ? { topicList: [...topics] } : { brokerAddr, topicList: [...topics] };
  }

  getTopicsByCluster(cluster: string): TopicList {
    const names = this.clusters.get(cluster);
    const topicList: string[] = [];
    if (names && names.size > 0) {
      for (const [topic, queues] of this.topics) {
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
  private topicsBySysFlag(test: (sysFlag: number) => boolean): TopicList {
    const topicList: string[] = [];
    for (const [topic, queues] of this.topics) {
      const first = queues.values().next();
      if (!first.done && test(this.codes.sysFlag(first.value))) topicList.push(topic);
    }
    return { topicList };
  }

  getUnitTopics(): TopicList {
    return this.topicsBySysFlag((f) => hasUnitFlag(f));
  }

  getHasUnitSubTopicList(): TopicList {
    return this.topicsBySysFlag((f) => hasUnitSubFlag(f));
  }

  getHasUnitSubUnUnitTopicList(): TopicList {
    return this.topicsBySysFlag((f) => !hasUnitFlag(f) && hasUnitSubFlag(f));
  }

  /**
   * QUERY_DATA_VERSION. Java also refreshes the broker's live timestamp here:
   * `known` tells the caller whether there is a registration to refresh.
   */
  queryDataVersion(query: { clusterName: string; brokerAddr: string; dataVersion: DataVersion | undefined }): {
    changed: boolean;
    current?: DataVersion;
    known: boolean;
    generation?: number;
  } {
    const live = this.liveOf(query.clusterName, query.brokerAddr);
    if (!live) return { changed: true, known: false };
    return {
      changed: !dataVersionEquals(live.dataVersion, query.dataVersion),
      current: cloneDataVersion(live.dataVersion),
      known: true,
      generation: live.generation,
    };
  }

  getBrokerMemberGroup(clusterName: string, brokerName: string): BrokerMemberGroup {
    const entry = this.brokers.get(brokerName);
    return { brokerAddrs: entry ? addrsRecord(entry.addrs) : {}, brokerName, cluster: clusterName };
  }

  /** The registration of one (cluster, address), if any. */
  lookupBroker(clusterName: string, brokerAddr: string): LiveBrokerView | undefined {
    const live = this.liveOf(clusterName, brokerAddr);
    return live ? this.view(live) : undefined;
  }

  liveBrokerView(): LiveBrokerView[] {
    const out: LiveBrokerView[] = [];
    for (const byAddr of this.live.values()) for (const live of byAddr.values()) out.push(this.view(live));
    return out;
  }

  stats(): { topics: number; brokerNames: number; clusters: number; liveBrokers: number; queueEntries: number; cachedRoutes: number; cachedRouteBytes: number } {
    let queueEntries = 0;
    for (const queues of this.topics.values()) queueEntries += queues.size;
    let liveBrokers = 0;
    for (const byAddr of this.live.values()) liveBrokers += byAddr.size;
    return {
      topics: this.topics.size,
      brokerNames: this.brokers.size,
      clusters: this.clusters.size,
      liveBrokers,
      queueEntries,
      cachedRoutes: this.fastjsonRoutes.size + this.standardRoutes.size,
      cachedRouteBytes: this.fastjsonRoutes.totalBytes + this.standardRoutes.totalBytes,
    };
  }

  /** The whole table as sorted plain data (caches left out). */
  dump(): Record<string, unknown> {
    const sortedKeys = <V>(m: Map<string, V>): string[] => [...m.keys()].sort(compareStrings);
    const topics: Record<string, unknown> = {};
    for (const topic of sortedKeys(this.topics)) {
      const queues = this.topics.get(topic)!;
      const out: Record<string, unknown> = {};
      for (const name of sortedKeys(queues)) {
        const q = this.queueData(name, queues.get(name)!);
        putKey(out, name, { readQueueNums: q.readQueueNums, writeQueueNums: q.writeQueueNums, perm: q.perm, topicSysFlag: q.topicSysFlag });
      }
      putKey(topics, topic, out);
    }
    const brokers: Record<string, unknown> = {};
    for (const name of sortedKeys(this.brokers)) {
      const e = this.brokers.get(name)!;
      putKey(brokers, name, {
        cluster: e.cluster,
        brokerAddrs: addrsRecord(e.addrs),
        zoneName: e.zoneName ?? null,
        enableActingMaster: e.enableActingMaster,
        topicSyncAddr: e.topicSyncAddr ?? null,
      });
    }
    const clusters: Record<string, string[]> = {};
    for (const cluster of sortedKeys(this.clusters)) putKey(clusters, cluster, [...this.clusters.get(cluster)!].sort(compareStrings));
    const live: Record<string, unknown> = {};
    for (const cluster of sortedKeys(this.live)) {
      const byAddr = this.live.get(cluster)!;
      for (const addr of sortedKeys(byAddr)) putKey(live, `${cluster}|${addr}`, this.view(byAddr.get(addr)!));
    }
    const filterServers: Record<string, string[]> = {};
    for (const cluster of sortedKeys(this.filterServers)) {
      const byAddr = this.filterServers.get(cluster)!;
      for (const addr of sortedKeys(byAddr)) putKey(filterServers, `${cluster}|${addr}`, [...byAddr.get(addr)!]);
    }
    const mappings: Record<string, unknown> = {};
    for (const topic of sortedKeys(this.mappings)) {
      const byBroker = this.mappings.get(topic)!;
      const out: Record<string, unknown> = {};
      for (const bname of sortedKeys(byBroker)) putKey(out, bname, cloneMapping(byBroker.get(bname)!));
      putKey(mappings, topic, out);
    }
    return { clusters, brokers, live, topics, filterServers, mappings, generationSeq: this.generationSeq };
  }

  // -------------------------------------------------------------------------

  private liveOf(clusterName: string, brokerAddr: string): LiveEntry | undefined {
    return this.live.get(clusterName)?.get(brokerAddr);
  }

  private view(live: LiveEntry): LiveBrokerView {
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

  /** Every topic served by a broker name: its route shows that name's addresses. */
  private collectTopicsOf(brokerName: string, changes: Changes): void {
    for (const [topic, queues] of this.topics) if (queues.has(brokerName)) changes.topics.add(topic);
  }

  /** Routes list filter servers by (broker name's cluster, address). */
  private collectTopicsOfAddr(clusterName: string, brokerAddr: string, changes: Changes): void {
    for (const entry of this.brokers.values()) {
      if (entry.cluster !== clusterName) continue;
      for (const addr of entry.addrs.values()) {
        if (addr === brokerAddr) {
          this.collectTopicsOf(entry.brokerName, changes);
          break;
        }
      }
    }
  }

  private commit(changes: Changes, cause: RouteChange['cause']): void {
    if (changes.topics.size === 0 && !changes.clusters && changes.minBrokerIdChanges.length === 0) return;
    for (const topic of changes.topics) {
      this.fastjsonRoutes.delete(topic);
      this.standardRoutes.delete(topic);
    }
    if (changes.clusters) {
      this.clusterInfoFastjson = undefined;
      this.clusterInfoStandard = undefined;
    }
    const change: RouteChange = { topics: [...changes.topics], clusters: changes.clusters, cause };
    if (changes.minBrokerIdChanges.length > 0) change.minBrokerIdChanges = changes.minBrokerIdChanges;
    this.emit(change);
  }

  private emit(change: RouteChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.options.onListenerError?.(error);
      }
    }
  }
}

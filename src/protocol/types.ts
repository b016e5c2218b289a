/**
 * Route data as RocketMQ's Java classes carry it (TopicConfig, DataVersion,
 * QueueData, BrokerData, TopicRouteData, ClusterInfo, TopicList, ...).
 *
 * Objects handed out by the route table are plain data: maps keyed by broker id
 * are records with decimal keys (`{"0": "127.0.0.1:10911"}`) so they survive
 * structured cloning and JSON.stringify; the encoders in fastjsonWriter.ts know which of
 * them Java keys by integer.
 */

/** PermName.java bits. */
export const PermName = {
  PERM_PRIORITY: 0x8,
  PERM_READ: 0x4,
  PERM_WRITE: 0x2,
  PERM_INHERIT: 0x1,
} as const;

export function isWriteable(perm: number): boolean {
  return (perm & PermName.PERM_WRITE) === PermName.PERM_WRITE;
}

/** TopicSysFlag.java bits. */
export const TopicSysFlag = {
  FLAG_UNIT: 0x1,
  FLAG_UNIT_SUB: 0x2,
} as const;

export function hasUnitFlag(sysFlag: number): boolean {
  return (sysFlag & TopicSysFlag.FLAG_UNIT) === TopicSysFlag.FLAG_UNIT;
}

export function hasUnitSubFlag(sysFlag: number): boolean {
  return (sysFlag & TopicSysFlag.FLAG_UNIT_SUB) === TopicSysFlag.FLAG_UNIT_SUB;
}

/** MixAll.MASTER_ID */
export const MASTER_ID = 0;

/**
 * Ordinals of MQVersion.Version that change how the name server reads or
 * writes a body. A request's `version` header is the sender's ordinal.
 */
export const MQVersionOrdinal = {
  /** Older senders put a bare TopicConfigSerializeWrapper in REGISTER_BROKER. */
  V3_0_11: 37,
  /** From here on clients parse standard JSON (quoted integer map keys). */
  V4_9_4: 401,
  V4_9_8: 409,
  /** Compressed register bodies carry static-topic mappings from here on. */
  V5_0_0: 413,
} as const;

/** TopicValidator.SYNC_BROKER_MEMBER_GROUP_PREFIX: such topics never get an acting master. */
export const SYNC_BROKER_MEMBER_GROUP_PREFIX = 'rmq_sys_SYNC_BROKER_MEMBER_';

/** MixAll.METADATA_SCOPE_GLOBAL, TopicQueueMappingInfo's default scope. */
export const METADATA_SCOPE_GLOBAL = '__global__';

export type TopicFilterType = 'SINGLE_TAG' | 'MULTI_TAG';

export interface TopicConfig {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicFilterType: TopicFilterType;
  topicSysFlag: number;
  order: boolean;
  /** 5.x only; 4.9.x brokers neither send nor expect it. */
  attributes?: Record<string, string>;
}

/**
 * A broker's topic-config version. `stateVersion` is 5.x only and counts as 0
 * when absent (DataVersion.equals compares all three).
 */
export interface DataVersion {
  counter: number;
  stateVersion?: number;
  timestamp: number;
}

export interface QueueData {
  brokerName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicSysFlag: number;
}

export interface BrokerData {
  cluster: string;
  brokerName: string;
  /** brokerId (decimal string) to address; Java's HashMap<Long, String>. */
  brokerAddrs: Record<string, string>;
  zoneName?: string;
  /** Written only when set; see RouteTableOptions.enableActingMasterField. */
  enableActingMaster?: boolean;
}

/** statictopic/TopicQueueMappingInfo.java */
export interface TopicQueueMappingInfo {
  topic?: string;
  scope?: string;
  totalQueues: number;
  bname?: string;
  epoch: number;
  dirty: boolean;
  /** logic queue id (decimal string) to physical queue id; Java's ConcurrentMap<Integer, Integer>. */
  currIdMap: Record<string, number>;
}

export interface TopicRouteData {
  orderTopicConf?: string;
  queueDatas: QueueData[];
  brokerDatas: BrokerData[];
  /** broker address to its filter servers */
  filterServerTable: Record<string, string[]>;
  /** brokerName to mapping; only for static topics */
  topicQueueMappingByBroker?: Record<string, TopicQueueMappingInfo>;
}

export interface ClusterInfo {
  brokerAddrTable: Record<string, BrokerData>;
  clusterAddrTable: Record<string, string[]>;
}

/** body/TopicList.java; keys in fastjson's order so JSON.stringify keeps it. */
export interface TopicList {
  brokerAddr?: string;
  topicList: string[];
}

/** body/BrokerMemberGroup.java; keys in fastjson's order. */
export interface BrokerMemberGroup {
  brokerAddrs: Record<string, string>;
  brokerName: string;
  cluster: string;
}

export interface TopicConfigSerializeWrapper {
  topicConfigTable: Map<string, TopicConfig>;
  dataVersion: DataVersion;
  /** topic to mapping; present (possibly empty) for 5.x bodies */
  topicQueueMappingInfoMap?: Map<string, TopicQueueMappingInfo>;
}

export interface RegisterBrokerBody {
  topicConfigSerializeWrapper: TopicConfigSerializeWrapper;
  /**
   * null when the body said `null` (Java then leaves the broker's filter
   * servers alone); an empty list clears them.
   */
  filterServerList: string[] | null;
}

export function dataVersionEquals(a: DataVersion | undefined, b: DataVersion | undefined): boolean {
  if (!a || !b) return false;
  return a.counter === b.counter && a.timestamp === b.timestamp && (a.stateVersion ?? 0) === (b.stateVersion ?? 0);
}

/** A copy in fastjson's field order, so JSON.stringify writes what Java writes. */
export function cloneDataVersion(v: DataVersion): DataVersion {
  return v.stateVersion === undefined
    ? { counter: v.counter, timestamp: v.timestamp }
    : { counter: v.counter, stateVersion: v.stateVersion, timestamp: v.timestamp };
}

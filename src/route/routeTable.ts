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
  type TopicList,
  type TopicQueueMappingInfo,
  type TopicRouteData,
} from '../protocol/types.js';
import {
  ownedUtf8,
  writeBrokerData,
  writeClusterInfo,
  writeQueueData,
  writeTopicRouteData,
} from '../protocol/fastjsonWriter.js';
import {
  checkBodyCrc32,
  decodeRegisterBrokerBody,
  emptyRegisterBrokerBody,
  registerBodyKey,
} from '../protocol/registerBody.js';
import { peekRegisterBody, type RegisterBodyPeek } from '../protocol/registerBodyPeek.js';
import { defaultRegisterBodyWorkers, RegisterBodyPool, registerBodyWorkersAvailable } from './registerBodyPool.js';
import { compactBody, type CompactBody, type RegisterJobResult } from './registerJob.js';

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
  /**
   * Worker threads for decoding large register bodies off the event loop
   * (submitRegistration). Default: cores - 1, at least 1, at most 4; 0 decodes
   * on the event loop. Unused when the worker script is missing (TypeScript sources).
   */
  registerBodyWorkers?: number;
  /** Bodies from this size on are decoded on a worker thread (compressed ones from 1/32 of it). Default 256 KiB. */
  asyncDecodeMinBytes?: number;
  /**
   * Largest share of the event loop's time that applying worker-decoded
   * registrations may take (0 < share <= 1): after a chunk of topics the next
   * waits long enough to leave the rest to reads. Default 0.25.
   */
  applyShare?: number;
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
  /**
   * Runs once the registration is applied and before onChange listeners hear
   * of it: what the registration makes the actors do (the broker's
   * `registered` transition) is then observed before the route change.
   */
  beforeAnnounce?: (result: RegisteredBroker) => void;
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

export type RegisteredBroker = Extract<RegisterBrokerResult, { ok: true }>;

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
  /** This broker name's parts of route JSON, made on first use; cleared when the entry changes. */
  fragments: BrokerFragments | undefined;
}

/** Index 0: fastjson style; 1: standard JSON. */
interface BrokerFragments {
  broker: [string | undefined, string | undefined];
  /** queue code -> QueueData JSON */
  queues: [Map<number, string> | undefined, Map<number, string> | undefined];
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
  /**
   * registerBodyKey of the last body decoded in full. The fast path (skip the
   * topics of an unchanged DataVersion) only takes byte-identical bodies, so a
   * body broken after its DataVersion is still decoded and refused.
   */
  fullBodyKey: number | undefined;
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
      read >= 0 &&
      read <= 4095 &&
      Number.isInteger(read) &&
      write >= 0 &&
      write <= 4095 &&
      Number.isInteger(write) &&
      perm >= 0 &&
      perm <= 15 &&
      Number.isInteger(perm) &&
      sysFlag >= 0 &&
      sysFlag <= 3 &&
      Number.isInteger(sysFlag)
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

/** Memory that holds cached encodings: a shared slab, or one route's own buffer. */
interface Slab {
  size: number;
  /** Bytes of it still holding cached entries. */
  live: number;
}

const SLAB_BYTES = 64 * 1024;

/**
 * Encoded bodies by topic, bounded in bytes; the oldest entry goes first.
 *
 * Encodings are carved out of 64 KiB slabs rather than given an ArrayBuffer
 * each: when a registration invalidates thousands of routes at once, reads
 * re-encode them, and allocating (and later sweeping) that many small
 * ArrayBuffers stalls the event loop for tens of milliseconds under load. A
 * slab is released when its last entry goes; the byte bound counts every slab
 * held whole, so it bounds memory, not just encoded bytes. Small budgets
 * (under 64 slabs) use an exact buffer per entry.
 */
class EncodedCache {
  private readonly entries = new Map<string, Buffer>();
  /** The memory behind each entry, by its ArrayBuffer (read only when an entry goes). */
  private readonly slabs = new Map<ArrayBufferLike, Slab>();
  /** Bytes held: every slab with a live entry, whole. */
  private bytes = 0;
  private slab: Slab | undefined;
  private slabBuffer: Buffer | undefined;
  private slabUsed = 0;

  constructor(private maxBytes: number) {}

  get(key: string): Buffer | undefined {
    return this.entries.get(key);
  }

  /** Caches `text` (ASCII when `ascii`, else written as UTF-8) and returns its bytes. */
  put(key: string, text: string, ascii: boolean): Buffer {
    this.delete(key);
    const length = ascii ? text.length : Buffer.byteLength(text, 'utf8');
    const useSlabs = this.maxBytes >= 64 * SLAB_BYTES && length <= SLAB_BYTES / 4;
    const cost = useSlabs ? (this.slab !== undefined && this.slabUsed + length <= SLAB_BYTES ? 0 : SLAB_BYTES) : length;
    if (cost > this.maxBytes) return encodeOwned(text, length, ascii);
    while (this.bytes + cost > this.maxBytes) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
    let buf: Buffer;
    let slab: Slab;
    if (useSlabs) {
      if (this.slab === undefined || this.slabUsed + length > SLAB_BYTES) {
        this.retireSlab();
        this.slab = { size: SLAB_BYTES, live: 0 };
        this.slabBuffer = Buffer.allocUnsafeSlow(SLAB_BYTES);
        this.slabs.set(this.slabBuffer.buffer, this.slab);
        this.slabUsed = 0;
        this.bytes += SLAB_BYTES;
      }
      slab = this.slab;
      buf = this.slabBuffer!.subarray(this.slabUsed, this.slabUsed + length);
      buf.write(text, 0, length, ascii ? 'latin1' : 'utf8');
      // Keep entries 8-byte aligned within the slab.
      this.slabUsed += (length + 7) & ~7;
    } else {
      buf = encodeOwned(text, length, ascii);
      slab = { size: length, live: 0 };
      this.slabs.set(buf.buffer, slab);
      this.bytes += length;
    }
    slab.live += length;
    this.entries.set(key, buf);
    return buf;
  }

  delete(key: string): void {
    const old = this.entries.get(key);
    if (old === undefined) return;
    this.entries.delete(key);
    const slab = this.slabs.get(old.buffer)!;
    slab.live -= old.length;
    if (slab.live === 0 && slab !== this.slab) this.release(old.buffer, slab);
  }

  private release(memory: ArrayBufferLike, slab: Slab): void {
    this.slabs.delete(memory);
    this.bytes -= slab.size;
  }

  clear(): void {
    this.entries.clear();
    this.slabs.clear();
    this.bytes = 0;
    this.slab = undefined;
    this.slabBuffer = undefined;
    this.slabUsed = 0;
  }

  /** The current slab takes no more entries; it is released with its last one. */
  private retireSlab(): void {
    const slab = this.slab;
    const memory = this.slabBuffer?.buffer;
    if (slab === undefined || memory === undefined) return;
    this.slab = undefined;
    this.slabBuffer = undefined;
    if (slab.live === 0) this.release(memory, slab);
  }

  get size(): number {
    return this.entries.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }
}

/** A buffer of exactly `text`'s bytes that shares memory with nothing else. */
function encodeOwned(text: string, length: number, ascii: boolean): Buffer {
  const buf = Buffer.allocUnsafeSlow(length);
  buf.write(text, 0, length, ascii ? 'latin1' : 'utf8');
  return buf;
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
class TopicQueues extends Map<string, number> {
  constructor(readonly topic: string) {
    super();
  }
}

/** A decoded body's topic table as the route table reads it. */
interface TopicRows {
  /** Entries in the table (keys). */
  readonly size: number;
  /** topicName of each entry */
  readonly names: readonly string[];
  /** readQueueNums, writeQueueNums, perm, topicSysFlag of each entry */
  readonly quads: Int32Array;
  /** The names share no storage with a larger string (a worker's structured clone made them). */
  readonly ownedStrings: boolean;
  /** The table's keys, for deleteTopicWithBrokerRegistration. */
  keySet(): ReadonlySet<string>;
}

interface BodyContent {
  dataVersion: DataVersion;
  filterServerList: string[] | null;
  topics: TopicRows;
  mappings: Map<string, TopicQueueMappingInfo> | undefined;
}

function rowsOf(compact: CompactBody['topics'], ownedStrings: boolean): TopicRows {
  let keys: Set<string> | undefined;
  return {
    size: compact.names.length,
    names: compact.names,
    quads: compact.quads,
    ownedStrings,
    keySet: () => (keys ??= new Set(compact.keys ?? compact.names)),
  };
}

function contentOf(body: RegisterBrokerBody): BodyContent {
  const compact = compactBody(body);
  return {
    dataVersion: compact.dataVersion,
    filterServerList: compact.filterServerList,
    topics: rowsOf(compact.topics, false),
    mappings: compact.mappings,
  };
}

/** What a worker made of a body. */
interface PreparedBody {
  crcOk: boolean;
  peek: RegisterBodyPeek | undefined;
  /** undefined: not decoded (its DataVersion looked unchanged) */
  decoded: { ok: true; value: BodyContent } | { ok: false; error: string } | undefined;
}

function preparedFromJob(result: RegisterJobResult): PreparedBody {
  const d = result.decoded;
  let decoded: PreparedBody['decoded'];
  if (d === undefined) decoded = undefined;
  else if (!d.ok) decoded = d;
  else
    decoded = {
      ok: true,
      value: {
        dataVersion: d.value.dataVersion,
        filterServerList: d.value.filterServerList,
        topics: rowsOf(d.value.topics, true),
        mappings: d.value.mappings,
      },
    };
  return { crcOk: result.crcOk, peek: result.peek, decoded };
}

/** Topics a queued registration applies per turn of the event loop (about half a millisecond). */
const APPLY_CHUNK_TOPICS = 1000;

function runToEnd<R>(steps: Generator<undefined, R, undefined>): R {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Passed for a queued large body whose worker result is missing: never decode on the event loop. */
const NOT_PREPARED: PreparedBody = Object.freeze({ crcOk: true, peek: undefined, decoded: undefined });
/** register()'s answer when it needs a decode it was told not to do itself. */
const NEEDS_DECODE = Symbol('needs decode');

/** Another write waiting behind queued registrations (afterQueuedRegistrations). */
interface QueuedOperation {
  operation: () => unknown;
  /** Scheduled to run; it leaves the queue when it has run. */
  running: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface QueuedRegistration {
  input: RegisterBrokerInput;
  /** decoded on a worker */
  large: boolean;
  prepared: PreparedBody | undefined;
  decoding: boolean;
  resolve: (result: RegisterBrokerResult) => void;
  reject: (error: unknown) => void;
}

class Changes {
  readonly topics = new Set<string>();
  clusters = false;
  readonly minBrokerIdChanges: MinBrokerIdChange[] = [];

  constructor(private readonly caches: readonly EncodedCache[]) {}

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
  private options: Required<
    Omit<
      RouteTableOptions,
      'onListenerError' | 'notifyMinBrokerIdChanged' | 'registerBodyWorkers' | 'asyncDecodeMinBytes' | 'applyShare'
    >
  > & {
    notifyMinBrokerIdChanged: boolean;
    onListenerError?: (error: unknown) => void;
  };

  /** topic -> brokerName -> queue code */
  private readonly topics = new Map<string, TopicQueues>();
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
  /** brokerName -> its topics: the inverse of `topics`, so a broker's changes cost its own topics, not all. */
  private readonly topicsByBroker = new Map<string, BrokerTopics>();

  /** Registrations (and writes queued behind them) waiting their turn: applied strictly in arrival order. */
  private readonly registrationQueue: Array<QueuedRegistration | QueuedOperation> = [];
  private readonly registerBodyWorkers: number;
  private readonly asyncDecodeMinBytes: number;
  private readonly applyShare: number;
  /** When the last applied chunk ended, and the pause owed after it (applyShare). */
  private chunkPauseUntil = 0;
  private pumpScheduled = false;
  private pool: RegisterBodyPool | undefined;
  private poolUnavailable = false;
  /** The registration being applied in chunks, if any; always the queue's head. */
  private applying:
    | {
        job: QueuedRegistration;
        steps: Generator<undefined, RegisterBrokerResult | typeof NEEDS_DECODE, undefined>;
        cancel: () => void;
      }
    | undefined;

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
    this.registerBodyWorkers = options.registerBodyWorkers ?? defaultRegisterBodyWorkers();
    this.asyncDecodeMinBytes = options.asyncDecodeMinBytes ?? 256 * 1024;
    const share = options.applyShare ?? 0.25;
    this.applyShare = share > 0 && share <= 1 ? share : 0.25;
    this.fastjsonRoutes = new EncodedCache(this.options.routeCacheMaxBytes);
    this.standardRoutes = new EncodedCache(this.options.routeCacheMaxBytes);
  }

  /** Runtime config changes (UPDATE_NAMESRV_CONFIG). */
  updateOptions(next: Partial<Omit<RouteTableOptions, 'routeCacheMaxBytes'>>): void {
    this.finishApplying();
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
      for (const entry of this.brokers.values()) entry.fragments = undefined;
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

  /** Applies a registration now, decoding its body on this thread. */
  registerBroker(input: RegisterBrokerInput): RegisterBrokerResult {
    this.finishApplying();
    return runToEnd(this.register(input, undefined, Infinity)) as RegisterBrokerResult;
  }

  /**
   * Applies a registration after every registration submitted before it. A
   * large body is checked and decoded on a worker thread first, so the event
   * loop only pays for applying it, which happens in one synchronous step: a
   * reader sees the registration entirely or not at all, as with Java's write
   * lock. Returns synchronously when nothing is queued and the body is small.
   */
  submitRegistration(input: RegisterBrokerInput): RegisterBrokerResult | Promise<RegisterBrokerResult> {
    const fastPathVersion = this.fastPathVersion(input);
    const large = this.decodesOffThread(input, fastPathVersion);
    if (!large && this.registrationQueue.length === 0) return this.registerBroker(input);
    let resolve!: (result: RegisterBrokerResult) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<RegisterBrokerResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const job: QueuedRegistration = { input, large, prepared: undefined, decoding: false, resolve, reject };
    this.registrationQueue.push(job);
    if (large) this.decodeOffThread(job, fastPathVersion);
    this.pumpRegistrations();
    return promise;
  }

  /**
   * Whether a body is worth a worker: large (a compressed one inflates some
   * 50 times), and not a JSON body whose first bytes already show the
   * broker's current DataVersion (an unchanged re-registration costs a
   * checksum and that peek, cheaper here than a trip to a worker).
   */
  private decodesOffThread(input: RegisterBrokerInput, fastPathVersion: DataVersion | undefined): boolean {
    const body = input.body;
    if (body === undefined) return false;
    const threshold = input.compressed ? this.asyncDecodeMinBytes / 32 : this.asyncDecodeMinBytes;
    if (body.length < threshold || this.workerPool() === undefined) return false;
    if (!input.compressed && fastPathVersion !== undefined) {
      const peek = peekRegisterBody(body, { compressed: false });
      if (peek && dataVersionEquals(peek.dataVersion, fastPathVersion)) return false;
    }
    return true;
  }

  /**
   * Runs `operation` once every registration submitted before it has been
   * applied and answered, so a broker's UNREGISTER_BROKER cannot overtake its
   * own REGISTER_BROKER still decoding on a worker (Java's write lock gives
   * the same order). Runs it now when nothing is queued. It runs in a
   * microtask after the last of those registrations resolved, so whatever
   * their callers do on resolution happens first.
   */
  afterQueuedRegistrations<T>(operation: () => T): T | Promise<T> {
    if (this.registrationQueue.length === 0) return operation();
    return new Promise<T>((resolve, reject) => {
      this.registrationQueue.push({ operation, running: false, resolve: resolve as (value: unknown) => void, reject });
      this.pumpRegistrations();
    });
  }

  /** Registrations (and writes behind them) submitted and not yet applied. */
  get pendingRegistrations(): number {
    return this.registrationQueue.length;
  }

  private workerPool(): RegisterBodyPool | undefined {
    if (this.pool) return this.pool;
    if (this.poolUnavailable || this.registerBodyWorkers <= 0) return undefined;
    if (!registerBodyWorkersAvailable()) {
      this.poolUnavailable = true;
      return undefined;
    }
    this.pool = new RegisterBodyPool(this.registerBodyWorkers);
    return this.pool;
  }

  /** Ends the decoding threads (they also end by themselves when idle). */
  close(): void {
    this.finishApplying();
    this.pool?.close();
    this.pool = undefined;
  }

  private decodeOffThread(job: QueuedRegistration, skipDecodeIfVersion: DataVersion | undefined): void {
    const pool = this.workerPool();
    const body = job.input.body!;
    if (!pool) {
      job.large = false;
      return;
    }
    job.decoding = true;
    // The worker gets its own copy (transferred, not cloned): the received
    // chunk may hold other frames. allocUnsafeSlow: unpooled, not zero-filled.
    const copy = Buffer.allocUnsafeSlow(body.length);
    copy.set(body);
    pool
      .run({
        body: copy,
        compressed: job.input.compressed,
        bodyCrc32: job.input.bodyCrc32,
        clientVersion: job.input.clientVersion,
        now: job.input.now,
        maxInflatedBytes: this.options.maxInflatedBytes,
        skipDecodeIfVersion,
      })
      .then(
        (result) => {
          job.prepared = preparedFromJob(result);
        },
        () => {
          // A lost worker: this registration decodes on the event loop instead.
          job.large = false;
          job.prepared = undefined;
        },
      )
      .finally(() => {
        job.decoding = false;
        this.pumpRegistrations();
      });
  }

  /**
   * Applies queued registrations from the head while their bodies are ready.
   * A worker-decoded (large) one is applied in chunks of topics with the
   * event loop free in between, and the next one starts in a later turn.
   */
  private pumpRegistrations(): void {
    if (this.applying !== undefined) return;
    const queue = this.registrationQueue;
    while (queue.length > 0) {
      const head = queue[0]!;
      if ('operation' in head) {
        if (!head.running) this.runQueuedOperation(head);
        return;
      }
      const job = head;
      if (job.decoding) return;
      if (job.large && performance.now() < this.chunkPauseUntil) {
        this.pumpLater();
        return;
      }
      const steps = this.register(
        job.input,
        job.large ? (job.prepared ?? NOT_PREPARED) : undefined,
        job.large ? APPLY_CHUNK_TOPICS : Infinity,
      );
      let step: IteratorResult<undefined, RegisterBrokerResult | typeof NEEDS_DECODE>;
      const started = performance.now();
      try {
        step = steps.next();
      } catch (err) {
        queue.shift();
        job.reject(err);
        continue;
      }
      if (job.large) this.chunkDone(started);
      if (!step.done) {
        this.applying = { job, steps, cancel: this.afterPause(() => this.applyNextChunk()) };
        return;
      }
      if (step.value === NEEDS_DECODE) {
        // The table changed since it was submitted (or the peek said unchanged):
        // it needs its full decode after all.
        this.decodeOffThread(job, undefined);
        if (job.decoding) return;
        continue;
      }
      queue.shift();
      job.resolve(step.value);
      if (job.large && queue.length > 0) {
        this.pumpLater();
        return;
      }
    }
  }

  private runQueuedOperation(queued: QueuedOperation): void {
    queued.running = true;
    // A microtask queued now runs after the reactions to the registrations
    // resolved before it (their answers and actor events).
    queueMicrotask(() => {
      this.registrationQueue.shift();
      try {
        queued.resolve(queued.operation());
      } catch (err) {
        queued.reject(err);
      }
      this.pumpRegistrations();
    });
  }

  private pumpLater(): void {
    if (this.registrationQueue.length === 0 || this.pumpScheduled) return;
    this.pumpScheduled = true;
    this.afterPause(() => {
      this.pumpScheduled = false;
      this.pumpRegistrations();
    });
  }

  /** A chunk that started at `started` has ended: the pause it owes the rest of the event loop. */
  private chunkDone(started: number): void {
    const now = performance.now();
    this.chunkPauseUntil = now + (now - started) * (1 / this.applyShare - 1);
  }

  /** Runs `fn` once the owed pause is over (next turn of the event loop at the earliest); returns a canceller. */
  private afterPause(fn: () => void): () => void {
    const wait = this.chunkPauseUntil - performance.now();
    if (wait >= 1) {
      const timer = setTimeout(fn, wait);
      return () => clearTimeout(timer);
    }
    const immediate = setImmediate(fn);
    return () => clearImmediate(immediate);
  }

  private applyNextChunk(): void {
    const applying = this.applying;
    if (applying === undefined) return;
    let step: IteratorResult<undefined, RegisterBrokerResult | typeof NEEDS_DECODE>;
    const started = performance.now();
    try {
      step = applying.steps.next();
      this.chunkDone(started);
    } catch (err) {
      this.applying = undefined;
      this.registrationQueue.shift();
      applying.job.reject(err);
      this.pumpLater();
      return;
    }
    if (!step.done) {
      applying.cancel = this.afterPause(() => this.applyNextChunk());
      return;
    }
    this.applying = undefined;
    this.registrationQueue.shift();
    applying.job.resolve(step.value as RegisterBrokerResult);
    this.pumpLater();
  }

  /**
   * Completes a registration being applied in chunks, now. Every other
   * writer calls this first, so writes never interleave with one: the table
   * always goes through whole mutations, one after another.
   */
  private finishApplying(): void {
    const applying = this.applying;
    if (applying === undefined) return;
    this.applying = undefined;
    applying.cancel();
    let result: RegisterBrokerResult;
    try {
      result = runToEnd(applying.steps) as RegisterBrokerResult;
    } catch (err) {
      this.registrationQueue.shift();
      applying.job.reject(err);
      this.pumpLater();
      return;
    }
    this.registrationQueue.shift();
    applying.job.resolve(result);
    this.pumpLater();
  }

  /** The broker's DataVersion if an unchanged body could skip its decode now. */
  private fastPathVersion(input: RegisterBrokerInput): DataVersion | undefined {
    if (input.clientVersion < MQVersionOrdinal.V3_0_11) return undefined;
    const existing = this.brokers.get(input.brokerName);
    const live = this.liveOf(input.clusterName, input.brokerAddr);
    if (!existing || !live || existing.addrs.get(input.brokerId) !== input.brokerAddr) return undefined;
    return live.dataVersion;
  }

  /**
   * One registration. `prepared` is what a worker made of the body (checksum,
   * peek, decode); NOT_PREPARED asks for NEEDS_DECODE instead of decoding here.
   */
  private *register(
    input: RegisterBrokerInput,
    prepared: PreparedBody | undefined,
    chunkTopics: number,
  ): Generator<undefined, RegisterBrokerResult | typeof NEEDS_DECODE, undefined> {
    const body = input.body && input.body.length > 0 ? input.body : undefined;
    const crcOk = prepared && prepared !== NOT_PREPARED ? prepared.crcOk : checkBodyCrc32(body, input.bodyCrc32);
    if (!crcOk) {
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
    let content: BodyContent | undefined;
    let fastPath = false;

    if (
      body !== undefined &&
      input.clientVersion >= MQVersionOrdinal.V3_0_11 &&
      !registerFirst &&
      live !== undefined &&
      oldAddrAtId === brokerAddr &&
      (!appliesTopics || existing.topicSyncAddr === brokerAddr)
    ) {
      const peek =
        prepared && prepared !== NOT_PREPARED
          ? prepared.peek
          : peekRegisterBody(body, { compressed: input.compressed, maxInflatedBytes: this.options.maxInflatedBytes });
      if (
        peek &&
        dataVersionEquals(peek.dataVersion, live.dataVersion) &&
        live.fullBodyKey === registerBodyKey(body, input.bodyCrc32)
      ) {
        fastPath = true;
        dataVersion = peek.dataVersion;
        filterServerList = peek.filterServerList;
      }
    }
    if (!fastPath) {
      if (body === undefined) {
        content = contentOf(emptyRegisterBrokerBody());
      } else if (prepared === NOT_PREPARED || (prepared !== undefined && prepared.decoded === undefined)) {
        return NEEDS_DECODE;
      } else {
        let decoded: { ok: true; value: BodyContent } | { ok: false; error: string };
        if (prepared !== undefined) {
          decoded = prepared.decoded!;
        } else {
          const result = decodeRegisterBrokerBody(body, input.compressed, {
            clientVersion: input.clientVersion,
            now: input.now,
            maxInflatedBytes: this.options.maxInflatedBytes,
          });
          decoded = result.ok ? { ok: true, value: contentOf(result.value) } : result;
        }
        if (!decoded.ok) {
          return {
            ok: false,
            code: SYSTEM_ERROR,
            remark: `Failed to decode RegisterBrokerBody: ${decoded.error}`,
            reason: 'badBody',
          };
        }
        content = decoded.value;
      }
      dataVersion = content.dataVersion;
      filterServerList = content.filterServerList;
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
    if (oldAddrAtId === undefined && content && content.topics.size === 1) {
      // A broker's single-topic registration must follow its first full one (5.x).
      return {
        ok: false,
        code: SYSTEM_ERROR,
        remark: 'register broker failed',
        reason: 'singleTopicBeforeFirstRegistration',
      };
    }

    // ---- apply
    const changes = this.newChanges();
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
        fragments: undefined,
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
      entry.fragments = undefined;
      changes.clusters = true;
      this.collectTopicsOf(name, changes);
    }

    if (appliesTopics && content) {
      yield* this.applyTopics(
        entry,
        brokerAddr,
        content,
        registerFirst || !live || !dataVersionEquals(live.dataVersion, newVersion),
        registerFirst,
        isPrimeSlave,
        changes,
        chunkTopics,
      );
    }

    const liveEntry = this.putLive(input, name, newVersion, content, live);

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
    if (minIdChanged && this.options.notifyMinBrokerIdChanged) {
      minBrokerIdChange = this.minBrokerIdChange(entry, undefined, liveEntry.haServerAddr);
      changes.minBrokerIdChanges.push(minBrokerIdChange);
    }

    const result: RegisteredBroker = {
      ok: true,
      haServerAddr,
      masterAddr,
      generation: liveEntry.generation,
      firstRegistration: registerFirst,
      topicsChanged: changes.topics.size > 0,
      fastPath,
    };
    if (minBrokerIdChange) result.minBrokerIdChange = minBrokerIdChange;
    this.commit(changes, 'register', input.beforeAnnounce && (() => input.beforeAnnounce!(result)));
    return result;
  }

  /** Yields after every `chunkTopics` topics. */
  private *applyTopics(
    entry: BrokerEntry,
    brokerAddr: string,
    content: BodyContent,
    versionChanged: boolean,
    registerFirst: boolean,
    isPrimeSlave: boolean,
    changes: Changes,
    chunkTopics: number,
  ): Generator<undefined, void, undefined> {
    const name = entry.brokerName;
    const rows = content.topics;
    const mappings = content.mappings;
    // Static topics are not deleted this way (as in Java).
    if (this.options.deleteTopicWithBrokerRegistration && (!mappings || mappings.size === 0)) {
      const keys = rows.keySet();
      for (const queues of this.topicsOf(name)) {
        if (keys.has(queues.topic)) continue;
        this.dropQueue(queues.topic, queues, name);
        changes.touch(queues.topic);
      }
    }
    // A prime slave stands in for an absent master read-only.
    const wipeWrite = isPrimeSlave && entry.enableActingMaster;
    const topicNames = rows.names;
    const quads = rows.quads;
    const owned = rows.ownedStrings;
    let chunkEnd = chunkTopics;
    for (let i = 0; i < topicNames.length; i++) {
      if (i === chunkEnd) {
        yield;
        chunkEnd += chunkTopics;
      }
      const topic = topicNames[i]!;
      const queues = this.topics.get(topic);
      if (!versionChanged && queues !== undefined && queues.has(name)) continue;
      const perm = wipeWrite ? quads[i * 4 + 2]! & ~PermName.PERM_WRITE : quads[i * 4 + 2]!;
      const code = this.codes.encode(quads[i * 4]!, quads[i * 4 + 1]!, perm, quads[i * 4 + 3]!);
      // The table keeps its own copy of a name; the body's copies are let go.
      if (queues === undefined) {
        const key = owned ? topic : detached(topic);
        this.addTopic(key, name, code);
        changes.touch(key);
      } else if (queues.get(name) !== code) {
        if (!queues.has(name)) this.indexAdd(name, queues);
        queues.set(name, code);
        changes.touch(queues.topic);
      }
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
        changes.touch(topic);
      }
    }
    entry.topicSyncAddr = brokerAddr;
  }

  private putQueue(topic: string, brokerName: string, code: number, changes: Changes): void {
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
  private addTopic(topic: string, brokerName: string, code: number): void {
    const queues = new TopicQueues(topic);
    queues.set(brokerName, code);
    this.topics.set(topic, queues);
    this.indexAdd(brokerName, queues);
  }

  /** Removes one broker name's queues from a topic, and the topic once it has none. */
  private dropQueue(topic: string, queues: Map<string, number>, brokerName: string): void {
    if (!queues.delete(brokerName)) return;
    this.indexRemove(brokerName);
    if (queues.size === 0) this.topics.delete(topic);
  }

  /** A topic gained `brokerName`'s queues (it did not have them). */
  private indexAdd(brokerName: string, queues: TopicQueues): void {
    const entry = this.topicsByBroker.get(brokerName);
    if (entry) entry.list.push(queues);
    else this.topicsByBroker.set(brokerName, { list: [queues], removed: 0 });
  }

  /** Some topic lost `brokerName`'s queues: its list is left as it is until read. */
  private indexRemove(brokerName: string): void {
    const entry = this.topicsByBroker.get(brokerName);
    if (entry) entry.removed++;
  }

  /**
   * The topics with `brokerName`'s queues, each once. Callers may change
   * queues while iterating, but must not add topics to this broker name.
   */
  private topicsOf(brokerName: string): readonly TopicQueues[] {
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

  private putLive(
    input: RegisterBrokerInput,
    brokerName: string,
    dataVersion: DataVersion,
    content: BodyContent | undefined,
    previous: LiveEntry | undefined,
  ): LiveEntry {
    const generation =
      previous === undefined || previous.connectionId !== input.connectionId
        ? ++this.generationSeq
        : previous.generation;
    const topicCount = content ? content.topics.size : (previous?.topicCount ?? 0);
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
      if (content) previous.fullBodyKey = registerBodyKey(input.body, input.bodyCrc32);
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
      fullBodyKey: content ? registerBodyKey(input.body, input.bodyCrc32) : undefined,
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

  private minBrokerIdChange(
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

  // -------------------------------------------------------------------------
  // Removal

  /**
   * Removes one registration, as Java's onChannelDestroy/scanNotActiveBroker
   * do. With a generation, only that generation is removed: an expiry or a
   * connection close that raced with a re-registration is a no-op.
   */
  removeBroker(
    target: { clusterName: string; brokerAddr: string; generation?: number },
    reason: RemovalReason,
  ): boolean {
    this.finishApplying();
    const { clusterName, brokerAddr } = target;
    const live = this.liveOf(clusterName, brokerAddr);
    if (target.generation !== undefined && (live === undefined || live.generation !== target.generation)) return false;

    // Java looks the address up among the cluster's broker names.
    const holders: Array<{ brokerName: string; brokerId: number }> = [];
    for (const entry of this.brokersOfCluster(clusterName)) {
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

    const changes = this.newChanges();
    for (const holder of holders)
      this.unregisterOne(clusterName, brokerAddr, holder.brokerName, holder.brokerId, changes);
    this.commit(changes, reason);
    return true;
  }

  /**
   * UNREGISTER_BROKER: by the header's identity, whatever the generation.
   * `beforeAnnounce` runs once the broker is out and before onChange
   * listeners hear of it (the broker actor's `unregistered` transition).
   */
  unregisterBroker(
    request: { clusterName: string; brokerAddr: string; brokerName: string; brokerId: number },
    beforeAnnounce?: () => void,
  ): boolean {
    this.finishApplying();
    const changes = this.newChanges();
    const touched = this.unregisterOne(
      request.clusterName,
      request.brokerAddr,
      request.brokerName,
      request.brokerId,
      changes,
    );
    this.commit(changes, 'unregister', beforeAnnounce);
    return touched;
  }

  /** RouteInfoManager.unRegisterBroker for one request, then its topic cleanup. */
  private unregisterOne(
    clusterName: string,
    brokerAddr: string,
    brokerName: string,
    brokerId: number,
    changes: Changes,
  ): boolean {
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
        entry.fragments = undefined;
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
      const topics = this.topicsOf(brokerName);
      this.topicsByBroker.delete(brokerName);
      for (const queues of topics) {
        queues.delete(brokerName);
        changes.touch(queues.topic);
        if (queues.size === 0) this.topics.delete(queues.topic);
      }
    } else {
      const remaining = this.brokers.get(brokerName);
      if (remaining && remaining.enableActingMaster && this.noMasterExists(remaining)) {
        // The master is gone: its queues become read-only until it returns.
        for (const queues of this.topicsOf(brokerName)) {
          const code = queues.get(brokerName);
          if (code === undefined) continue;
          const perm = this.codes.perm(code);
          const wiped = perm & ~PermName.PERM_WRITE;
          if (wiped !== perm) {
            queues.set(brokerName, this.codes.withPerm(code, wiped));
            changes.touch(queues.topic);
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
    this.finishApplying();
    const changes = this.newChanges();
    let count = 0;
    for (const queues of this.topicsOf(brokerName)) {
      const code = queues.get(brokerName);
      if (code === undefined) continue;
      count++;
      const perm = this.codes.perm(code);
      const updated = next(perm);
      if (updated !== perm) {
        queues.set(brokerName, this.codes.withPerm(code, updated));
        changes.touch(queues.topic);
      }
    }
    this.commit(changes, cause);
    return count;
  }

  /** DELETE_TOPIC_IN_NAMESRV: everywhere, or only from one cluster's broker names. */
  deleteTopic(topic: string, clusterName?: string): boolean {
    this.finishApplying();
    const queues = this.topics.get(topic);
    if (!queues) return false;
    const changes = this.newChanges();
    if (clusterName === undefined) {
      for (const name of queues.keys()) {
        this.invalidateTopicSync(name);
        this.indexRemove(name);
      }
      this.topics.delete(topic);
      changes.touch(topic);
    } else {
      const names = this.clusters.get(clusterName);
      if (!names || names.size === 0) return false;
      for (const name of names) {
        if (queues.has(name)) {
          this.dropQueue(topic, queues, name);
          this.invalidateTopicSync(name);
          changes.touch(topic);
        }
      }
    }
    this.commit(changes, 'deleteTopic');
    return changes.topics.size > 0;
  }

  /**
   * REGISTER_TOPIC_IN_NAMESRV: every queue's broker name must be registered,
   * or nothing is applied (Java stops at the first unknown one).
   */
  registerTopic(topic: string, queueDatas: readonly QueueData[]): boolean {
    this.finishApplying();
    if (queueDatas.length === 0) return false;
    for (const q of queueDatas) if (!this.brokers.has(q.brokerName)) return false;
    const changes = this.newChanges();
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
    let text = this.encodeFromFragments(topic, standardJson);
    if (text === null) return undefined;
    if (text === undefined) {
      const data = this.pickupTopicRouteData(topic);
      if (!data) return undefined;
      text = writeTopicRouteData(data, standardJson);
    }
    // Standard JSON escapes everything past ASCII: one byte per character.
    return cache.put(topic, text, standardJson);
  }

  /**
   * A route's text as writeTopicRouteData(pickupTopicRouteData()) writes it, put
   * together from its broker names' cached JSON parts: after a registration
   * invalidated thousands of routes, reads rebuild them cheaply. null: the
   * topic has no route; undefined: a case left to the general encoder
   * (filter servers, static-topic mappings, an acting master to show).
   */
  private encodeFromFragments(topic: string, standard: boolean): string | null | undefined {
    const queues = this.topics.get(topic);
    if (!queues) return null;
    if (this.filterServerEntries > 0 || this.mappings.has(topic)) return undefined;
    const acting = this.options.supportActingMaster && !topic.startsWith(SYNC_BROKER_MEMBER_GROUP_PREFIX);
    const style = standard ? 1 : 0;
    let brokerText = '';
    let queueText = '';
    for (const [name, code] of queues) {
      const entry = this.brokers.get(name);
      if (queueText.length > 0) queueText += ',';
      if (entry === undefined) {
        queueText += writeQueueData(this.queueData(name, code), standard);
        continue;
      }
      // applyActingMaster would rewrite this broker's addresses.
      if (acting && entry.addrs.size > 0 && !entry.addrs.has(MASTER_ID)) return undefined;
      const fragments = (entry.fragments ??= { broker: [undefined, undefined], queues: [undefined, undefined] });
      const byCode = (fragments.queues[style] ??= new Map<number, string>());
      let queue = byCode.get(code);
      if (queue === undefined) {
        queue = writeQueueData(this.queueData(name, code), standard);
        byCode.set(code, queue);
      }
      queueText += queue;
      if (brokerText.length > 0) brokerText += ',';
      brokerText += fragments.broker[style] ??= writeBrokerData(this.brokerData(entry), standard);
    }
    if (brokerText.length === 0) return null;
    return '{"brokerDatas":[' + brokerText + '],"filterServerTable":{},"queueDatas":[' + queueText + ']}';
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
    if (this.options.supportActingMaster && !topic.startsWith(SYNC_BROKER_MEMBER_GROUP_PREFIX))
      this.applyActingMaster(data);
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
      if (ids.length === 0 || master in bd.brokerAddrs || !this.brokers.get(bd.brokerName)?.enableActingMaster)
        continue;
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
    const bd: BrokerData = {
      cluster: entry.cluster,
      brokerName: entry.brokerName,
      brokerAddrs: addrsRecord(entry.addrs),
    };
    if (entry.zoneName !== undefined) bd.zoneName = entry.zoneName;
    if (this.options.enableActingMasterField === 'always' || entry.enableActingMaster) {
      bd.enableActingMaster = entry.enableActingMaster;
    }
    return bd;
  }

  /** ClusterInfo as an object; broker names and clusters sorted. */
  getClusterInfoData(): ClusterInfo {
    const brokerAddrTable: Record<string, BrokerData> = {};
    for (const name of [...this.brokers.keys()].sort(compareStrings))
      putKey(brokerAddrTable, name, this.brokerData(this.brokers.get(name)!));
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

  stats(): {
    topics: number;
    brokerNames: number;
    clusters: number;
    liveBrokers: number;
    queueEntries: number;
    cachedRoutes: number;
    cachedRouteBytes: number;
  } {
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
        putKey(out, name, {
          readQueueNums: q.readQueueNums,
          writeQueueNums: q.writeQueueNums,
          perm: q.perm,
          topicSysFlag: q.topicSysFlag,
        });
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
    for (const cluster of sortedKeys(this.clusters))
      putKey(clusters, cluster, [...this.clusters.get(cluster)!].sort(compareStrings));
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
    for (const queues of this.topicsOf(brokerName)) changes.touch(queues.topic);
  }

  /** Broker names first registered under `clusterName` (Java's brokerAddrTable entries of that cluster). */
  private *brokersOfCluster(clusterName: string): Generator<BrokerEntry> {
    const names = this.clusters.get(clusterName);
    if (!names) return;
    for (const name of names) {
      const entry = this.brokers.get(name);
      if (entry && entry.cluster === clusterName) yield entry;
    }
  }

  /** Routes list filter servers by (broker name's cluster, address). */
  private collectTopicsOfAddr(clusterName: string, brokerAddr: string, changes: Changes): void {
    for (const entry of this.brokersOfCluster(clusterName)) {
      for (const addr of entry.addrs.values()) {
        if (addr === brokerAddr) {
          this.collectTopicsOf(entry.brokerName, changes);
          break;
        }
      }
    }
  }

  private newChanges(): Changes {
    return new Changes([this.fastjsonRoutes, this.standardRoutes]);
  }

  /**
   * Drops the cluster caches and announces a change to the onChange
   * listeners. `beforeAnnounce` runs in between (even when nothing changed),
   * and the listeners are told even if it throws.
   */
  private commit(changes: Changes, cause: RouteChange['cause'], beforeAnnounce?: () => void): void {
    // Topic caches went as each topic was touched (Changes.touch).
    if (changes.clusters) {
      this.clusterInfoFastjson = undefined;
      this.clusterInfoStandard = undefined;
    }
    try {
      beforeAnnounce?.();
    } finally {
      if (changes.topics.size > 0 || changes.clusters || changes.minBrokerIdChanges.length > 0) {
        const change: RouteChange = { topics: [...changes.topics], clusters: changes.clusters, cause };
        if (changes.minBrokerIdChanges.length > 0) change.minBrokerIdChanges = changes.minBrokerIdChanges;
        this.emit(change);
      }
    }
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

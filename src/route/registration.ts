/**
 * Applying one REGISTER_BROKER to the route data, as RouteInfoManager.registerBroker
 * does, in steps:
 *
 *   1. check the body's checksum;
 *   2. work out the broker's role: new or known, master, prime slave;
 *   3. read the body: only its DataVersion when it is unchanged (the fast
 *      path), else decode it in full (or take what a worker decoded);
 *   4. refuse what Java refuses, before anything is written;
 *   5. apply: the broker name and its address, its topics (in chunks), the
 *      live registration, the filter servers;
 *   6. answer: the live master's addresses for a slave, a smaller broker id.
 *
 * Every check comes before the first write, so a refused registration leaves
 * the table exactly as it was. The steps are a generator so that the
 * registration queue (registrationQueue.ts) can apply a large body's topics a
 * chunk at a time; applied in one go (runToEnd) it is a plain function.
 */
import {
  cloneDataVersion,
  dataVersionEquals,
  MASTER_ID,
  MQVersionOrdinal,
  PermName,
  type DataVersion,
} from '../protocol/types.js';
import {
  checkBodyCrc32,
  decodeRegisterBrokerBody,
  emptyRegisterBrokerBody,
  registerBodyKey,
} from '../protocol/registerBody.js';
import { peekRegisterBody, type RegisterBodyPeek } from '../protocol/registerBodyPeek.js';
import { contentOf, NOT_PREPARED, type BodyContent, type Decoded, type PreparedBody } from './registerJob.js';
import { minBrokerIdChange, type Changes, type MinBrokerIdChange } from './routeChanges.js';
import {
  cloneMapping,
  detached,
  minKey,
  type BrokerEntry,
  type LiveEntry,
  type RouteData,
  type RouteSettings,
} from './routeData.js';

const SUCCESS = 0;
const SYSTEM_ERROR = 1;

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

export type RegisterRefusal = 'crc' | 'badBody' | 'singleTopicBeforeFirstRegistration' | 'stateVersionConflict';

export type RegisteredBroker = Extract<RegisterBrokerResult, { ok: true }>;
type Refused = Extract<RegisterBrokerResult, { ok: false }>;

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

/** applyRegistration's answer when it needs a decode it was told not to do itself. */
export const NEEDS_DECODE = Symbol('needs decode');

export type RegistrationSteps = Generator<undefined, RegisterBrokerResult | typeof NEEDS_DECODE, undefined>;

/** Runs steps that yield between chunks to their end, in one go. */
export function runToEnd<R>(steps: Generator<undefined, R, undefined>): R {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** The broker's DataVersion if an unchanged body could skip its decode now. */
export function fastPathVersion(data: RouteData, input: RegisterBrokerInput): DataVersion | undefined {
  if (input.clientVersion < MQVersionOrdinal.V3_0_11) return undefined;
  const existing = data.brokers.get(input.brokerName);
  const live = data.liveOf(input.clusterName, input.brokerAddr);
  if (!existing || !live || existing.addrs.get(input.brokerId) !== input.brokerAddr) return undefined;
  return live.dataVersion;
}

/**
 * One registration. `prepared` is what a worker made of the body (checksum,
 * peek, decode); NOT_PREPARED asks for NEEDS_DECODE instead of decoding here.
 * Yields after every `chunkTopics` topics. What it changed is in `changes`,
 * for the caller to announce once it returned a registration.
 */
export function* applyRegistration(
  data: RouteData,
  settings: RouteSettings,
  changes: Changes,
  input: RegisterBrokerInput,
  prepared: PreparedBody | undefined,
  chunkTopics: number,
): RegistrationSteps {
  const body = input.body && input.body.length > 0 ? input.body : undefined;
  const crcOk = prepared && prepared !== NOT_PREPARED ? prepared.crcOk : checkBodyCrc32(body, input.bodyCrc32);
  if (!crcOk) return { ok: false, code: SYSTEM_ERROR, remark: 'crc32 not match', reason: 'crc' };

  const role = roleOf(data, input);
  const read = readBody(settings, input, body, role, prepared);
  if (read === NEEDS_DECODE || 'ok' in read) return read;
  const refused = refusalOf(data, input, role, read);
  if (refused) return refused;

  const { entry, minIdChanged } = joinBrokerName(data, input, changes);
  if (role.appliesTopics && read.content) {
    const versionChanged =
      role.registerFirst || !role.live || !dataVersionEquals(role.live.dataVersion, read.dataVersion);
    yield* applyTopics(
      data,
      settings,
      entry,
      input.brokerAddr,
      read.content,
      versionChanged,
      role.registerFirst,
      role.isPrimeSlave,
      changes,
      chunkTopics,
    );
  }
  const liveEntry = putLive(data, input, entry.brokerName, read.dataVersion, read.content, role.live);
  if (read.filterServerList !== null)
    setFilterServers(data, input.clusterName, input.brokerAddr, read.filterServerList, changes);

  const master = liveMasterOf(data, input, entry);
  const result: RegisteredBroker = {
    ok: true,
    haServerAddr: master?.haServerAddr,
    masterAddr: master?.masterAddr,
    generation: liveEntry.generation,
    firstRegistration: role.registerFirst,
    topicsChanged: changes.topics.size > 0,
    fastPath: read.fastPath,
  };
  if (minIdChanged && settings.notifyMinBrokerIdChanged) {
    result.minBrokerIdChange = minBrokerIdChange(entry, undefined, liveEntry.haServerAddr);
    changes.minBrokerIdChanges.push(result.minBrokerIdChange);
  }
  return result;
}

/** Who is registering, as the table knows them before this registration. */
interface Role {
  existing: BrokerEntry | undefined;
  live: LiveEntry | undefined;
  /** The address registered under this broker id of this broker name, if any. */
  oldAddrAtId: string | undefined;
  registerFirst: boolean;
  isPrimeSlave: boolean;
  /** A master, or a prime slave standing in for one: its topics go into the routes. */
  appliesTopics: boolean;
}

function roleOf(data: RouteData, input: RegisterBrokerInput): Role {
  const { clusterName, brokerAddr, brokerName, brokerId } = input;
  const existing = data.brokers.get(brokerName);
  const live = data.liveOf(clusterName, brokerAddr);
  const oldAddrAtId = existing?.addrs.get(brokerId);
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
  return {
    existing,
    live,
    oldAddrAtId,
    registerFirst: !existing || !oldAddrAtId,
    isPrimeSlave,
    appliesTopics: isMaster || isPrimeSlave,
  };
}

/** What the body says; `content` is undefined on the fast path (topics not read). */
interface BodyRead {
  dataVersion: DataVersion;
  filterServerList: string[] | null;
  content: BodyContent | undefined;
  fastPath: boolean;
}

function readBody(
  settings: RouteSettings,
  input: RegisterBrokerInput,
  body: Buffer | undefined,
  role: Role,
  prepared: PreparedBody | undefined,
): BodyRead | Refused | typeof NEEDS_DECODE {
  const peek = unchangedBodyPeek(settings, input, body, role, prepared);
  if (peek !== undefined) {
    return {
      dataVersion: peek.dataVersion,
      filterServerList: peek.filterServerList,
      content: undefined,
      fastPath: true,
    };
  }
  let content: BodyContent;
  if (body === undefined) {
    content = contentOf(emptyRegisterBrokerBody());
  } else if (prepared === NOT_PREPARED || (prepared !== undefined && prepared.decoded === undefined)) {
    return NEEDS_DECODE;
  } else {
    const decoded = prepared !== undefined ? prepared.decoded! : decodeHere(settings, input, body);
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
  return { dataVersion: content.dataVersion, filterServerList: content.filterServerList, content, fastPath: false };
}

/**
 * The fast path: a known address re-registering the very body it sent last
 * time (same DataVersion, same bytes), when nothing else has touched the
 * queues it set. Its topics cannot change anything, so they are not read.
 */
function unchangedBodyPeek(
  settings: RouteSettings,
  input: RegisterBrokerInput,
  body: Buffer | undefined,
  role: Role,
  prepared: PreparedBody | undefined,
): RegisterBodyPeek | undefined {
  const { existing, live } = role;
  if (
    body === undefined ||
    input.clientVersion < MQVersionOrdinal.V3_0_11 ||
    role.registerFirst ||
    live === undefined ||
    role.oldAddrAtId !== input.brokerAddr ||
    (role.appliesTopics && existing!.topicSyncAddr !== input.brokerAddr)
  )
    return undefined;
  const peek =
    prepared && prepared !== NOT_PREPARED
      ? prepared.peek
      : peekRegisterBody(body, { compressed: input.compressed, maxInflatedBytes: settings.maxInflatedBytes });
  if (
    peek &&
    dataVersionEquals(peek.dataVersion, live.dataVersion) &&
    live.fullBodyKey === registerBodyKey(body, input.bodyCrc32)
  )
    return peek;
  return undefined;
}

function decodeHere(settings: RouteSettings, input: RegisterBrokerInput, body: Buffer): Decoded {
  const result = decodeRegisterBrokerBody(body, input.compressed, {
    clientVersion: input.clientVersion,
    now: input.now,
    maxInflatedBytes: settings.maxInflatedBytes,
  });
  return result.ok ? { ok: true, value: contentOf(result.value) } : result;
}

/** Java makes these two checks after it has already changed its tables; here nothing has been touched yet. */
function refusalOf(data: RouteData, input: RegisterBrokerInput, role: Role, read: BodyRead): Refused | undefined {
  const oldAddrAtId = role.oldAddrAtId;
  if (oldAddrAtId !== undefined && oldAddrAtId !== input.brokerAddr) {
    const holder = data.liveOf(input.clusterName, oldAddrAtId);
    if (holder && (holder.dataVersion.stateVersion ?? 0) > (read.dataVersion.stateVersion ?? 0)) {
      return { ok: false, code: SUCCESS, remark: '', reason: 'stateVersionConflict' };
    }
  }
  if (oldAddrAtId === undefined && read.content && read.content.topics.size === 1) {
    // A broker's single-topic registration must follow its first full one (5.x).
    return {
      ok: false,
      code: SYSTEM_ERROR,
      remark: 'register broker failed',
      reason: 'singleTopicBeforeFirstRegistration',
    };
  }
  return undefined;
}

/**
 * The broker name joins its cluster and the address takes its id (dropping
 * the same address under another id). `minIdChanged`: the broker name's
 * smallest id went down.
 */
function joinBrokerName(
  data: RouteData,
  input: RegisterBrokerInput,
  changes: Changes,
): { entry: BrokerEntry; minIdChanged: boolean } {
  const { clusterName, brokerAddr, brokerName, brokerId } = input;
  let names = data.clusters.get(clusterName);
  if (!names) {
    names = new Set();
    data.clusters.set(detached(clusterName), names);
  }
  let entry = data.brokers.get(brokerName);
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
    data.brokers.set(entry.brokerName, entry);
    changes.clusters = true;
  }
  if (!names.has(entry.brokerName)) {
    names.add(entry.brokerName);
    changes.clusters = true;
  }

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
    data.collectTopicsOf(entry.brokerName, changes);
  }
  return { entry, minIdChanged };
}

/** The broker name's queues on each topic of the body. Yields after every `chunkTopics` topics. */
function* applyTopics(
  data: RouteData,
  settings: RouteSettings,
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
  if (settings.deleteTopicWithBrokerRegistration && (!mappings || mappings.size === 0)) {
    const keys = rows.keySet();
    for (const queues of data.topicsOf(name)) {
      if (keys.has(queues.topic)) continue;
      data.dropQueue(queues.topic, queues, name);
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
    const queues = data.topics.get(topic);
    if (!versionChanged && queues !== undefined && queues.has(name)) continue;
    const perm = wipeWrite ? quads[i * 4 + 2]! & ~PermName.PERM_WRITE : quads[i * 4 + 2]!;
    const code = data.codes.encode(quads[i * 4]!, quads[i * 4 + 1]!, perm, quads[i * 4 + 3]!);
    // The table keeps its own copy of a name; the body's copies are let go.
    if (queues === undefined) {
      const key = owned ? topic : detached(topic);
      data.addTopic(key, name, code);
      changes.touch(key);
    } else if (queues.get(name) !== code) {
      if (!queues.has(name)) data.indexAdd(name, queues);
      queues.set(name, code);
      changes.touch(queues.topic);
    }
  }
  if ((versionChanged || registerFirst) && mappings) {
    for (const [topic, info] of mappings) {
      let byBroker = data.mappings.get(topic);
      if (!byBroker) {
        byBroker = new Map();
        data.mappings.set(detached(topic), byBroker);
      }
      // Java files it under the mapping's own bname.
      byBroker.set(info.bname ?? 'null', cloneMapping(info));
      changes.touch(topic);
    }
  }
  entry.topicSyncAddr = brokerAddr;
}

/** The (cluster, address) registration, with a new generation when the connection is new. */
function putLive(
  data: RouteData,
  input: RegisterBrokerInput,
  brokerName: string,
  dataVersion: DataVersion,
  content: BodyContent | undefined,
  previous: LiveEntry | undefined,
): LiveEntry {
  const generation =
    previous === undefined || previous.connectionId !== input.connectionId ? ++data.generationSeq : previous.generation;
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
  let byAddr = data.live.get(entry.clusterName);
  if (!byAddr) {
    byAddr = new Map();
    data.live.set(entry.clusterName, byAddr);
  }
  byAddr.set(entry.brokerAddr, entry);
  return entry;
}

function setFilterServers(
  data: RouteData,
  clusterName: string,
  brokerAddr: string,
  list: string[],
  changes: Changes,
): void {
  const byAddr = data.filterServers.get(clusterName);
  const current = byAddr?.get(brokerAddr);
  if (list.length === 0) {
    if (current === undefined) return;
    data.collectTopicsOfAddr(clusterName, brokerAddr, changes);
    byAddr!.delete(brokerAddr);
    data.filterServerEntries--;
    if (byAddr!.size === 0) data.filterServers.delete(clusterName);
    return;
  }
  if (current !== undefined && sameList(current, list)) return;
  if (byAddr) {
    byAddr.set(brokerAddr, [...list]);
  } else {
    data.filterServers.set(clusterName, new Map([[brokerAddr, [...list]]]));
  }
  if (current === undefined) data.filterServerEntries++;
  data.collectTopicsOfAddr(clusterName, brokerAddr, changes);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** For a slave: its broker name's master, if that master is live. */
function liveMasterOf(
  data: RouteData,
  input: RegisterBrokerInput,
  entry: BrokerEntry,
): { haServerAddr: string; masterAddr: string } | undefined {
  if (input.brokerId === MASTER_ID) return undefined;
  const master = entry.addrs.get(MASTER_ID);
  if (master === undefined) return undefined;
  const masterLive = data.liveOf(input.clusterName, master);
  return masterLive ? { haServerAddr: masterLive.haServerAddr, masterAddr: master } : undefined;
}

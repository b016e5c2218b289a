/**
 * The CPU-heavy half of a REGISTER_BROKER: checksum, DataVersion peek and full
 * body decode, as a pure function of the body. It runs on a worker thread for
 * large bodies (registerBodyPool.ts) and its result is small to hand back:
 * topic names, their queue numbers in one Int32Array, and the few other fields.
 * The route table applies the result on the main thread, atomically.
 */
import { checkBodyCrc32, decodeRegisterBrokerBody } from '../protocol/registerBody.js';
import { peekRegisterBody, type RegisterBodyPeek } from '../protocol/registerBodyPeek.js';
import {
  dataVersionEquals,
  type DataVersion,
  type RegisterBrokerBody,
  type TopicConfig,
  type TopicQueueMappingInfo,
} from '../protocol/types.js';

export interface RegisterJob {
  body: Uint8Array;
  compressed: boolean;
  bodyCrc32: number;
  clientVersion: number;
  now: number;
  maxInflatedBytes: number;
  /**
   * The broker's current DataVersion when an unchanged body could take the
   * fast path: then a body whose DataVersion equals it is not decoded.
   * Undefined: decode whatever the peek says.
   */
  skipDecodeIfVersion: DataVersion | undefined;
}

/** A decoded topic table in columns: what the route table reads of it. */
export interface CompactTopics {
  /** topicName of each entry, in table order */
  names: string[];
  /** The table's keys when any differs from its entry's topicName (hostile bodies only). */
  keys: string[] | undefined;
  /** readQueueNums, writeQueueNums, perm, topicSysFlag of each entry */
  quads: Int32Array;
}

export interface CompactBody {
  dataVersion: DataVersion;
  filterServerList: string[] | null;
  topics: CompactTopics;
  mappings: Map<string, TopicQueueMappingInfo> | undefined;
}

export interface RegisterJobResult {
  crcOk: boolean;
  /** undefined: the body has no peekable prefix */
  peek: RegisterBodyPeek | undefined;
  /** undefined when the decode was skipped (unchanged DataVersion) or the CRC failed */
  decoded: { ok: true; value: CompactBody } | { ok: false; error: string } | undefined;
}

export function compactTopics(table: Map<string, TopicConfig>): CompactTopics {
  const names = new Array<string>(table.size);
  const quads = new Int32Array(table.size * 4);
  let keys: string[] | undefined;
  let i = 0;
  for (const [key, tc] of table) {
    names[i] = tc.topicName;
    if (key !== tc.topicName && keys === undefined) keys = [...table.keys()];
    quads[i * 4] = tc.readQueueNums;
    quads[i * 4 + 1] = tc.writeQueueNums;
    quads[i * 4 + 2] = tc.perm;
    quads[i * 4 + 3] = tc.topicSysFlag;
    i++;
  }
  return { names, keys, quads };
}

export function compactBody(body: RegisterBrokerBody): CompactBody {
  const wrapper = body.topicConfigSerializeWrapper;
  return {
    dataVersion: wrapper.dataVersion,
    filterServerList: body.filterServerList,
    topics: compactTopics(wrapper.topicConfigTable),
    mappings: wrapper.topicQueueMappingInfoMap,
  };
}

export function runRegisterJob(job: RegisterJob): RegisterJobResult {
  const body = Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength);
  if (!checkBodyCrc32(body.length > 0 ? body : undefined, job.bodyCrc32))
    return { crcOk: false, peek: undefined, decoded: undefined };
  const peek = peekRegisterBody(body, { compressed: job.compressed, maxInflatedBytes: job.maxInflatedBytes });
  if (peek && job.skipDecodeIfVersion && dataVersionEquals(peek.dataVersion, job.skipDecodeIfVersion)) {
    return { crcOk: true, peek, decoded: undefined };
  }
  const result = decodeRegisterBrokerBody(body, job.compressed, {
    clientVersion: job.clientVersion,
    now: job.now,
    maxInflatedBytes: job.maxInflatedBytes,
  });
  return { crcOk: true, peek, decoded: result.ok ? { ok: true, value: compactBody(result.value) } : result };
}

// ---------------------------------------------------------------------------
// What the route table reads of a decoded body (registration.ts), whether it
// was decoded here or came back from a worker.

/** A decoded body's topic table as the route table reads it. */
export interface TopicRows {
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

export interface BodyContent {
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

export function contentOf(body: RegisterBrokerBody): BodyContent {
  const compact = compactBody(body);
  return {
    dataVersion: compact.dataVersion,
    filterServerList: compact.filterServerList,
    topics: rowsOf(compact.topics, false),
    mappings: compact.mappings,
  };
}

export type Decoded = { ok: true; value: BodyContent } | { ok: false; error: string };

/** What a worker made of a body. */
export interface PreparedBody {
  crcOk: boolean;
  peek: RegisterBodyPeek | undefined;
  /** undefined: not decoded (its DataVersion looked unchanged) */
  decoded: Decoded | undefined;
}

export function preparedFromJob(result: RegisterJobResult): PreparedBody {
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

/** Passed for a queued large body whose worker result is missing: never decode on the event loop. */
export const NOT_PREPARED: PreparedBody = Object.freeze({ crcOk: true, peek: undefined, decoded: undefined });

/**
 * REGISTER_BROKER bodies (RegisterBrokerBody.java): fastjson JSON, or, when the
 * header says compressed=true, a zlib stream of length-prefixed parts:
 *
 *   int32 len, DataVersion JSON
 *   int32 topic count, then per topic: int32 len, TopicConfig text
 *     ("name read write perm filterType", 5.x appends " " + attributes JSON)
 *   int32 len, filter server list JSON
 *   5.x only: int32 mapping count, then per mapping: int32 len, TopicQueueMappingInfo JSON
 *
 * All ints are big endian. Both generations are accepted: a stream that ends
 * right after the filter server list is a 4.9.x body.
 *
 * The compressed text form has no topicSysFlag or order (they decode as 0 and
 * false), exactly as in Java.
 */

import { constants as zlibConstants, crc32, deflateSync, inflateSync } from 'node:zlib';
import {
  quote,
  writeDataVersion,
  writeStringMap,
  writeTopicConfig,
  writeTopicQueueMappingInfo,
} from './fastjsonWriter.js';
import { parseFastjsonText } from './fastjsonParser.js';
import {
  METADATA_SCOPE_GLOBAL,
  MQVersionOrdinal,
  PermName,
  type DataVersion,
  type RegisterBrokerBody,
  type TopicConfig,
  type TopicFilterType,
  type TopicQueueMappingInfo,
} from './types.js';
import { errorMessage } from '../util/errorMessage.js';

export type DecodeResult = { ok: true; value: RegisterBrokerBody } | { ok: false; error: string };

export interface DecodeOptions {
  /**
   * The sender's MQVersion ordinal (the request's `version`). Below V3_0_11 a
   * JSON body is a bare TopicConfigSerializeWrapper; below V5_0_0 a compressed
   * body's bytes after the filter server list are ignored, as Java does.
   * Unknown: modern JSON, and mappings read when present.
   */
  clientVersion?: number;
  /** Java stamps a body that lacks a dataVersion with the decode time. */
  now?: number;
  /** Upper bound on the inflated size of a compressed body (zip bombs). */
  maxInflatedBytes?: number;
}

/** 16 MiB frames of topic text rarely inflate past a few dozen MiB. */
export const DEFAULT_MAX_INFLATED_BYTES = 256 * 1024 * 1024;

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

class BodyError extends Error {}

function fail(message: string): never {
  throw new BodyError(message);
}

// ---------------------------------------------------------------------------
// Field readers: fastjson converts loosely between numbers, numeric strings and
// booleans when it fills a bean, so these do too; anything else is refused.

function readInt(value: unknown, fallback: number, what: string): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value >= INT_MIN && value <= INT_MAX) return value;
  if (typeof value === 'string' && /^[+-]?\d{1,10}$/.test(value)) {
    const n = Number(value);
    if (n >= INT_MIN && n <= INT_MAX) return n;
  }
  return fail(`${what} is not an int`);
}

function readLong(value: unknown, fallback: number, what: string): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^[+-]?\d{1,19}$/.test(value)) return Number(value);
  return fail(`${what} is not a long`);
}

function readBool(value: unknown, fallback: boolean, what: string): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 1) return true;
  if (value === 'false' || value === 0) return false;
  return fail(`${what} is not a boolean`);
}

function readFilterType(value: unknown): TopicFilterType {
  if (value === 'MULTI_TAG' || value === 1) return 'MULTI_TAG';
  // The name server never looks at the filter type; anything else reads as the default.
  return 'SINGLE_TAG';
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readStringMap(value: unknown): Record<string, string> | undefined {
  if (!isObject(value)) return undefined;
  const entries: Array<[string, string]> = [];
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (v === null || v === undefined) continue;
    // fastjson reads a nested object into a String-valued map as its JSON text.
    entries.push([
      key,
      typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : `${v as number | boolean}`,
    ]);
  }
  // fromEntries defines own properties: a key named "__proto__" stays a key, as in Java's map.
  return Object.fromEntries(entries);
}

export function readDataVersion(value: unknown, now: number): DataVersion {
  if (value === undefined || value === null) return { counter: 0, stateVersion: 0, timestamp: now };
  if (!isObject(value)) return fail('dataVersion is not an object');
  const counter = readLong(value.counter, 0, 'dataVersion.counter');
  const timestamp = readLong(value.timestamp, now, 'dataVersion.timestamp');
  if (value.stateVersion === undefined || value.stateVersion === null) return { counter, timestamp };
  return { counter, stateVersion: readLong(value.stateVersion, 0, 'dataVersion.stateVersion'), timestamp };
}

function readTopicConfigObject(value: unknown, key: string): TopicConfig {
  if (!isObject(value)) return fail(`topicConfigTable[${key}] is not an object`);
  const name = value.topicName;
  // Java would put a nameless config under a null key and fail half way through
  // the registration; refuse the body instead.
  if (typeof name !== 'string') return fail(`topicConfigTable[${key}].topicName is missing`);
  const tc: TopicConfig = {
    topicName: name,
    readQueueNums: readInt(value.readQueueNums, 16, 'readQueueNums'),
    writeQueueNums: readInt(value.writeQueueNums, 16, 'writeQueueNums'),
    perm: readInt(value.perm, PermName.PERM_READ | PermName.PERM_WRITE, 'perm'),
    topicFilterType: readFilterType(value.topicFilterType),
    topicSysFlag: readInt(value.topicSysFlag, 0, 'topicSysFlag'),
    order: readBool(value.order, false, 'order'),
  };
  const attributes = readStringMap(value.attributes);
  if (attributes) tc.attributes = attributes;
  return tc;
}

function readMappingInfo(value: unknown): TopicQueueMappingInfo {
  if (!isObject(value)) return fail('topic queue mapping is not an object');
  const info: TopicQueueMappingInfo = {
    totalQueues: readInt(value.totalQueues, 0, 'totalQueues'),
    epoch: readLong(value.epoch, 0, 'epoch'),
    dirty: readBool(value.dirty, false, 'dirty'),
    currIdMap: {},
  };
  if (typeof value.topic === 'string') info.topic = value.topic;
  // An absent scope is Java's default; an explicit null stays null (and unwritten).
  if (value.scope === undefined) info.scope = METADATA_SCOPE_GLOBAL;
  else if (typeof value.scope === 'string') info.scope = value.scope;
  if (typeof value.bname === 'string') info.bname = value.bname;
  if (isObject(value.currIdMap)) {
    for (const key of Object.keys(value.currIdMap)) {
      const id = readInt(key, 0, 'currIdMap key');
      const v = value.currIdMap[key];
      if (v === null || v === undefined) continue;
      info.currIdMap[String(id)] = readInt(v, 0, 'currIdMap value');
    }
  }
  return info;
}

function readMappingMap(value: unknown): Map<string, TopicQueueMappingInfo> | undefined {
  if (!isObject(value)) return undefined;
  const out = new Map<string, TopicQueueMappingInfo>();
  for (const key of Object.keys(value)) {
    if (value[key] === null || value[key] === undefined) continue;
    out.set(key, readMappingInfo(value[key]));
  }
  return out;
}

function readWrapper(value: unknown, now: number): RegisterBrokerBody['topicConfigSerializeWrapper'] {
  const topicConfigTable = new Map<string, TopicConfig>();
  if (value === undefined || value === null) {
    return { topicConfigTable, dataVersion: readDataVersion(undefined, now) };
  }
  if (!isObject(value)) return fail('topicConfigSerializeWrapper is not an object');
  const table = value.topicConfigTable;
  if (table !== undefined && table !== null) {
    if (!isObject(table)) return fail('topicConfigTable is not an object');
    for (const key of Object.keys(table)) {
      if (table[key] === null || table[key] === undefined) continue;
      topicConfigTable.set(key, readTopicConfigObject(table[key], key));
    }
  }
  const wrapper: RegisterBrokerBody['topicConfigSerializeWrapper'] = {
    topicConfigTable,
    dataVersion: readDataVersion(value.dataVersion, now),
  };
  const mappings = readMappingMap(value.topicQueueMappingInfoMap);
  if (mappings) wrapper.topicQueueMappingInfoMap = mappings;
  return wrapper;
}

function readFilterServerList(value: unknown): string[] | null {
  if (value === undefined) return [];
  if (value === null) return null;
  if (!Array.isArray(value)) return fail('filterServerList is not an array');
  const out: string[] = [];
  for (const item of value) {
    if (typeof item === 'string') out.push(item);
    else if (typeof item === 'number') out.push(String(item));
    else return fail('filterServerList holds a non-string');
  }
  return out;
}

function decodeJson(body: Buffer, options: DecodeOptions, now: number): RegisterBrokerBody {
  const parsed = parseFastjsonText(body.toString('utf8'));
  if (!parsed.ok) return fail(`bad JSON: ${parsed.error}`);
  if (!isObject(parsed.value)) return fail('body is not a JSON object');
  const root = parsed.value;
  if (options.clientVersion !== undefined && options.clientVersion < MQVersionOrdinal.V3_0_11) {
    // Java reads these as a TopicConfigSerializeWrapper and passes no filter servers.
    return { topicConfigSerializeWrapper: readWrapper(root, now), filterServerList: null };
  }
  return {
    topicConfigSerializeWrapper: readWrapper(root.topicConfigSerializeWrapper, now),
    filterServerList: readFilterServerList(root.filterServerList),
  };
}

// ---------------------------------------------------------------------------
// Compressed form.

/** Length-prefixed parts of an inflated compressed body (also registerBodyPeek.ts). */
export class PartReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  int(what: string): number {
    if (this.remaining < 4) fail(`truncated before ${what}`);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** A count of length-prefixed entries: each needs at least its 4-byte prefix. */
  count(what: string): number {
    const n = this.int(what);
    if (n < 0 || n > this.remaining / 4) fail(`${what} ${n} does not fit the body`);
    return n;
  }

  bytes(what: string): Buffer {
    const len = this.int(`${what} length`);
    if (len < 0 || len > this.remaining) fail(`${what} length ${len} does not fit the body`);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  skip(what: string): void {
    const len = this.int(`${what} length`);
    if (len < 0 || len > this.remaining) fail(`${what} length ${len} does not fit the body`);
    this.pos += len;
  }
}

function inflate(body: Buffer, maxInflatedBytes: number): Buffer {
  try {
    return inflateSync(body, { maxOutputLength: maxInflatedBytes });
  } catch (err) {
    return fail(`bad compressed body: ${errorMessage(err)}`);
  }
}

const JAVA_INT = /^[+-]?\d{1,10}$/;

function parseJavaInt(text: string | undefined, what: string): number {
  // Integer.parseInt: optional sign, decimal digits, int range.
  if (text === undefined || !JAVA_INT.test(text)) return fail(`${what} is not an int`);
  const n = Number(text);
  if (n < INT_MIN || n > INT_MAX) return fail(`${what} is out of int range`);
  return n;
}

/** TopicConfig.decode: String.split(" ") drops trailing empty strings. */
function parseTopicConfigText(text: string): TopicConfig {
  const parts = text.split(' ');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length < 5) return fail(`topic config "${text.slice(0, 80)}" has fewer than 5 fields`);
  const filterType = parts[4];
  if (filterType !== 'SINGLE_TAG' && filterType !== 'MULTI_TAG') return fail(`unknown topic filter type ${filterType}`);
  const tc: TopicConfig = {
    topicName: parts[0]!,
    readQueueNums: parseJavaInt(parts[1], 'readQueueNums'),
    writeQueueNums: parseJavaInt(parts[2], 'writeQueueNums'),
    perm: parseJavaInt(parts[3], 'perm'),
    topicFilterType: filterType,
    topicSysFlag: 0,
    order: false,
  };
  if (parts.length >= 6) {
    // Java ignores attributes it cannot parse (values may hold spaces).
    const parsed = parseFastjsonText(parts[5]!);
    tc.attributes = (parsed.ok ? readStringMap(parsed.value) : undefined) ?? {};
  }
  return tc;
}

function parseJsonPart(part: Buffer, what: string): unknown {
  const parsed = parseFastjsonText(part.toString('utf8'));
  if (!parsed.ok) return fail(`bad ${what} JSON: ${parsed.error}`);
  return parsed.value;
}

export function readCompressedFilterServers(part: Buffer): string[] | null {
  // JSON.parseArray failures leave Java's empty list in place.
  const parsed = parseFastjsonText(part.toString('utf8'));
  if (!parsed.ok) return [];
  if (parsed.value === null) return null;
  if (!Array.isArray(parsed.value)) return [];
  return parsed.value.filter((x): x is string => typeof x === 'string');
}

function decodeCompressed(body: Buffer, options: DecodeOptions, now: number): RegisterBrokerBody {
  const reader = new PartReader(inflate(body, options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES));
  const dvValue = parseJsonPart(reader.bytes('dataVersion'), 'dataVersion');
  if (!isObject(dvValue)) return fail('dataVersion is not an object');
  const dataVersion = readDataVersion(dvValue, now);
  const topicConfigTable = new Map<string, TopicConfig>();
  const topics = reader.count('topic count');
  for (let i = 0; i < topics; i++) {
    const tc = parseTopicConfigText(reader.bytes('topic config').toString('utf8'));
    topicConfigTable.set(tc.topicName, tc);
  }
  const filterServerList = readCompressedFilterServers(reader.bytes('filter server list'));
  const wrapper: RegisterBrokerBody['topicConfigSerializeWrapper'] = { topicConfigTable, dataVersion };
  const oldSender = options.clientVersion !== undefined && options.clientVersion < MQVersionOrdinal.V5_0_0;
  if (reader.remaining > 0 && !oldSender) {
    const mappings = new Map<string, TopicQueueMappingInfo>();
    const n = reader.count('mapping count');
    for (let i = 0; i < n; i++) {
      const info = readMappingInfo(parseJsonPart(reader.bytes('mapping'), 'mapping'));
      if (info.topic === undefined) return fail('topic queue mapping without a topic');
      mappings.set(info.topic, info);
    }
    wrapper.topicQueueMappingInfoMap = mappings;
  }
  return { topicConfigSerializeWrapper: wrapper, filterServerList };
}

/**
 * Decodes a REGISTER_BROKER body. Never throws: malformed JSON, broken
 * streams, bad fields and counts that cannot fit the body come back as errors,
 * and allocation is bounded by the body (and maxInflatedBytes).
 */
export function decodeRegisterBrokerBody(body: Buffer, compressed: boolean, options: DecodeOptions = {}): DecodeResult {
  const now = options.now ?? 0;
  try {
    const value = compressed ? decodeCompressed(body, options, now) : decodeJson(body, options, now);
    return { ok: true, value };
  } catch (err) {
    if (err instanceof BodyError) return { ok: false, error: err.message };
    // RangeError from a huge allocation, or anything unforeseen: still a refusal.
    return { ok: false, error: `undecodable body: ${errorMessage(err)}` };
  }
}

/** The body Java assumes when a REGISTER_BROKER request has none. */
export function emptyRegisterBrokerBody(): RegisterBrokerBody {
  return {
    topicConfigSerializeWrapper: {
      topicConfigTable: new Map(),
      dataVersion: { counter: 0, stateVersion: 0, timestamp: 0 },
    },
    filterServerList: [],
  };
}

// ---------------------------------------------------------------------------
// Checksum and identity.

/**
 * The header's bodyCrc32 is CRC32(body) & 0x7fffffff (UtilAll.crc32); 0 means
 * the sender did not compute one. A missing body has CRC 0.
 */
export function checkBodyCrc32(body: Buffer | undefined, expected: number): boolean {
  if (expected === 0) return true;
  const actual = body && body.length > 0 ? crc32(body) & 0x7fffffff : 0;
  return actual === expected;
}

/**
 * What identifies a body's bytes: the header's bodyCrc32 when the broker sent
 * one (already verified against the body), else the CRC computed here.
 */
export function registerBodyKey(body: Buffer | undefined, headerCrc32: number): number {
  if (headerCrc32 !== 0) return headerCrc32;
  return body && body.length > 0 ? crc32(body) & 0x7fffffff : 0;
}

// ---------------------------------------------------------------------------
// Encoding, for tests, the broker simulator and benchmarks.

export interface EncodeOptions {
  compressed: boolean;
  /**
   * Which broker generation to imitate. '4.9' (default): DataVersion without
   * stateVersion, TopicConfig without attributes, no mappings. '5.x': all of those.
   */
  generation?: '4.9' | '5.x';
}

export interface RegisterBrokerBodyInput {
  topicConfigSerializeWrapper: {
    topicConfigTable: Map<string, TopicConfig> | Record<string, TopicConfig>;
    dataVersion: DataVersion;
    topicQueueMappingInfoMap?: Map<string, TopicQueueMappingInfo> | Record<string, TopicQueueMappingInfo>;
  };
  filterServerList: string[] | null;
}

function entriesOf<V>(m: Map<string, V> | Record<string, V> | undefined): Array<[string, V]> {
  if (!m) return [];
  return m instanceof Map ? [...m.entries()] : Object.entries(m);
}

function dataVersionFor(v: DataVersion, modern: boolean): DataVersion {
  if (modern) return { counter: v.counter, stateVersion: v.stateVersion ?? 0, timestamp: v.timestamp };
  return { counter: v.counter, timestamp: v.timestamp };
}

function filterListJson(list: string[] | null): string {
  if (list === null) return 'null';
  return '[' + list.map((s) => quote(s, false)).join(',') + ']';
}

function topicConfigText(tc: TopicConfig, modern: boolean): string {
  const base = `${tc.topicName} ${tc.readQueueNums} ${tc.writeQueueNums} ${tc.perm} ${tc.topicFilterType} `;
  if (!modern) return base.slice(0, -1);
  return base + writeStringMap(tc.attributes ?? {}, false, (v) => quote(v, false));
}

/**
 * Encodes a register body as a broker of the given generation would. The
 * JSON form keeps the topic table's iteration order (Java writes its
 * ConcurrentHashMap's order), so a decoded golden body re-encodes to itself.
 */
export function encodeRegisterBrokerBody(value: RegisterBrokerBodyInput, options: EncodeOptions): Buffer {
  const modern = options.generation === '5.x';
  const wrapper = value.topicConfigSerializeWrapper;
  const dv = dataVersionFor(wrapper.dataVersion, modern);
  const topics = entriesOf(wrapper.topicConfigTable);
  const mappings = entriesOf(wrapper.topicQueueMappingInfoMap);

  if (!options.compressed) {
    let out = '{';
    if (value.filterServerList !== null) out += '"filterServerList":' + filterListJson(value.filterServerList) + ',';
    out += '"topicConfigSerializeWrapper":{"dataVersion":' + writeDataVersion(dv, false) + ',"topicConfigTable":{';
    out += topics.map(([name, tc]) => quote(name, false) + ':' + writeTopicConfig(tc, modern)).join(',');
    out += '}';
    if (modern) {
      out += ',"topicQueueMappingDetailMap":{},"topicQueueMappingInfoMap":{';
      out += mappings.map(([topic, m]) => quote(topic, false) + ':' + writeTopicQueueMappingInfo(m, false)).join(',');
      out += '}';
    }
    return Buffer.from(out + '}}', 'utf8');
  }

  const parts: Buffer[] = [];
  const int = (n: number): void => {
    const b = Buffer.allocUnsafe(4);
    b.writeInt32BE(n, 0);
    parts.push(b);
  };
  const part = (text: string): void => {
    const b = Buffer.from(text, 'utf8');
    int(b.length);
    parts.push(b);
  };
  part(writeDataVersion(dv, false));
  int(topics.length);
  for (const [, tc] of topics) part(topicConfigText(tc, modern));
  part(filterListJson(value.filterServerList));
  if (modern) {
    int(mappings.length);
    for (const [, m] of mappings) part(writeTopicQueueMappingInfo(m, false));
  }
  // Deflater(BEST_COMPRESSION) with its zlib wrapper, as the broker uses.
  return deflateSync(Buffer.concat(parts), { level: zlibConstants.Z_BEST_COMPRESSION });
}

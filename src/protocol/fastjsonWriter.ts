/**
 * JSON as Java's fastjson 1.2.x writes RocketMQ's bodies, byte for byte.
 *
 * What fastjson does, and so what this writer does:
 * - bean fields come out sorted by name (SerializerFeature.SortField is a
 *   default), and null fields are left out (WriteMapNullValue is not);
 * - map entries whose value is null are left out too;
 * - two styles: `fastjson` (`JSON.toJSONString(obj)`, the default features)
 *   writes a map with integer keys with bare keys (`{0:"127.0.0.1:10911"}`),
 *   which is not JSON; `standard` (BrowserCompatible, QuoteFieldNames,
 *   SkipTransientField, MapSortField, what ClientRequestProcessor uses for
 *   clients from 4.9.4 on) quotes them, sorts map keys, escapes `/` and every
 *   char from U+007F up as \uXXXX, and quotes longs beyond 2^53.
 *
 * Java iterates HashMaps in hash order when MapSortField is off; that order
 * depends on table sizes and history, so here every map is written sorted
 * (string keys by UTF-16 code unit, like String.compareTo; integer keys
 * numerically, like TreeMap<Long>). For one-entry maps, and for small broker
 * ids, that is also what Java writes.
 */

import type {
  BrokerData,
  BrokerMemberGroup,
  ClusterInfo,
  DataVersion,
  QueueData,
  TopicConfig,
  TopicList,
  TopicQueueMappingInfo,
  TopicRouteData,
} from './types.js';

export type JsonStyle = 'standard' | 'fastjson';

const HEX = '0123456789ABCDEF';
const MAX_SAFE = 9007199254740991;

// Characters fastjson escapes by default: control chars, ", \, U+007F..U+009F,
// U+2028 and U+2029.
const FASTJSON_SPECIAL = /["\\\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
// BrowserCompatible adds / and everything from U+007F up.
const STANDARD_SPECIAL = /["\\/\u0000-\u001f\u007f-\uffff]/;

function hex4(c: number): string {
  return '\\u' + HEX[(c >>> 12) & 15] + HEX[(c >>> 8) & 15] + HEX[(c >>> 4) & 15] + HEX[c & 15];
}

function shortEscape(c: number): string | undefined {
  switch (c) {
    case 8:
      return '\\b';
    case 9:
      return '\\t';
    case 10:
      return '\\n';
    case 12:
      return '\\f';
    case 13:
      return '\\r';
    case 34:
      return '\\"';
    case 92:
      return '\\\\';
    default:
      return undefined;
  }
}

/** A JSON string literal, escaped the way fastjson escapes it in the given style. */
export function quote(s: string, standard: boolean): string {
  if (!(standard ? STANDARD_SPECIAL : FASTJSON_SPECIAL).test(s)) return '"' + s + '"';
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | undefined;
    if (standard) {
      if (c === 47) rep = '\\/';
      else rep = shortEscape(c) ?? (c < 32 || c >= 127 ? hex4(c) : undefined);
    } else {
      rep = shortEscape(c) ?? (c < 32 || (c >= 0x7f && c < 0xa0) || c === 0x2028 || c === 0x2029 ? hex4(c) : undefined);
    }
    if (rep !== undefined) {
      out += s.slice(start, i) + rep;
      start = i + 1;
    }
  }
  return out + s.slice(start) + '"';
}

/** An integral number as Java writes an int or long. */
export function num(n: number, standard: boolean): string {
  const text = Number.isInteger(n) ? (Object.is(n, -0) ? '0' : n.toFixed(0)) : String(n);
  // BrowserCompatible quotes longs JavaScript cannot hold exactly.
  return standard && (n > MAX_SAFE || n < -MAX_SAFE) ? '"' + text + '"' : text;
}

function numericKeyOrder(a: string, b: string): number {
  return Number(a) - Number(b);
}

/** Marks a record whose keys are Java Integer/Long map keys. */
export class IntKeyed<V> {
  constructor(readonly entries: Record<string, V> | Map<number, V>) {}
}

export function intKeyed<V>(entries: Record<string, V> | Map<number, V>): IntKeyed<V> {
  return new IntKeyed(entries);
}

/** `{k:v,...}` for a map with integer keys: bare in fastjson style, quoted in standard style. */
export function writeIntKeyMap<V>(
  entries: Record<string, V> | Map<number, V>,
  standard: boolean,
  value: (v: V) => string,
): string {
  const keys = entries instanceof Map ? [...entries.keys()].map(String) : Object.keys(entries);
  keys.sort(numericKeyOrder);
  let out = '{';
  let first = true;
  for (const key of keys) {
    const v = entries instanceof Map ? entries.get(Number(key)) : entries[key];
    if (v === null || v === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += (standard ? '"' + key + '"' : key) + ':' + value(v);
  }
  return out + '}';
}

/** `{"k":v,...}` for a map with string keys, sorted, null values left out. */
export function writeStringMap<V>(
  entries: Record<string, V> | Map<string, V>,
  standard: boolean,
  value: (v: V) => string,
): string {
  const keys = entries instanceof Map ? [...entries.keys()] : Object.keys(entries);
  keys.sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const v = entries instanceof Map ? entries.get(key) : entries[key];
    if (v === null || v === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += quote(key, standard) + ':' + value(v);
  }
  return out + '}';
}

function writeStringArray(list: readonly (string | null)[], standard: boolean): string {
  let out = '[';
  for (let i = 0; i < list.length; i++) {
    if (i > 0) out += ',';
    const s = list[i];
    out += s === null || s === undefined ? 'null' : quote(s, standard);
  }
  return out + ']';
}

/**
 * Any value, fastjson style: plain objects are beans (fields sorted, nulls left
 * out), Maps and IntKeyed records are maps, Sets and arrays are lists.
 */
export function writeValue(value: unknown, standard: boolean): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return quote(value, standard);
    case 'number':
      return num(value, standard);
    case 'bigint': {
      const text = value.toString();
      const big = value > BigInt(MAX_SAFE) || value < -BigInt(MAX_SAFE);
      return standard && big ? '"' + text + '"' : text;
    }
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      return 'null';
  }
  const write = (v: unknown): string => writeValue(v, standard);
  if (value instanceof IntKeyed) return writeIntKeyMap(value.entries as Record<string, unknown>, standard, write);
  if (Array.isArray(value) || value instanceof Set) {
    let out = '[';
    let first = true;
    for (const item of value as Iterable<unknown>) {
      if (!first) out += ',';
      first = false;
      out += write(item);
    }
    return out + ']';
  }
  if (value instanceof Map) {
    const keys = [...value.keys()];
    if (keys.length > 0 && keys.every((k) => typeof k === 'number')) {
      return writeIntKeyMap(value as Map<number, unknown>, standard, write);
    }
    return writeStringMap(value as Map<string, unknown>, standard, write);
  }
  return writeStringMap(value as Record<string, unknown>, standard, write);
}

/** Encodes any value as fastjson would (see writeValue). */
export function encodeFastjson(value: unknown, style: JsonStyle = 'fastjson'): Buffer {
  return Buffer.from(writeValue(value, style === 'standard'), 'utf8');
}

// ---------------------------------------------------------------------------
// The bodies a name server sends, each written field by field in sorted order.

export function writeDataVersion(v: DataVersion, standard: boolean): string {
  let out = '{"counter":' + num(v.counter, standard);
  if (v.stateVersion !== undefined) out += ',"stateVersion":' + num(v.stateVersion, standard);
  return out + ',"timestamp":' + num(v.timestamp, standard) + '}';
}

export function writeQueueData(q: QueueData, standard: boolean): string {
  let out = '{';
  if (q.brokerName !== null && q.brokerName !== undefined) out += '"brokerName":' + quote(q.brokerName, standard) + ',';
  return (
    out +
    '"perm":' +
    num(q.perm, standard) +
    ',"readQueueNums":' +
    num(q.readQueueNums, standard) +
    ',"topicSysFlag":' +
    num(q.topicSysFlag, standard) +
    ',"writeQueueNums":' +
    num(q.writeQueueNums, standard) +
    '}'
  );
}

export function writeBrokerData(b: BrokerData, standard: boolean): string {
  const parts: string[] = [];
  parts.push('"brokerAddrs":' + writeIntKeyMap(b.brokerAddrs, standard, (addr) => quote(addr, standard)));
  if (b.brokerName !== null && b.brokerName !== undefined) parts.push('"brokerName":' + quote(b.brokerName, standard));
  if (b.cluster !== null && b.cluster !== undefined) parts.push('"cluster":' + quote(b.cluster, standard));
  if (b.enableActingMaster !== undefined)
    parts.push('"enableActingMaster":' + (b.enableActingMaster ? 'true' : 'false'));
  if (b.zoneName !== null && b.zoneName !== undefined) parts.push('"zoneName":' + quote(b.zoneName, standard));
  return '{' + parts.join(',') + '}';
}

export function writeTopicQueueMappingInfo(m: TopicQueueMappingInfo, standard: boolean): string {
  const parts: string[] = [];
  if (m.bname !== null && m.bname !== undefined) parts.push('"bname":' + quote(m.bname, standard));
  parts.push('"currIdMap":' + writeIntKeyMap(m.currIdMap ?? {}, standard, (v) => num(v, standard)));
  parts.push('"dirty":' + (m.dirty ? 'true' : 'false'));
  parts.push('"epoch":' + num(m.epoch, standard));
  if (m.scope !== null && m.scope !== undefined) parts.push('"scope":' + quote(m.scope, standard));
  if (m.topic !== null && m.topic !== undefined) parts.push('"topic":' + quote(m.topic, standard));
  parts.push('"totalQueues":' + num(m.totalQueues, standard));
  return '{' + parts.join(',') + '}';
}

export function writeTopicRouteData(data: TopicRouteData, standard: boolean): string {
  let out = '{"brokerDatas":[';
  for (let i = 0; i < data.brokerDatas.length; i++) {
    if (i > 0) out += ',';
    out += writeBrokerData(data.brokerDatas[i]!, standard);
  }
  out +=
    '],"filterServerTable":' + writeStringMap(data.filterServerTable, standard, (l) => writeStringArray(l, standard));
  if (data.orderTopicConf !== null && data.orderTopicConf !== undefined) {
    out += ',"orderTopicConf":' + quote(data.orderTopicConf, standard);
  }
  out += ',"queueDatas":[';
  for (let i = 0; i < data.queueDatas.length; i++) {
    if (i > 0) out += ',';
    out += writeQueueData(data.queueDatas[i]!, standard);
  }
  out += ']';
  if (data.topicQueueMappingByBroker !== null && data.topicQueueMappingByBroker !== undefined) {
    out +=
      ',"topicQueueMappingByBroker":' +
      writeStringMap(data.topicQueueMappingByBroker, standard, (m) => writeTopicQueueMappingInfo(m, standard));
  }
  return out + '}';
}

/**
 * A string as a Buffer that owns its memory: small Buffer.from results are
 * slices of a shared 8 KiB pool, and a long-lived cache of them would pin pools.
 */
export function ownedUtf8(text: string): Buffer {
  const buf = Buffer.allocUnsafeSlow(Buffer.byteLength(text, 'utf8'));
  buf.write(text, 0, 'utf8');
  return buf;
}

/** GET_ROUTEINFO_BY_TOPIC's body. `standardJson` as ClientRequestProcessor decides it. */
export function encodeTopicRouteData(data: TopicRouteData, standardJson: boolean): Buffer {
  return Buffer.from(writeTopicRouteData(data, standardJson), 'utf8');
}

export function writeClusterInfo(info: ClusterInfo, standard: boolean): string {
  return (
    '{"brokerAddrTable":' +
    writeStringMap(info.brokerAddrTable, standard, (b) => writeBrokerData(b, standard)) +
    ',"clusterAddrTable":' +
    writeStringMap(info.clusterAddrTable, standard, (names) => writeStringArray(names, standard)) +
    '}'
  );
}

/**
 * GET_BROKER_CLUSTER_INFO's body. Java's DefaultRequestProcessor writes it with
 * `ClusterInfo.encode()` whatever the client's version (no standard-JSON
 * switch, unlike routes), so `standardJson` should be false to match Java.
 */
export function encodeClusterInfo(info: ClusterInfo, standardJson = false): Buffer {
  return Buffer.from(writeClusterInfo(info, standardJson), 'utf8');
}

/** TopicList.encode(): always fastjson's default style. */
export function encodeTopicList(list: TopicList): Buffer {
  let out = '{';
  if (list.brokerAddr !== null && list.brokerAddr !== undefined)
    out += '"brokerAddr":' + quote(list.brokerAddr, false) + ',';
  out += '"topicList":' + writeStringArray(list.topicList, false) + '}';
  return Buffer.from(out, 'utf8');
}

/** QUERY_DATA_VERSION's body: DataVersion.encode(). */
export function encodeDataVersion(v: DataVersion): Buffer {
  return Buffer.from(writeDataVersion(v, false), 'utf8');
}

/** GET_BROKER_MEMBER_GROUP's body: GetBrokerMemberGroupResponseBody.encode(). */
export function encodeBrokerMemberGroupBody(group: BrokerMemberGroup): Buffer {
  let inner = '{"brokerAddrs":' + writeIntKeyMap(group.brokerAddrs, false, (a) => quote(a, false));
  if (group.brokerName !== null && group.brokerName !== undefined)
    inner += ',"brokerName":' + quote(group.brokerName, false);
  if (group.cluster !== null && group.cluster !== undefined) inner += ',"cluster":' + quote(group.cluster, false);
  return Buffer.from('{"brokerMemberGroup":' + inner + '}}', 'utf8');
}

/**
 * TopicConfig as a broker's fastjson writes it inside a register body. 4.9.x
 * has no `attributes` field; 5.x always writes it (an empty map by default).
 */
export function writeTopicConfig(tc: TopicConfig, withAttributes: boolean): string {
  let out = '{';
  if (withAttributes) out += '"attributes":' + writeStringMap(tc.attributes ?? {}, false, (v) => quote(v, false)) + ',';
  out +=
    '"order":' +
    (tc.order ? 'true' : 'false') +
    ',"perm":' +
    num(tc.perm, false) +
    ',"readQueueNums":' +
    num(tc.readQueueNums, false) +
    ',"topicFilterType":' +
    quote(tc.topicFilterType, false);
  if (tc.topicName !== null && tc.topicName !== undefined) out += ',"topicName":' + quote(tc.topicName, false);
  return (
    out + ',"topicSysFlag":' + num(tc.topicSysFlag, false) + ',"writeQueueNums":' + num(tc.writeQueueNums, false) + '}'
  );
}

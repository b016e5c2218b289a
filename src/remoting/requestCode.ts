/**
 * Numeric codes of the RocketMQ remoting protocol that a name server sends,
 * receives or answers with. Values follow RequestCode.java, ResponseCode.java,
 * RemotingSysResponseCode.java, LanguageCode.java and MQVersion.java.
 */

export const RequestCode = {
  PUT_KV_CONFIG: 100,
  GET_KV_CONFIG: 101,
  DELETE_KV_CONFIG: 102,
  REGISTER_BROKER: 103,
  UNREGISTER_BROKER: 104,
  GET_ROUTEINFO_BY_TOPIC: 105,
  GET_BROKER_CLUSTER_INFO: 106,
  WIPE_WRITE_PERM_OF_BROKER: 205,
  GET_ALL_TOPIC_LIST_FROM_NAMESERVER: 206,
  DELETE_TOPIC_IN_NAMESRV: 216,
  REGISTER_TOPIC_IN_NAMESRV: 217,
  GET_KVLIST_BY_NAMESPACE: 219,
  GET_TOPICS_BY_CLUSTER: 224,
  GET_SYSTEM_TOPIC_LIST_FROM_NS: 304,
  GET_UNIT_TOPIC_LIST: 311,
  GET_HAS_UNIT_SUB_TOPIC_LIST: 312,
  GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST: 313,
  UPDATE_NAMESRV_CONFIG: 318,
  GET_NAMESRV_CONFIG: 319,
  QUERY_DATA_VERSION: 322,
  ADD_WRITE_PERM_OF_BROKER: 327,
  GET_BROKER_MEMBER_GROUP: 901,
  BROKER_HEARTBEAT: 904,
  /** Sent by the name server to the brokers of a group when its smallest broker id changes. */
  NOTIFY_MIN_BROKER_ID_CHANGE: 905,
} as const;

export const ResponseCode = {
  SUCCESS: 0,
  SYSTEM_ERROR: 1,
  SYSTEM_BUSY: 2,
  REQUEST_CODE_NOT_SUPPORTED: 3,
  TRANSACTION_FAILED: 4,
  SERVICE_NOT_AVAILABLE: 14,
  VERSION_NOT_SUPPORTED: 15,
  NO_PERMISSION: 16,
  TOPIC_NOT_EXIST: 17,
  TOPIC_EXIST_ALREADY: 18,
  QUERY_NOT_FOUND: 22,
  INVALID_PARAMETER: 29,
  BROKER_NOT_EXIST: 211,
  ILLEGAL_OPERATION: 604,
  GO_AWAY: 1500,
} as const;

function invert(table: Record<string, number>): Map<number, string> {
  const byCode = new Map<number, string>();
  for (const [name, code] of Object.entries(table)) byCode.set(code, name);
  return byCode;
}

const requestNamesByCode = invert(RequestCode);
const responseNamesByCode = invert(ResponseCode);

/** A stable label for logs and metrics; codes this server does not know keep their number. */
export function requestCodeName(code: number): string {
  return requestNamesByCode.get(code) ?? `UNKNOWN_${code}`;
}

export function responseCodeName(code: number): string {
  return responseNamesByCode.get(code) ?? `UNKNOWN_${code}`;
}

/** The client language a command declares: JSON headers carry the name, binary headers the number. */
export const LanguageCode = {
  JAVA: 0,
  CPP: 1,
  DOTNET: 2,
  PYTHON: 3,
  DELPHI: 4,
  ERLANG: 5,
  RUBY: 6,
  OTHER: 7,
  HTTP: 8,
  GO: 9,
  PHP: 10,
  OMS: 11,
  RUST: 12,
  NODE_JS: 13,
} as const;

export type LanguageName = keyof typeof LanguageCode;

const languageNamesByCode = invert(LanguageCode);

export function languageCodeOf(name: string): number | undefined {
  return Object.prototype.hasOwnProperty.call(LanguageCode, name) ? LanguageCode[name as LanguageName] : undefined;
}

export function languageNameOf(code: number): string | undefined {
  return languageNamesByCode.get(code);
}

/**
 * Ordinals of MQVersion.Version: every command's `version` field carries the
 * sender's ordinal, and behaviour switches on comparisons against these.
 */
export const MQVersion = {
  /** Senders older than this send a bare TopicConfigSerializeWrapper as the registration body. */
  V3_0_11: 37,
  /** From this version on, clients accept standard JSON route data. */
  V4_9_4: 401,
  V4_9_8: 409,
  V5_3_3: 479,
  /** What this server puts in its own commands: the Java server it stands in for. */
  CURRENT: 479,
} as const;

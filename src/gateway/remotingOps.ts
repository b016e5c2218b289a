import { createRequest, type RemotingCommand } from '../remoting/command.js';
import { MQVersion, RequestCode, ResponseCode, responseCodeName } from '../remoting/requestCode.js';
import type { RemotingConnection } from '../remoting/server.js';
import { formatProperties } from '../config/properties.js';
import { encodeRegisterBrokerBody } from '../protocol/registerBody.js';
import { parseFastjsonText } from '../protocol/fastjsonParser.js';
import type { DataVersion, TopicConfig } from '../protocol/types.js';
import { readFields, RequestError, type ClientRequest, type FieldSpec, type FieldsOf } from './protocol.js';

/**
 * Gateway ops answered by the name server's own request processors: each
 * builds the RemotingCommand a TCP client would send and reads the result
 * out of the processor's response, so both surfaces share one implementation.
 */
export interface RemotingOp {
  /** Control ops need the gateway token; reads do not. */
  kind: 'read' | 'control';
  code: number;
  /** Throws bad_request before anything runs. */
  build(fields: ClientRequest['fields']): { extFields: Record<string, string>; body?: Buffer };
  result(response: RemotingCommand): unknown;
}

interface OpDefinition<S extends FieldSpec> {
  kind: 'read' | 'control';
  code: number;
  fields: S;
  /** Default: every given field, as text (the remoting header carries strings only). */
  extFields?: (fields: FieldsOf<S>) => Record<string, string>;
  body?: (fields: FieldsOf<S>) => Buffer;
  result?: (response: RemotingCommand) => unknown;
}

function defineOp<S extends FieldSpec>(definition: OpDefinition<S>): RemotingOp {
  return {
    kind: definition.kind,
    code: definition.code,
    build(raw) {
      const fields = readFields(raw, definition.fields);
      const extFields = definition.extFields ? definition.extFields(fields) : headerText(fields);
      return { extFields, body: definition.body?.(fields) };
    },
    result: definition.result ?? (() => ({})),
  };
}

function headerText(fields: object): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) out[name] = String(value);
  return out;
}

function jsonBody(response: RemotingCommand): unknown {
  if (!response.body || response.body.length === 0) return null;
  const parsed = parseFastjsonText(response.body.toString('utf8'));
  if (!parsed.ok) throw new RequestError('internal_error', `response body is not JSON: ${parsed.error}`);
  return parsed.value;
}

function headerFields(...names: string[]): (response: RemotingCommand) => Record<string, string> {
  return (response) => {
    const out: Record<string, string> = {};
    for (const name of names) {
      const value = response.extFields?.[name];
      if (value !== undefined) out[name] = value;
    }
    return out;
  };
}

function countField(name: string): (response: RemotingCommand) => Record<string, number> {
  return (response) => ({ [name]: Number(response.extFields?.[name] ?? 0) });
}

const routeResult = (response: RemotingCommand) => ({ route: jsonBody(response) });

export const REMOTING_OPS: Readonly<Record<string, RemotingOp>> = {
  // ---- reads --------------------------------------------------------------
  getRoute: defineOp({
    kind: 'read',
    code: RequestCode.GET_ROUTEINFO_BY_TOPIC,
    fields: { topic: 'string' },
    extFields: ({ topic }) => ({ topic, acceptStandardJsonOnly: 'true' }),
    result: routeResult,
  }),
  getClusterInfo: defineOp({ kind: 'read', code: RequestCode.GET_BROKER_CLUSTER_INFO, fields: {}, result: jsonBody }),
  getAllTopics: defineOp({
    kind: 'read',
    code: RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER,
    fields: {},
    result: jsonBody,
  }),
  getTopicsByCluster: defineOp({
    kind: 'read',
    code: RequestCode.GET_TOPICS_BY_CLUSTER,
    fields: { cluster: 'string' },
    result: jsonBody,
  }),
  getSystemTopics: defineOp({
    kind: 'read',
    code: RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_NS,
    fields: {},
    result: jsonBody,
  }),
  getUnitTopics: defineOp({ kind: 'read', code: RequestCode.GET_UNIT_TOPIC_LIST, fields: {}, result: jsonBody }),
  getHasUnitSubTopics: defineOp({
    kind: 'read',
    code: RequestCode.GET_HAS_UNIT_SUB_TOPIC_LIST,
    fields: {},
    result: jsonBody,
  }),
  getHasUnitSubUnUnitTopics: defineOp({
    kind: 'read',
    code: RequestCode.GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST,
    fields: {},
    result: jsonBody,
  }),
  getKv: defineOp({
    kind: 'read',
    code: RequestCode.GET_KV_CONFIG,
    fields: { namespace: 'string', key: 'string' },
    result: headerFields('value'),
  }),
  getKvList: defineOp({
    kind: 'read',
    code: RequestCode.GET_KVLIST_BY_NAMESPACE,
    fields: { namespace: 'string' },
    result: jsonBody,
  }),

  // ---- control ------------------------------------------------------------
  wipeWritePerm: defineOp({
    kind: 'control',
    code: RequestCode.WIPE_WRITE_PERM_OF_BROKER,
    fields: { brokerName: 'string' },
    result: countField('wipeTopicCount'),
  }),
  addWritePerm: defineOp({
    kind: 'control',
    code: RequestCode.ADD_WRITE_PERM_OF_BROKER,
    fields: { brokerName: 'string' },
    result: countField('addTopicCount'),
  }),
  deleteTopic: defineOp({
    kind: 'control',
    code: RequestCode.DELETE_TOPIC_IN_NAMESRV,
    fields: { topic: 'string', clusterName: 'string?' },
  }),
  putKv: defineOp({
    kind: 'control',
    code: RequestCode.PUT_KV_CONFIG,
    fields: { namespace: 'string', key: 'string', value: 'string' },
  }),
  deleteKv: defineOp({
    kind: 'control',
    code: RequestCode.DELETE_KV_CONFIG,
    fields: { namespace: 'string', key: 'string' },
  }),
  updateConfig: defineOp({
    kind: 'control',
    code: RequestCode.UPDATE_NAMESRV_CONFIG,
    fields: { config: 'object' },
    extFields: () => ({}),
    body: ({ config }) => Buffer.from(formatProperties(configEntries(config)), 'utf8'),
  }),
  registerBroker: defineOp({
    kind: 'control',
    code: RequestCode.REGISTER_BROKER,
    fields: {
      clusterName: 'string',
      brokerName: 'string',
      brokerAddr: 'string',
      brokerId: 'integer?',
      haServerAddr: 'string?',
      heartbeatTimeoutMillis: 'integer?',
      enableActingMaster: 'boolean?',
      zoneName: 'string?',
      dataVersion: 'object',
      topics: 'object',
    },
    extFields: (f) => {
      const header: Record<string, string> = {
        clusterName: f.clusterName,
        brokerName: f.brokerName,
        brokerAddr: f.brokerAddr,
        brokerId: String(f.brokerId ?? 0),
        haServerAddr: f.haServerAddr ?? '',
        compressed: 'false',
        // 0 = not checked: the body is built here, not carried over a wire.
        bodyCrc32: '0',
      };
      if (f.heartbeatTimeoutMillis !== undefined) header.heartbeatTimeoutMillis = String(f.heartbeatTimeoutMillis);
      if (f.enableActingMaster !== undefined) header.enableActingMaster = String(f.enableActingMaster);
      if (f.zoneName !== undefined) header.zoneName = f.zoneName;
      return header;
    },
    body: (f) =>
      encodeRegisterBrokerBody(
        {
          topicConfigSerializeWrapper: {
            topicConfigTable: topicConfigsOf(f.topics),
            dataVersion: dataVersionOf(f.dataVersion),
          },
          filterServerList: [],
        },
        { compressed: false, generation: '5.x' },
      ),
    result: headerFields('haServerAddr', 'masterAddr'),
  }),
  unregisterBroker: defineOp({
    kind: 'control',
    code: RequestCode.UNREGISTER_BROKER,
    fields: { clusterName: 'string', brokerName: 'string', brokerAddr: 'string', brokerId: 'integer' },
  }),
  brokerHeartbeat: defineOp({
    kind: 'control',
    code: RequestCode.BROKER_HEARTBEAT,
    fields: { clusterName: 'string', brokerName: 'string', brokerAddr: 'string' },
  }),
};

/**
 * Runs a remoting op for a gateway client. `adminToken` is the server's own,
 * added to control requests: the gateway has already authorized them with the
 * gateway token, and the remoting surface's admin check must not refuse them again.
 */
export async function runRemotingOp(
  op: RemotingOp,
  fields: ClientRequest['fields'],
  target: {
    invokeProcessor(request: RemotingCommand, connection: RemotingConnection): Promise<RemotingCommand>;
    connection: RemotingConnection;
    adminToken: string;
  },
): Promise<unknown> {
  const { extFields, body } = op.build(fields);
  if (op.kind === 'control' && target.adminToken !== '') extFields.adminToken = target.adminToken;
  const request = createRequest(op.code, extFields, body ?? null, { language: 'OTHER', version: MQVersion.CURRENT });
  const response = await target.invokeProcessor(request, target.connection);
  if (response.code !== ResponseCode.SUCCESS) {
    throw new RequestError('remoting_error', response.remark || responseCodeName(response.code), {
      remotingCode: response.code,
      remotingCodeName: responseCodeName(response.code),
    });
  }
  return op.result(response);
}

function configEntries(config: Record<string, unknown>): Array<[string, string]> {
  return Object.entries(config).map(([key, value]) => {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new RequestError('bad_request', `config.${key} must be a string, number or boolean`);
    }
    return [key, String(value)];
  });
}

function dataVersionOf(value: Record<string, unknown>): DataVersion {
  const integer = (name: string, optional: boolean): number | undefined => {
    const field = value[name];
    if (field === undefined && optional) return undefined;
    if (typeof field !== 'number' || !Number.isSafeInteger(field)) {
      throw new RequestError('bad_request', `dataVersion.${name} must be an integer`);
    }
    return field;
  };
  const version: DataVersion = { counter: integer('counter', false)!, timestamp: integer('timestamp', false)! };
  const stateVersion = integer('stateVersion', true);
  if (stateVersion !== undefined) version.stateVersion = stateVersion;
  return version;
}

/** TopicConfig.java's defaults: 16 read and 16 write queues, read-write. */
const TOPIC_DEFAULTS = { readQueueNums: 16, writeQueueNums: 16, perm: 6, topicSysFlag: 0 } as const;

function topicConfigsOf(topics: Record<string, unknown>): Map<string, TopicConfig> {
  const table = new Map<string, TopicConfig>();
  for (const [name, raw] of Object.entries(topics)) {
    if (name === '') throw new RequestError('bad_request', 'topic names must not be empty');
    const given = raw === null || raw === undefined ? {} : raw;
    if (typeof given !== 'object' || Array.isArray(given)) {
      throw new RequestError('bad_request', `topics.${name} must be a JSON object (queue counts, perm, ...)`);
    }
    const fields = given as Record<string, unknown>;
    const integer = (field: keyof typeof TOPIC_DEFAULTS): number => {
      const value = fields[field] ?? TOPIC_DEFAULTS[field];
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
        throw new RequestError('bad_request', `topics.${name}.${field} must be a non-negative integer`);
      }
      return value;
    };
    const filterType = fields.topicFilterType ?? 'SINGLE_TAG';
    if (filterType !== 'SINGLE_TAG' && filterType !== 'MULTI_TAG') {
      throw new RequestError('bad_request', `topics.${name}.topicFilterType must be SINGLE_TAG or MULTI_TAG`);
    }
    const order = fields.order ?? false;
    if (typeof order !== 'boolean') throw new RequestError('bad_request', `topics.${name}.order must be true or false`);
    table.set(name, {
      topicName: name,
      readQueueNums: integer('readQueueNums'),
      writeQueueNums: integer('writeQueueNums'),
      perm: integer('perm'),
      topicFilterType: filterType,
      topicSysFlag: integer('topicSysFlag'),
      order,
      attributes: {},
    });
  }
  return table;
}

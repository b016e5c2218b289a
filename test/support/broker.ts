import { zlib } from './zlibShim.js';
import { encodeRegisterBrokerBody } from '../../src/protocol/registerBody.js';
import { parseFastjsonText } from '../../src/protocol/fastjsonParser.js';
import type { TopicConfig } from '../../src/protocol/types.js';
import type { RemotingClient } from '../../src/remoting/client.js';
import type { RemotingCommand } from '../../src/remoting/command.js';
import { RequestCode } from '../../src/remoting/requestCode.js';

export interface TestBroker {
  clusterName?: string;
  brokerName: string;
  brokerAddr: string;
  brokerId?: number;
  haServerAddr?: string;
  /**
   * topic -> queue counts and perm (defaults: 4 queues, perm 6). A topic named
   * "__proto__" needs a Map or a record with it as an own key (Object.fromEntries):
   * in an object literal `__proto__: {}` sets the prototype instead.
   */
  topics?: Record<string, Partial<TopicConfig>> | ReadonlyMap<string, Partial<TopicConfig>>;
  dataVersion?: { timestamp: number; counter: number; stateVersion?: number };
  heartbeatTimeoutMillis?: number;
  compressed?: boolean;
  enableActingMaster?: boolean;
  filterServerList?: string[];
}

export function topicConfig(name: string, overrides: Partial<TopicConfig> = {}): TopicConfig {
  return {
    topicName: name,
    readQueueNums: 4,
    writeQueueNums: 4,
    perm: 6,
    topicFilterType: 'SINGLE_TAG',
    topicSysFlag: 0,
    order: false,
    ...overrides,
  };
}

/** The REGISTER_BROKER request a RocketMQ broker sends, with bodyCrc32 as the Java broker computes it. */
export function registerBrokerRequest(broker: TestBroker): { extFields: Record<string, string>; body: Buffer } {
  // A Map: every legal topic name is a key, "__proto__" and "constructor" too.
  const topics = broker.topics instanceof Map ? [...broker.topics] : Object.entries(broker.topics ?? {});
  const topicConfigTable = new Map(topics.map(([name, overrides]) => [name, topicConfig(name, overrides)]));
  const body = encodeRegisterBrokerBody(
    {
      topicConfigSerializeWrapper: {
        topicConfigTable,
        dataVersion: broker.dataVersion ?? { timestamp: 1, counter: 1 },
      },
      filterServerList: broker.filterServerList ?? [],
    },
    { compressed: broker.compressed ?? false },
  );
  const extFields: Record<string, string> = {
    brokerName: broker.brokerName,
    brokerAddr: broker.brokerAddr,
    clusterName: broker.clusterName ?? 'DefaultCluster',
    haServerAddr: broker.haServerAddr ?? broker.brokerAddr.replace(/:(\d+)$/, (_, p) => `:${Number(p) + 1}`),
    brokerId: String(broker.brokerId ?? 0),
    compressed: String(broker.compressed ?? false),
    bodyCrc32: String(zlib.crc32(body) & 0x7fffffff),
  };
  if (broker.heartbeatTimeoutMillis !== undefined)
    extFields.heartbeatTimeoutMillis = String(broker.heartbeatTimeoutMillis);
  if (broker.enableActingMaster !== undefined) extFields.enableActingMaster = String(broker.enableActingMaster);
  return { extFields, body };
}

export function registerBroker(client: RemotingClient, broker: TestBroker): Promise<RemotingCommand> {
  const { extFields, body } = registerBrokerRequest(broker);
  return client.invoke(RequestCode.REGISTER_BROKER, extFields, body);
}

export function getRoute(
  client: RemotingClient,
  topic: string,
  extra: Record<string, string> = {},
): Promise<RemotingCommand> {
  return client.invoke(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic, ...extra });
}

export async function clusterInfo(
  client: RemotingClient,
): Promise<{ brokerAddrTable: Record<string, any>; clusterAddrTable: Record<string, string[]> }> {
  const response = await client.invoke(RequestCode.GET_BROKER_CLUSTER_INFO);
  const parsed = parseFastjsonText(response.body!.toString('utf8'));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value as { brokerAddrTable: Record<string, any>; clusterAddrTable: Record<string, string[]> };
}

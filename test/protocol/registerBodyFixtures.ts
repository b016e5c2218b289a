import { decodeRegisterBrokerBody, type RegisterBrokerBodyInput } from '../../src/protocol/registerBody.js';
import type { RegisterBrokerBody, TopicConfig } from '../../src/protocol/types.js';
import { topicConfig } from '../support/broker.js';
import { routeFixture } from '../support/routeFixtures.js';

/** Bodies and helpers shared by the register-body codec's tests (registerBody, registerBodyPeek). */
export const header = (name: string): { extFields: Record<string, string>; version: number } =>
  JSON.parse(routeFixture(name).toString('utf8'));

export const GOLDEN = [
  'register_broker.request',
  'register_broker_incremental_after_updateTopic.request',
  'register_broker_periodic_30s.request',
];

/** A topic with eight queues unless `extra` says otherwise. */
export function topic(name: string, extra: Partial<TopicConfig> = {}): TopicConfig {
  return topicConfig(name, { readQueueNums: 8, writeQueueNums: 8, ...extra });
}

export function body(
  topics: TopicConfig[],
  extra: Partial<RegisterBrokerBodyInput['topicConfigSerializeWrapper']> = {},
): RegisterBrokerBodyInput {
  return {
    topicConfigSerializeWrapper: {
      topicConfigTable: new Map(topics.map((t) => [t.topicName, t])),
      dataVersion: { counter: 3, timestamp: 1700000000123 },
      ...extra,
    },
    filterServerList: [],
  };
}

export function mustDecode(buf: Buffer, compressed: boolean, clientVersion?: number): RegisterBrokerBody {
  const result = decodeRegisterBrokerBody(buf, compressed, clientVersion === undefined ? {} : { clientVersion });
  if (!result.ok) throw new Error(result.error);
  return result.value;
}

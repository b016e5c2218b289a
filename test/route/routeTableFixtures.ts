import { expect } from 'vitest';
import { encodeTopicRouteData } from '../../src/protocol/fastjsonWriter.js';
import { encodeRegisterBrokerBody } from '../../src/protocol/registerBody.js';
import type { DataVersion, TopicConfig, TopicQueueMappingInfo } from '../../src/protocol/types.js';
import type { BrokerEntry, RouteData } from '../../src/route/routeData.js';
import { RouteTable, type RegisterBrokerInput, type RouteTableOptions } from '../../src/route/routeTable.js';

// Bodies, inputs and checks shared by the route table's module tests.

/** A topic's config, 4 queues and perm 6 unless overridden (short: the module tests write many). */
export { topicConfig as tc } from '../support/broker.js';

export interface BodyOptions {
  topics: TopicConfig[];
  dataVersion: DataVersion;
  filterServerList?: string[] | null;
  mappings?: TopicQueueMappingInfo[];
  compressed?: boolean;
  generation?: '4.9' | '5.x';
}

export function makeBody(o: BodyOptions): Buffer {
  return encodeRegisterBrokerBody(
    {
      topicConfigSerializeWrapper: {
        topicConfigTable: new Map(o.topics.map((t) => [t.topicName, t])),
        dataVersion: o.dataVersion,
        ...(o.mappings ? { topicQueueMappingInfoMap: new Map(o.mappings.map((m) => [m.topic!, m])) } : {}),
      },
      filterServerList: o.filterServerList === undefined ? [] : o.filterServerList,
    },
    { compressed: o.compressed ?? false, generation: o.generation ?? '5.x' },
  );
}

export function input(overrides: Partial<RegisterBrokerInput> & { body: Buffer | undefined }): RegisterBrokerInput {
  return {
    clusterName: 'c1',
    brokerAddr: '10.0.0.1:10911',
    brokerName: 'broker-a',
    brokerId: 0,
    haServerAddr: '10.0.0.1:10912',
    enableActingMaster: false,
    connectionId: 1,
    now: 1000,
    clientVersion: 413,
    compressed: false,
    bodyCrc32: 0,
    ...overrides,
  };
}

export const DV1: DataVersion = { counter: 1, stateVersion: 0, timestamp: 111 };
export const DV2: DataVersion = { counter: 2, stateVersion: 0, timestamp: 222 };

export function newTable(options: Partial<RouteTableOptions> = {}): RouteTable {
  return new RouteTable({ supportActingMaster: true, deleteTopicWithBrokerRegistration: false, ...options });
}

/** Every cached route equals a fresh encoding of the current table. */
export function expectCacheCoherent(table: RouteTable): void {
  for (const topic of table.getAllTopicList().topicList) {
    for (const standard of [false, true]) {
      const cached = table.pickupTopicRoute(topic, standard);
      const data = table.pickupTopicRouteData(topic);
      if (!data) {
        expect(cached).toBeUndefined();
        continue;
      }
      expect(cached?.toString('utf8')).toBe(encodeTopicRouteData(data, standard).toString('utf8'));
    }
  }
}

export function warm(table: RouteTable, topics: string[]): Map<string, Buffer | undefined> {
  const out = new Map<string, Buffer | undefined>();
  for (const t of topics) {
    out.set(t, table.pickupTopicRoute(t, true));
    table.pickupTopicRoute(t, false);
  }
  return out;
}

/** A broker name registered under `cluster` with `addrs` (id -> address), as registration would leave it. */
export function addBroker(
  data: RouteData,
  cluster: string,
  brokerName: string,
  addrs: Record<number, string>,
): BrokerEntry {
  const entry: BrokerEntry = {
    cluster,
    brokerName,
    addrs: new Map(Object.entries(addrs).map(([id, addr]) => [Number(id), addr])),
    zoneName: undefined,
    enableActingMaster: false,
    topicSyncAddr: undefined,
    fragments: undefined,
  };
  data.brokers.set(brokerName, entry);
  const names = data.clusters.get(cluster) ?? new Set<string>();
  names.add(brokerName);
  data.clusters.set(cluster, names);
  return entry;
}

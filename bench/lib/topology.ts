/**
 * The benchmark topology, after the Java NameServer benchmark: C clusters of
 * B master brokers, each broker carrying N topics, each topic carried by R
 * brokers (consecutive broker indexes, so a topic may span two clusters).
 *
 *   reads:  4 clusters x 8 brokers x 10,000 topics -> 40,000 topics, 8 brokers each
 *   storm: 30 clusters x 10 brokers x 10,000 topics -> 375,000 topics, 8 brokers each
 */
import { crc32 } from 'node:zlib';
import { encodeRegisterBrokerBody } from '../../src/protocol/registerBody.js';
import type { TopicConfig } from '../../src/protocol/types.js';

export interface Topology {
  clusters: number;
  brokersPerCluster: number;
  topicsPerBroker: number;
  /** brokers per topic */
  replication: number;
  /** Added to broker indexes and topic indexes, so two topologies can be disjoint. */
  brokerOffset?: number;
  topicPrefix?: string;
}

export interface BrokerSpec {
  index: number;
  clusterName: string;
  brokerName: string;
  brokerAddr: string;
  haServerAddr: string;
}

export const READ_TOPOLOGY: Topology = { clusters: 4, brokersPerCluster: 8, topicsPerBroker: 10_000, replication: 8 };
export const STORM_TOPOLOGY: Topology = {
  clusters: 30,
  brokersPerCluster: 10,
  topicsPerBroker: 10_000,
  replication: 8,
};

export function brokerCount(t: Topology): number {
  return t.clusters * t.brokersPerCluster;
}

export function topicCount(t: Topology): number {
  return Math.ceil((brokerCount(t) * t.topicsPerBroker) / t.replication);
}

export function entryCount(t: Topology): number {
  return brokerCount(t) * t.topicsPerBroker;
}

export function topicName(t: Topology, i: number): string {
  return `${t.topicPrefix ?? 'BenchTopic_'}${String(i).padStart(6, '0')}`;
}

export function brokers(t: Topology): BrokerSpec[] {
  const out: BrokerSpec[] = [];
  const offset = t.brokerOffset ?? 0;
  for (let c = 0; c < t.clusters; c++) {
    for (let j = 0; j < t.brokersPerCluster; j++) {
      const index = c * t.brokersPerCluster + j;
      const g = index + offset;
      const host = `10.${(g >> 16) & 255}.${(g >> 8) & 255}.${g & 255}`;
      out.push({
        index,
        clusterName: `BenchCluster-${String(c + Math.floor(offset / t.brokersPerCluster)).padStart(2, '0')}`,
        brokerName: `broker-${String(g).padStart(4, '0')}`,
        brokerAddr: `${host}:10911`,
        haServerAddr: `${host}:10912`,
      });
    }
  }
  return out;
}

/** Topic indexes of broker `b`: R brokers in a row share each topic. */
export function topicIndexesOf(t: Topology, b: number): number[] {
  const total = topicCount(t);
  const stride = Math.max(1, Math.floor(t.topicsPerBroker / t.replication));
  const out: number[] = [];
  for (let k = 0; k < t.topicsPerBroker; k++) out.push((b * stride + k) % total);
  return out;
}

export interface RegisterRequest {
  extFields: Record<string, string>;
  body: Buffer;
}

/**
 * The REGISTER_BROKER request a 4.9.8 master broker sends. `counter` is its
 * DataVersion counter; `tweak` changes one topic's write queue count, as an
 * updateTopic on the broker would.
 */
export function registerRequest(
  t: Topology,
  broker: BrokerSpec,
  options: { counter: number; compressed?: boolean; tweak?: boolean; generation?: '4.9' | '5.x' },
): RegisterRequest {
  const table = new Map<string, TopicConfig>();
  const indexes = topicIndexesOf(t, broker.index);
  for (let k = 0; k < indexes.length; k++) {
    const name = topicName(t, indexes[k]!);
    table.set(name, {
      topicName: name,
      readQueueNums: 8,
      writeQueueNums: options.tweak && k === 0 ? 7 : 8,
      perm: 6,
      topicFilterType: 'SINGLE_TAG',
      topicSysFlag: 0,
      order: false,
    });
  }
  const body = encodeRegisterBrokerBody(
    {
      topicConfigSerializeWrapper: {
        topicConfigTable: table,
        dataVersion: { counter: options.counter, timestamp: 1_700_000_000_000 + broker.index },
      },
      filterServerList: [],
    },
    { compressed: options.compressed ?? false, generation: options.generation ?? '4.9' },
  );
  return {
    body,
    extFields: {
      brokerName: broker.brokerName,
      brokerAddr: broker.brokerAddr,
      clusterName: broker.clusterName,
      haServerAddr: broker.haServerAddr,
      brokerId: '0',
      compressed: String(options.compressed ?? false),
      bodyCrc32: String(crc32(body) & 0x7fffffff),
    },
  };
}

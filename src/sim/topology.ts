import { PermName, type TopicConfig } from '../protocol/types.js';

/**
 * Which brokers a simulation runs: clusters x broker names x replicas, each
 * with a fake but well-formed address. Nothing listens on these addresses;
 * the simulator only talks to name servers.
 */
export interface TopologyOptions {
  clusters: number;
  /** Broker names (master/slave groups) per cluster. */
  brokers: number;
  /** Instances per broker name: one master (id 0) and replicas - 1 slaves (ids 1..). */
  replicas: number;
  /** Topics per broker, shared by every broker: SimTopic-0 .. SimTopic-(n-1). */
  topics: number;
  /** Read and write queues of each SimTopic. */
  queues: number;
  /** First broker's port; instance i gets basePort + 2 * (i mod 1000) on 127.0.<i div 1000>.1. */
  basePort?: number;
}

export interface BrokerSpec {
  /** Position in cluster-major, broker, replica order. */
  index: number;
  clusterName: string;
  brokerName: string;
  brokerId: number;
  brokerAddr: string;
  haServerAddr: string;
}

export const DEFAULT_BASE_PORT = 20911;
export const TOPIC_PREFIX = 'SimTopic-';
const PER_HOST = 1000;

export function clusterNameOf(c: number): string {
  return `SimCluster-${c}`;
}

export function brokerNameOf(c: number, b: number): string {
  return `broker-${c}-${b}`;
}

export function brokerAddrOf(
  index: number,
  basePort = DEFAULT_BASE_PORT,
): { brokerAddr: string; haServerAddr: string } {
  const host = `127.0.${Math.floor(index / PER_HOST) % 256}.1`;
  const port = basePort + 2 * (index % PER_HOST);
  return { brokerAddr: `${host}:${port}`, haServerAddr: `${host}:${port + 1}` };
}

/** Every instance, masters and slaves, in cluster-major order. */
export function buildTopology(options: TopologyOptions): BrokerSpec[] {
  const specs: BrokerSpec[] = [];
  let index = 0;
  for (let c = 0; c < options.clusters; c++) {
    for (let b = 0; b < options.brokers; b++) {
      for (let r = 0; r < options.replicas; r++) {
        specs.push({
          index,
          clusterName: clusterNameOf(c),
          brokerName: brokerNameOf(c, b),
          brokerId: r,
          ...brokerAddrOf(index, options.basePort),
        });
        index++;
      }
    }
  }
  return specs;
}

function topic(name: string, queues: number, perm: number): TopicConfig {
  return {
    topicName: name,
    readQueueNums: queues,
    writeQueueNums: queues,
    perm,
    topicFilterType: 'SINGLE_TAG',
    topicSysFlag: 0,
    order: false,
  };
}

/**
 * The topics a broker registers. Like a real broker it also registers a topic
 * named after its cluster and one named after itself (TopicConfigManager's
 * system topics, perm inherit + read + write), so a registration always
 * carries at least two topics.
 */
export function initialTopics(
  spec: BrokerSpec,
  options: Pick<TopologyOptions, 'topics' | 'queues'>,
): Map<string, TopicConfig> {
  const rw = PermName.PERM_READ | PermName.PERM_WRITE;
  const table = new Map<string, TopicConfig>();
  table.set(spec.clusterName, topic(spec.clusterName, 16, rw | PermName.PERM_INHERIT));
  table.set(spec.brokerName, topic(spec.brokerName, 1, rw | PermName.PERM_INHERIT));
  for (let i = 0; i < options.topics; i++)
    table.set(`${TOPIC_PREFIX}${i}`, topic(`${TOPIC_PREFIX}${i}`, options.queues, rw));
  return table;
}

/** The topic a DataVersion bump adds: one per bump, named after the broker. */
export function bumpTopicName(brokerName: string, bump: number): string {
  return `SimBump-${brokerName}-${bump}`;
}

export function newBumpTopic(brokerName: string, bump: number, queues: number): TopicConfig {
  return topic(bumpTopicName(brokerName, bump), queues, PermName.PERM_READ | PermName.PERM_WRITE);
}

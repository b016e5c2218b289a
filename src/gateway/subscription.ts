import { isStreamName, RequestError, STREAM_NAMES, type StreamName } from './protocol.js';
import type { StreamEntry } from './stream.js';

/** What a broker transition is filtered on. */
export interface BrokerKeys {
  clusterName: string;
  brokerName: string;
  brokerAddr: string;
}

/** One subscribe or unsubscribe: lists to add to (or take from) the subscription. */
export interface SubscriptionChange {
  streams: StreamName[];
  clusters: string[];
  /** Broker names or broker addresses. */
  brokers: string[];
  topics: string[];
}

export interface SubscriptionView {
  streams: StreamName[];
  clusters: string[];
  brokers: string[];
  topics: string[];
}

export const DEFAULT_STREAMS: readonly StreamName[] = ['lifecycle', 'brokers'];

/**
 * What one client receives. Streams switch whole kinds of message on or off;
 * cluster and broker filters narrow broker transitions (none = every broker);
 * route messages come only for the topics listed.
 */
export class Subscription {
  private readonly streams: Set<StreamName>;
  private readonly clusters = new Set<string>();
  private readonly brokers = new Set<string>();
  private readonly topics = new Set<string>();

  constructor(streams: readonly StreamName[] = DEFAULT_STREAMS) {
    this.streams = new Set(streams);
  }

  /** Cluster, broker and topic filters held: what the per-client limit counts. */
  get filterCount(): number {
    return this.clusters.size + this.brokers.size + this.topics.size;
  }

  /** How many filters `change` would add that are not held yet. */
  growthOf(change: SubscriptionChange): number {
    const fresh = (held: Set<string>, items: string[]) => new Set(items.filter((item) => !held.has(item))).size;
    return (
      fresh(this.clusters, change.clusters) + fresh(this.brokers, change.brokers) + fresh(this.topics, change.topics)
    );
  }

  /** Adds the change; topics imply the routes stream. Returns the topics that are new. */
  add(change: SubscriptionChange): string[] {
    for (const stream of change.streams) this.streams.add(stream);
    for (const cluster of change.clusters) this.clusters.add(cluster);
    for (const broker of change.brokers) this.brokers.add(broker);
    const added: string[] = [];
    for (const topic of change.topics) {
      if (this.topics.has(topic)) continue;
      this.topics.add(topic);
      added.push(topic);
    }
    if (change.topics.length > 0) this.streams.add('routes');
    return added;
  }

  /** Takes the change away. Returns the topics no longer held. */
  remove(change: SubscriptionChange): string[] {
    for (const stream of change.streams) this.streams.delete(stream);
    for (const cluster of change.clusters) this.clusters.delete(cluster);
    for (const broker of change.brokers) this.brokers.delete(broker);
    return change.topics.filter((topic) => this.topics.delete(topic));
  }

  topicList(): string[] {
    return [...this.topics];
  }

  wantsStream(stream: StreamName): boolean {
    return this.streams.has(stream);
  }

  acceptsBroker(broker: BrokerKeys): boolean {
    if (this.clusters.size === 0 && this.brokers.size === 0) return true;
    return (
      this.clusters.has(broker.clusterName) ||
      this.brokers.has(broker.brokerName) ||
      this.brokers.has(broker.brokerAddr)
    );
  }

  accepts(entry: StreamEntry): boolean {
    if (!this.streams.has(entry.stream)) return false;
    if (entry.topic !== undefined) return this.topics.has(entry.topic);
    if (entry.broker !== undefined) return this.acceptsBroker(entry.broker);
    return true;
  }

  view(): SubscriptionView {
    return {
      streams: STREAM_NAMES.filter((stream) => this.streams.has(stream)),
      clusters: [...this.clusters],
      brokers: [...this.brokers],
      topics: [...this.topics],
    };
  }
}

/** A subscribe or unsubscribe op's fields; throws bad_request on anything malformed. */
export function readSubscriptionChange(fields: Readonly<Record<string, unknown>>): SubscriptionChange {
  const list = (name: string): string[] => {
    const value = fields[name];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item !== '')) {
      throw new RequestError('bad_request', `field "${name}" must be an array of non-empty strings`);
    }
    return value as string[];
  };
  const streams = list('streams');
  const unknown = streams.find((stream) => !isStreamName(stream));
  if (unknown !== undefined) {
    throw new RequestError('bad_request', `unknown stream "${unknown}" (streams: ${STREAM_NAMES.join(', ')})`);
  }
  const change = {
    streams: streams as StreamName[],
    clusters: list('clusters'),
    brokers: list('brokers'),
    topics: list('topics'),
  };
  if (Object.values(change).every((items) => items.length === 0)) {
    throw new RequestError('bad_request', 'name at least one of "streams", "clusters", "brokers" or "topics"');
  }
  return change;
}

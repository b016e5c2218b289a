import type { Transition } from '../observe/transitions.js';
import type { RouteChange } from '../route/routeTable.js';
import type { StreamName } from './protocol.js';
import { ReplayBuffer, type ReplayResult } from './replayBuffer.js';
import type { BrokerKeys } from './subscription.js';

/** One stream message: what filters look at, and its text, serialized once for every recipient. */
export interface StreamEntry {
  seq: number;
  stream: StreamName;
  /** Route messages only. */
  topic?: string;
  /** Broker transitions only. */
  broker?: BrokerKeys;
  text: string;
}

export interface StreamSink {
  accepts(entry: StreamEntry): boolean;
  deliver(entry: StreamEntry): void;
}

/** Where the stream's events come from; the gateway wires these to the name server. */
export interface StreamSources {
  onTransition(listener: (transition: Transition) => void): () => void;
  onRouteChange(listener: (change: RouteChange) => void): () => void;
  /** Whether the name server serves routes now (its snapshot's `servingRoutes` tag). */
  servingRoutes(): boolean;
  /** A topic's TopicRouteData as standard JSON, or undefined when the topic has no route. */
  encodedRoute(topic: string): string | undefined;
  now(): number;
}

/** Why a route was pushed: the route table's cause, or `subscribe` for a topic first watched while routes were held. */
export type RouteCause = RouteChange['cause'] | 'subscribe';

/**
 * The gateway's one ordered stream: every actor transition and every change
 * of a watched topic's route gets the next sequence number, goes into the
 * replay buffer and out to the sinks that want it.
 *
 * Order is causal because the sources are: an actor transition is published
 * while its actor takes it, a broker's transition before the name server
 * transition it causes (the broker registry reports BROKER.LIVE only after
 * the broker's actor took the registration), and a route change after the
 * transitions of the request or removal that made it (the route table
 * announces a registration's or unregistration's change only once the
 * actors have taken it). See docs/gateway.md, "Order".
 *
 * Routes are computed only for topics some sink watches, once per change
 * whatever the number of watchers. While the name server does not serve
 * routes (it is still waiting for brokers), route changes are held back, as
 * GET_ROUTEINFO_BY_TOPIC refuses them then; they are pushed, current, as soon
 * as it serves.
 */
export class GatewayStream {
  private seq = 0;
  private readonly replay: ReplayBuffer<StreamEntry> | undefined;
  private readonly sinks = new Set<StreamSink>();
  private readonly watchers = new Map<string, Set<StreamSink>>();
  private readonly held = new Map<string, RouteCause>();
  private readonly detachSources: Array<() => void>;

  constructor(
    private readonly sources: StreamSources,
    replayCapacity: number,
  ) {
    this.replay = replayCapacity > 0 ? new ReplayBuffer<StreamEntry>(replayCapacity) : undefined;
    this.detachSources = [
      sources.onTransition((transition) => this.publishTransition(transition)),
      sources.onRouteChange((change) => this.routesChanged(change)),
    ];
  }

  get currentSeq(): number {
    return this.seq;
  }

  attach(sink: StreamSink): void {
    this.sinks.add(sink);
  }

  detach(sink: StreamSink): void {
    this.sinks.delete(sink);
    for (const [topic, sinks] of this.watchers) {
      if (sinks.delete(sink) && sinks.size === 0) this.forget(topic);
    }
  }

  watchTopics(sink: StreamSink, topics: readonly string[]): void {
    if (topics.length === 0) return;
    const serving = this.sources.servingRoutes();
    for (const topic of topics) {
      let sinks = this.watchers.get(topic);
      if (!sinks) {
        sinks = new Set();
        this.watchers.set(topic, sinks);
      }
      sinks.add(sink);
      // The subscriber gets no current route while routes are held: promise it one.
      if (!serving && !this.held.has(topic)) this.held.set(topic, 'subscribe');
    }
  }

  unwatchTopic(sink: StreamSink, topic: string): void {
    const sinks = this.watchers.get(topic);
    if (sinks?.delete(sink) && sinks.size === 0) this.forget(topic);
  }

  /**
   * Current routes of `topics` (null for none), as of `currentSeq`; undefined
   * while routes are held, in which case they will be pushed.
   */
  routeSnapshot(topics: Iterable<string>): Record<string, unknown> | undefined {
    if (!this.sources.servingRoutes()) return undefined;
    const routes: Record<string, unknown> = {};
    for (const topic of topics) {
      const encoded = this.sources.encodedRoute(topic);
      Object.defineProperty(routes, topic, {
        value: encoded === undefined ? null : JSON.parse(encoded),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return routes;
  }

  /** Everything after `lastSeq`, or a gap when some of it is no longer kept. */
  replayAfter(lastSeq: number): ReplayResult<StreamEntry> {
    if (this.replay) return this.replay.after(lastSeq, this.seq);
    return lastSeq >= this.seq ? { kind: 'replay', messages: [] } : { kind: 'gap', oldestAvailable: this.seq + 1 };
  }

  close(): void {
    for (const detach of this.detachSources.splice(0)) detach();
    this.sinks.clear();
    this.watchers.clear();
    this.held.clear();
  }

  private forget(topic: string): void {
    this.watchers.delete(topic);
    this.held.delete(topic);
  }

  private publishTransition(transition: Transition): void {
    const seq = ++this.seq;
    const isBroker = transition.machine === 'broker';
    const text = JSON.stringify({
      type: 'transition',
      seq,
      at: transition.at,
      actorId: transition.actorId,
      machine: transition.machine,
      from: transition.from,
      to: transition.to,
      tags: transition.tags,
      event: transition.event,
      context: transition.context,
    });
    const entry: StreamEntry = { seq, stream: isBroker ? 'brokers' : 'lifecycle', text };
    if (isBroker) entry.broker = brokerKeysOf(transition.context);
    this.publish(entry, this.sinks);
    // Published while the name server takes the transition, before its
    // snapshot is updated: the transition's own tags say whether it serves.
    if (!isBroker && transition.tags.includes('servingRoutes')) this.releaseHeldRoutes();
  }

  private routesChanged(change: RouteChange): void {
    if (this.watchers.size === 0) return;
    const serving = this.sources.servingRoutes();
    for (const topic of change.topics) {
      if (!this.watchers.has(topic)) continue;
      if (serving) {
        this.held.delete(topic);
        this.publishRoute(topic, change.cause);
      } else {
        this.held.set(topic, change.cause);
      }
    }
  }

  private releaseHeldRoutes(): void {
    if (this.held.size === 0) return;
    const released = [...this.held];
    this.held.clear();
    for (const [topic, cause] of released) this.publishRoute(topic, cause);
  }

  private publishRoute(topic: string, cause: RouteCause): void {
    const sinks = this.watchers.get(topic);
    if (!sinks) return;
    const seq = ++this.seq;
    const route = this.sources.encodedRoute(topic) ?? 'null';
    // The route is already standard JSON (the route table's cached encoding): embed it rather than parse and re-serialize.
    const text = `{"type":"route","seq":${seq},"at":${this.sources.now()},"topic":${JSON.stringify(topic)},"cause":${JSON.stringify(cause)},"route":${route}}`;
    this.publish({ seq, stream: 'routes', topic, text }, sinks);
  }

  private publish(entry: StreamEntry, sinks: Set<StreamSink>): void {
    this.replay?.push(entry);
    for (const sink of sinks) {
      if (sink.accepts(entry)) sink.deliver(entry);
    }
  }
}

function brokerKeysOf(context: Record<string, unknown>): BrokerKeys {
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  return {
    clusterName: text(context.clusterName),
    brokerName: text(context.brokerName),
    brokerAddr: text(context.brokerAddr),
  };
}

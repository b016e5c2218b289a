/**
 * The route table: what the name server knows about routes, as one object
 * the processors, the gateway and broker liveness talk to. It puts together
 *
 *   routeData.ts           the indexed structures (RouteInfoManager's tables)
 *   registration.ts        applying a REGISTER_BROKER, in steps
 *   registrationQueue.ts   their order, worker decode and pacing
 *   removal.ts             expiry, connection close, UNREGISTER_BROKER
 *   adminWrites.ts         write perms, DELETE_/REGISTER_TOPIC_IN_NAMESRV
 *   routeReads.ts          route, cluster info, topic lists, views
 *   encodedRouteCache.ts   route bodies as bytes, per JSON style
 *   routeChanges.ts        what a write changed, told to onChange listeners
 *
 * It is not an actor and keeps no time of its own: liveness belongs to the
 * broker actors, which tell it to remove a registration (fenced by
 * generation). Every write waits for a registration being applied in chunks
 * to finish, validates in full before its first change (a refused request
 * leaves the table exactly as it was), and ends in commit(), which announces
 * what changed.
 */
import { ownedUtf8, writeClusterInfo } from '../protocol/fastjsonWriter.js';
import {
  PermName,
  type BrokerMemberGroup,
  type ClusterInfo,
  type DataVersion,
  type QueueData,
  type TopicList,
  type TopicRouteData,
} from '../protocol/types.js';
import { deleteTopic, registerTopic, setWritePerm } from './adminWrites.js';
import { EncodedRouteCache } from './encodedRouteCache.js';
import type { PreparedBody } from './registerJob.js';
import { RegistrationQueue, type RegistrationQueueOptions } from './registrationQueue.js';
import {
  applyRegistration,
  fastPathVersion,
  NEEDS_DECODE,
  type RegisterBrokerInput,
  type RegisterBrokerResult,
  type RegistrationSteps,
} from './registration.js';
import { removeRegistration, unregisterOne, type RemovalTarget, type UnregisterRequest } from './removal.js';
import { Changes, type RemovalReason, type RouteChange } from './routeChanges.js';
import { RouteData, type RouteSettings } from './routeData.js';
import {
  allTopicList,
  brokerMemberGroup,
  clusterInfoData,
  dataCounts,
  dumpData,
  hasUnitSubTopics,
  hasUnitSubUnUnitTopics,
  liveBrokerViews,
  liveView,
  queryDataVersion,
  systemTopicList,
  topicRouteData,
  topicRouteText,
  topicsByCluster,
  unitTopics,
  type LiveBrokerView,
} from './routeReads.js';

export type { MinBrokerIdChange, RemovalReason, RouteChange } from './routeChanges.js';
export type { RegisterBrokerInput, RegisterBrokerResult, RegisteredBroker, RegisterRefusal } from './registration.js';
export type { LiveBrokerView } from './routeReads.js';

export interface RouteTableOptions extends RegistrationQueueOptions {
  supportActingMaster: boolean;
  deleteTopicWithBrokerRegistration: boolean;
  notifyMinBrokerIdChanged?: boolean;
  /**
   * BrokerData.enableActingMaster in route and cluster bodies. Java 5.x always
   * writes it; 4.9.x's BrokerData has no such field. 'whenTrue' (default)
   * writes it only when set, which reproduces 4.9.8's bytes and reads the same
   * to 5.x clients (absent means false).
   */
  enableActingMasterField?: 'always' | 'whenTrue';
  /** Upper bound on encoded routes kept, per encoding; oldest go first. Default 256 MiB. */
  routeCacheMaxBytes?: number;
  /** Upper bound on a compressed register body once inflated. */
  maxInflatedBytes?: number;
  /** A change listener threw; the table itself is consistent regardless. */
  onListenerError?: (error: unknown) => void;
}

export class RouteTable {
  private readonly settings: RouteSettings;
  private readonly data = new RouteData();
  private readonly queue: RegistrationQueue;

  private readonly fastjsonRoutes: EncodedRouteCache;
  private readonly standardRoutes: EncodedRouteCache;
  private clusterInfoFastjson: Buffer | undefined;
  private clusterInfoStandard: Buffer | undefined;

  private readonly listeners = new Set<(change: RouteChange) => void>();

  constructor(options: RouteTableOptions) {
    this.settings = {
      supportActingMaster: options.supportActingMaster,
      deleteTopicWithBrokerRegistration: options.deleteTopicWithBrokerRegistration,
      notifyMinBrokerIdChanged: options.notifyMinBrokerIdChanged ?? false,
      enableActingMasterField: options.enableActingMasterField ?? 'whenTrue',
      routeCacheMaxBytes: options.routeCacheMaxBytes ?? 256 * 1024 * 1024,
      maxInflatedBytes: options.maxInflatedBytes ?? 256 * 1024 * 1024,
      onListenerError: options.onListenerError,
    };
    this.fastjsonRoutes = new EncodedRouteCache(this.settings.routeCacheMaxBytes);
    this.standardRoutes = new EncodedRouteCache(this.settings.routeCacheMaxBytes);
    this.queue = new RegistrationQueue(
      {
        fastPathVersion: (input) => fastPathVersion(this.data, input),
        register: (input, prepared, chunkTopics) => this.register(input, prepared, chunkTopics),
        maxInflatedBytes: () => this.settings.maxInflatedBytes,
      },
      options,
    );
  }

  /** Runtime config changes (UPDATE_NAMESRV_CONFIG). */
  updateOptions(next: Partial<Omit<RouteTableOptions, 'routeCacheMaxBytes'>>): void {
    this.queue.finishApplying();
    const before = { ...this.settings };
    for (const [key, value] of Object.entries(next)) {
      if (value !== undefined) (this.settings as unknown as Record<string, unknown>)[key] = value;
    }
    if (
      before.supportActingMaster !== this.settings.supportActingMaster ||
      before.enableActingMasterField !== this.settings.enableActingMasterField
    ) {
      // Every encoded route may read differently now.
      this.fastjsonRoutes.clear();
      this.standardRoutes.clear();
      for (const entry of this.data.brokers.values()) entry.fragments = undefined;
      this.clusterInfoFastjson = undefined;
      this.clusterInfoStandard = undefined;
      this.emit({ topics: [...this.data.topics.keys()], clusters: true, cause: 'options' });
    }
    if (before.deleteTopicWithBrokerRegistration !== this.settings.deleteTopicWithBrokerRegistration) {
      // The next registration of each broker name applies Java's rules in full.
      for (const entry of this.data.brokers.values()) entry.topicSyncAddr = undefined;
    }
  }

  onChange(listener: (change: RouteChange) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  // -------------------------------------------------------------------------
  // Registration (registration.ts, in the order registrationQueue.ts keeps)

  /** Applies a registration now, decoding its body on this thread. */
  registerBroker(input: RegisterBrokerInput): RegisterBrokerResult {
    return this.queue.registerNow(input);
  }

  /**
   * Applies a registration after every registration submitted before it. A
   * large body is checked and decoded on a worker thread first, so the event
   * loop only pays for applying it, which happens in one synchronous step: a
   * reader sees the registration entirely or not at all, as with Java's write
   * lock. Returns synchronously when nothing is queued and the body is small.
   */
  submitRegistration(input: RegisterBrokerInput): RegisterBrokerResult | Promise<RegisterBrokerResult> {
    return this.queue.submit(input);
  }

  /** See RegistrationQueue.afterQueued: `operation` runs after every registration submitted before it. */
  afterQueuedRegistrations<T>(operation: () => T): T | Promise<T> {
    return this.queue.afterQueued(operation);
  }

  /** Registrations (and writes behind them) submitted and not yet applied. */
  get pendingRegistrations(): number {
    return this.queue.pending;
  }

  /** Ends the decoding threads (they also end by themselves when idle). */
  close(): void {
    this.queue.close();
  }

  /** One registration's steps, announced once they applied it. */
  private *register(
    input: RegisterBrokerInput,
    prepared: PreparedBody | undefined,
    chunkTopics: number,
  ): RegistrationSteps {
    const changes = this.newChanges();
    const result = yield* applyRegistration(this.data, this.settings, changes, input, prepared, chunkTopics);
    if (result !== NEEDS_DECODE && result.ok) {
      const beforeAnnounce = input.beforeAnnounce;
      this.commit(changes, 'register', beforeAnnounce && (() => beforeAnnounce(result)));
    }
    return result;
  }

  // -------------------------------------------------------------------------
  // Removal (removal.ts)

  /**
   * Removes one registration, as Java's onChannelDestroy/scanNotActiveBroker
   * do. With a generation, only that generation is removed: an expiry or a
   * connection close that raced with a re-registration is a no-op.
   */
  removeBroker(target: RemovalTarget, reason: RemovalReason): boolean {
    this.queue.finishApplying();
    const changes = this.newChanges();
    if (!removeRegistration(this.data, this.settings, target, changes)) return false;
    this.commit(changes, reason);
    return true;
  }

  /**
   * UNREGISTER_BROKER: by the header's identity, whatever the generation.
   * `beforeAnnounce` runs once the broker is out and before onChange
   * listeners hear of it (the broker actor's `unregistered` transition).
   */
  unregisterBroker(request: UnregisterRequest, beforeAnnounce?: () => void): boolean {
    this.queue.finishApplying();
    const changes = this.newChanges();
    const touched = unregisterOne(this.data, this.settings, request, changes);
    this.commit(changes, 'unregister', beforeAnnounce);
    return touched;
  }

  // -------------------------------------------------------------------------
  // Admin writes (adminWrites.ts)

  /** WIPE_WRITE_PERM_OF_BROKER; returns the number of topics the broker name serves. */
  wipeWritePermOfBroker(brokerName: string): number {
    return this.write('wipeWritePerm', (changes) =>
      setWritePerm(this.data, brokerName, (perm) => perm & ~PermName.PERM_WRITE, changes),
    );
  }

  /** ADD_WRITE_PERM_OF_BROKER: perm becomes exactly read|write, as in Java. */
  addWritePermOfBroker(brokerName: string): number {
    return this.write('addWritePerm', (changes) =>
      setWritePerm(this.data, brokerName, () => PermName.PERM_READ | PermName.PERM_WRITE, changes),
    );
  }

  /** DELETE_TOPIC_IN_NAMESRV: everywhere, or only from one cluster's broker names. */
  deleteTopic(topic: string, clusterName?: string): boolean {
    return this.write('deleteTopic', (changes) => deleteTopic(this.data, topic, clusterName, changes));
  }

  /**
   * REGISTER_TOPIC_IN_NAMESRV: every queue's broker name must be registered,
   * or nothing is applied (Java stops at the first unknown one).
   */
  registerTopic(topic: string, queueDatas: readonly QueueData[]): boolean {
    return this.write('registerTopic', (changes) => registerTopic(this.data, topic, queueDatas, changes));
  }

  // -------------------------------------------------------------------------
  // Reads (routeReads.ts)

  /**
   * The encoded TopicRouteData of a topic (without orderTopicConf), or
   * undefined when the topic has no route. The Buffer is shared: do not modify it.
   */
  pickupTopicRoute(topic: string, standardJson: boolean): Buffer | undefined {
    // The hot path: one map lookup.
    const cache = standardJson ? this.standardRoutes : this.fastjsonRoutes;
    const hit = cache.get(topic);
    if (hit !== undefined) return hit;
    const text = topicRouteText(this.data, this.settings, topic, standardJson);
    if (text === undefined) return undefined;
    // Standard JSON escapes everything past ASCII: one byte per character.
    return cache.put(topic, text, standardJson);
  }

  /** RouteInfoManager.pickupTopicRouteData: a fresh object the caller may change. */
  pickupTopicRouteData(topic: string): TopicRouteData | undefined {
    return topicRouteData(this.data, this.settings, topic);
  }

  /** ClusterInfo as an object; broker names and clusters sorted. */
  getClusterInfoData(): ClusterInfo {
    return clusterInfoData(this.data, this.settings);
  }

  /**
   * GET_BROKER_CLUSTER_INFO's body. Java writes it with ClusterInfo.encode()
   * for every client version (bare integer keys), so pass false to answer as
   * Java does; true gives the standard-JSON form. Cached until the next change.
   */
  getClusterInfo(standardJson = false): Buffer {
    const cached = standardJson ? this.clusterInfoStandard : this.clusterInfoFastjson;
    if (cached) return cached;
    const encoded = ownedUtf8(writeClusterInfo(this.getClusterInfoData(), standardJson));
    if (standardJson) this.clusterInfoStandard = encoded;
    else this.clusterInfoFastjson = encoded;
    return encoded;
  }

  getAllTopicList(): TopicList {
    return allTopicList(this.data);
  }

  /**
   * Cluster names and broker names (brokers create topics named after both),
   * and, as Java does, the address of the first broker name that has one.
   */
  getSystemTopicList(): TopicList {
    return systemTopicList(this.data);
  }

  getTopicsByCluster(cluster: string): TopicList {
    return topicsByCluster(this.data, cluster);
  }

  getUnitTopics(): TopicList {
    return unitTopics(this.data);
  }

  getHasUnitSubTopicList(): TopicList {
    return hasUnitSubTopics(this.data);
  }

  getHasUnitSubUnUnitTopicList(): TopicList {
    return hasUnitSubUnUnitTopics(this.data);
  }

  /**
   * QUERY_DATA_VERSION. Java also refreshes the broker's live timestamp here:
   * `known` tells the caller whether there is a registration to refresh.
   */
  queryDataVersion(query: { clusterName: string; brokerAddr: string; dataVersion: DataVersion | undefined }): {
    changed: boolean;
    current?: DataVersion;
    known: boolean;
    generation?: number;
  } {
    return queryDataVersion(this.data, query);
  }

  getBrokerMemberGroup(clusterName: string, brokerName: string): BrokerMemberGroup {
    return brokerMemberGroup(this.data, clusterName, brokerName);
  }

  /** The registration of one (cluster, address), if any. */
  lookupBroker(clusterName: string, brokerAddr: string): LiveBrokerView | undefined {
    const live = this.data.liveOf(clusterName, brokerAddr);
    return live ? liveView(live) : undefined;
  }

  liveBrokerView(): LiveBrokerView[] {
    return liveBrokerViews(this.data);
  }

  stats(): {
    topics: number;
    brokerNames: number;
    clusters: number;
    liveBrokers: number;
    queueEntries: number;
    cachedRoutes: number;
    cachedRouteBytes: number;
  } {
    return {
      ...dataCounts(this.data),
      cachedRoutes: this.fastjsonRoutes.size + this.standardRoutes.size,
      cachedRouteBytes: this.fastjsonRoutes.totalBytes + this.standardRoutes.totalBytes,
    };
  }

  /** The whole table as sorted plain data (caches left out). */
  dump(): Record<string, unknown> {
    return dumpData(this.data);
  }

  // -------------------------------------------------------------------------
  // Announcing changes

  private newChanges(): Changes {
    return new Changes([this.fastjsonRoutes, this.standardRoutes]);
  }

  /** One synchronous write: waits for a chunked registration, then applies and commits. */
  private write<T>(cause: RouteChange['cause'], apply: (changes: Changes) => T): T {
    this.queue.finishApplying();
    const changes = this.newChanges();
    const result = apply(changes);
    this.commit(changes, cause);
    return result;
  }

  /**
   * Drops the cluster caches and announces a change to the onChange
   * listeners. `beforeAnnounce` runs in between (even when nothing changed),
   * and the listeners are told even if it throws.
   */
  private commit(changes: Changes, cause: RouteChange['cause'], beforeAnnounce?: () => void): void {
    // Topic caches went as each topic was touched (Changes.touch).
    if (changes.clusters) {
      this.clusterInfoFastjson = undefined;
      this.clusterInfoStandard = undefined;
    }
    try {
      beforeAnnounce?.();
    } finally {
      if (changes.topics.size > 0 || changes.clusters || changes.minBrokerIdChanges.length > 0) {
        const change: RouteChange = { topics: [...changes.topics], clusters: changes.clusters, cause };
        if (changes.minBrokerIdChanges.length > 0) change.minBrokerIdChanges = changes.minBrokerIdChanges;
        this.emit(change);
      }
    }
  }

  private emit(change: RouteChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.settings.onListenerError?.(error);
      }
    }
  }
}

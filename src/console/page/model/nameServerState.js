// @ts-check
/**
 * What the console knows about one name server, rebuilt from its gateway
 * stream: the lifecycle, and every broker registration, including the ones
 * that ended a short while ago (kept greyed so an expiry does not just make a
 * row vanish). Only state, no DOM: the panels read it once per frame.
 */

/** @typedef {import('../gateway/protocol.js').Lifecycle} Lifecycle */
/** @typedef {import('../gateway/protocol.js').BrokerSnapshot} BrokerSnapshot */
/** @typedef {import('../gateway/protocol.js').Transition} Transition */
/** @typedef {import('../gateway/protocol.js').DataVersion} DataVersion */

/** How long an expired, unregistered or disconnected broker stays visible. */
export const GONE_RETENTION_MS = 60_000;
/** Recent transitions kept per broker for the broker chart. */
const BROKER_HISTORY = 12;

/**
 * @typedef {object} BrokerTransitionRecord
 * @property {number} seq
 * @property {number} at
 * @property {string | null} from
 * @property {string} to
 * @property {string} event
 */

/**
 * @typedef {object} BrokerRecord
 * @property {string} brokerKey
 * @property {string} clusterName
 * @property {string} brokerName
 * @property {string} brokerAddr
 * @property {number} brokerId
 * @property {string} state `registered`, `expired`, `unregistered`, `disconnected`
 * @property {number} generation
 * @property {number | undefined} lastRefresh server ms of the last registration or heartbeat
 * @property {number | undefined} heartbeatTimeoutMillis
 * @property {DataVersion | undefined} dataVersion
 * @property {number | undefined} topicCount
 * @property {number | undefined} goneAt local ms when it left `registered`
 * @property {BrokerTransitionRecord[]} history newest last
 */

/**
 * @typedef {object} StateListener
 * @property {(brokerKeys: Iterable<string>) => void} brokersChanged
 * @property {() => void} lifecycleChanged
 */

export class NameServerState {
  /** @type {Lifecycle | null} */
  lifecycle = null;
  /** @type {Map<string, BrokerRecord>} */
  brokers = new Map();
  /** @type {import('../gateway/protocol.js').ServerInfo | null} */
  server = null;

  /**
   * @param {string} address
   * @param {StateListener} listener
   */
  constructor(address, listener) {
    this.address = address;
    this.listener = listener;
  }

  /**
   * A snapshot (hello, reset) replaces everything: after a reset the old state
   * cannot be trusted, and brokers missing from it are simply unknown.
   * @param {{ lifecycle: Lifecycle, brokers: BrokerSnapshot[], server: import('../gateway/protocol.js').ServerInfo }} snapshot
   */
  applySnapshot(snapshot) {
    const changed = new Set(this.brokers.keys());
    this.brokers.clear();
    for (const broker of snapshot.brokers) {
      this.brokers.set(broker.brokerKey, recordOf(broker));
      changed.add(broker.brokerKey);
    }
    this.server = snapshot.server;
    this.lifecycle = snapshot.lifecycle;
    this.listener.brokersChanged(changed);
    this.listener.lifecycleChanged();
  }

  /** @param {import('../gateway/protocol.js').ServerInfo} server */
  setServer(server) {
    this.server = server;
  }

  /**
   * @param {Transition} transition
   * @returns {boolean} whether the broker's details (DataVersion, topics) may have changed
   */
  applyTransition(transition) {
    if (transition.machine === 'nameServer') {
      this.#applyLifecycleTransition(transition);
      return false;
    }
    return this.#applyBrokerTransition(transition);
  }

  /** @param {Transition} transition */
  #applyLifecycleTransition(transition) {
    const previous = this.lifecycle;
    const tags = transition.tags ?? [];
    const liveBrokers = transition.context?.liveBrokers;
    /** @type {Lifecycle} */
    const next = {
      ...(previous ?? emptyLifecycle()),
      state: transition.to.split('.')[0] ?? transition.to,
      detail: transition.to,
      tags,
      live: tags.includes('live'),
      ready: tags.includes('ready'),
      servingRoutes: tags.includes('servingRoutes'),
    };
    if (typeof liveBrokers === 'number') next.waitTarget = { ...next.waitTarget, liveBrokers };
    if (next.state !== previous?.state) next.since = transition.at;
    this.lifecycle = next;
    this.listener.lifecycleChanged();
  }

  /** @param {Lifecycle} lifecycle the full status from `getLifecycle` */
  applyLifecycle(lifecycle) {
    this.lifecycle = lifecycle;
    this.listener.lifecycleChanged();
  }

  /** @param {Transition} transition */
  #applyBrokerTransition(transition) {
    const context = transition.context ?? {};
    const key = transition.actorId;
    let record = this.brokers.get(key);
    if (!record) {
      // `cluster|address`: a cluster name may itself hold "|" (a legal name character),
      // an address never does.
      const separator = key.lastIndexOf('|');
      const clusterName = separator < 0 ? key : key.slice(0, separator);
      const brokerAddr = separator < 0 ? '' : key.slice(separator + 1);
      record = {
        brokerKey: key,
        clusterName: context.clusterName ?? clusterName,
        brokerName: context.brokerName ?? '',
        brokerAddr: context.brokerAddr ?? brokerAddr,
        brokerId: context.brokerId ?? 0,
        state: transition.to,
        generation: context.generation ?? 0,
        lastRefresh: undefined,
        heartbeatTimeoutMillis: undefined,
        dataVersion: undefined,
        topicCount: undefined,
        goneAt: undefined,
        history: [],
      };
      this.brokers.set(key, record);
    }
    if (typeof context.brokerName === 'string') record.brokerName = context.brokerName;
    if (typeof context.brokerId === 'number') record.brokerId = context.brokerId;
    if (typeof context.generation === 'number') record.generation = context.generation;
    record.state = transition.to;
    if (transition.to === 'registered') {
      // Every way into `registered` (first registration, re-registration, heartbeat) is a refresh.
      record.lastRefresh = transition.at;
      record.goneAt = undefined;
    } else if (record.goneAt === undefined) {
      record.goneAt = Date.now();
    }
    record.history.push({
      seq: transition.seq,
      at: transition.at,
      from: transition.from,
      to: transition.to,
      event: transition.event,
    });
    if (record.history.length > BROKER_HISTORY) record.history.shift();
    this.listener.brokersChanged([key]);
    // A heartbeat changes nothing but the refresh time; a registration may bring new topics.
    return transition.event !== 'HEARTBEAT' && transition.to === 'registered';
  }

  /**
   * Transitions from before the console connected, for the brokers' recent
   * transitions only: the snapshot already holds their effect.
   * @param {Transition[]} transitions oldest first
   */
  recordPastTransitions(transitions) {
    /** @type {Set<string>} */
    const changed = new Set();
    for (const transition of transitions) {
      const record = this.brokers.get(transition.actorId);
      if (!record || transition.machine !== 'broker') continue;
      const step = {
        seq: transition.seq,
        at: transition.at,
        from: transition.from,
        to: transition.to,
        event: transition.event,
      };
      const at = record.history.findIndex((known) => known.seq >= step.seq);
      if (at === -1) record.history.push(step);
      else if (record.history[at]?.seq !== step.seq) record.history.splice(at, 0, step);
      while (record.history.length > BROKER_HISTORY) record.history.shift();
      changed.add(record.brokerKey);
    }
    if (changed.size > 0) this.listener.brokersChanged(changed);
  }

  /**
   * Details only `getBrokers` has (DataVersion, topic count, timeout). State
   * stays the stream's: the stream is ordered, a read may already be stale.
   * @param {BrokerSnapshot[]} brokers
   */
  applyBrokerDetails(brokers) {
    /** @type {string[]} */
    const changed = [];
    for (const broker of brokers) {
      const record = this.brokers.get(broker.brokerKey);
      if (!record) continue;
      if (record.generation > broker.generation) continue;
      const before = `${record.topicCount}|${record.heartbeatTimeoutMillis}|${record.dataVersion?.counter}|${record.dataVersion?.timestamp}|${record.lastRefresh}`;
      record.topicCount = broker.topicCount;
      record.heartbeatTimeoutMillis = broker.heartbeatTimeoutMillis;
      record.dataVersion = broker.dataVersion;
      if (record.lastRefresh === undefined || broker.lastRefresh > record.lastRefresh)
        record.lastRefresh = broker.lastRefresh;
      const after = `${record.topicCount}|${record.heartbeatTimeoutMillis}|${record.dataVersion?.counter}|${record.dataVersion?.timestamp}|${record.lastRefresh}`;
      if (before !== after) changed.push(broker.brokerKey);
    }
    if (changed.length > 0) this.listener.brokersChanged(changed);
  }

  /**
   * Drops brokers that ended more than GONE_RETENTION_MS ago.
   * @param {number} now local ms
   */
  sweepGone(now) {
    /** @type {string[]} */
    const dropped = [];
    for (const [key, record] of this.brokers) {
      if (record.goneAt !== undefined && now - record.goneAt > GONE_RETENTION_MS) {
        this.brokers.delete(key);
        dropped.push(key);
      }
    }
    if (dropped.length > 0) this.listener.brokersChanged(dropped);
  }
}

/**
 * @param {BrokerSnapshot} broker
 * @returns {BrokerRecord}
 */
function recordOf(broker) {
  return {
    brokerKey: broker.brokerKey,
    clusterName: broker.clusterName,
    brokerName: broker.brokerName,
    brokerAddr: broker.brokerAddr,
    brokerId: broker.brokerId,
    state: broker.state,
    generation: broker.generation,
    lastRefresh: broker.lastRefresh,
    heartbeatTimeoutMillis: broker.heartbeatTimeoutMillis,
    dataVersion: broker.dataVersion,
    topicCount: broker.topicCount,
    goneAt: broker.state === 'registered' ? undefined : Date.now(),
    history: [],
  };
}

/** @returns {Lifecycle} */
function emptyLifecycle() {
  return {
    state: 'starting',
    detail: 'starting',
    since: 0,
    tags: [],
    live: false,
    ready: false,
    servingRoutes: false,
    waitTarget: { met: false, liveBrokers: 0, missing: [] },
    waitTimeoutAction: 'serve',
    degraded: [],
  };
}

import { crc32 } from 'node:zlib';
import { parseHostPort, type HostPort } from '../admin/address.js';
import { RemotingClient } from '../remoting/client.js';
import { MQVersion, RequestCode, ResponseCode, responseCodeName } from '../remoting/requestCode.js';
import { encodeRegisterBrokerBody } from '../protocol/registerBody.js';
import type { DataVersion, TopicConfig } from '../protocol/types.js';
import { matchTarget, type FaultKind } from './faults.js';
import { systemTimer, type SimTimer } from './timer.js';
import { buildTopology, initialTopics, newBumpTopic, type BrokerSpec } from './topology.js';
import { add, counts, ErrorLog, errorText, runPool } from './tally.js';
import type {
  BrokerSimulatorOptions,
  Counts,
  FaultReport,
  RoundReport,
  SimBrokerSnapshot,
  SimBrokerState,
  SimEvent,
  SimSummary,
} from './types.js';

export type * from './types.js';

/**
 * Simulated RocketMQ brokers that register with name servers over the real
 * remoting protocol, as BrokerController and BrokerOuterAPI do: every broker
 * instance keeps its own connection to every name server, sends
 * REGISTER_BROKER to all of them every interval (30 s by default), optionally
 * BROKER_HEARTBEAT in between (5.x slave-acting-master style), and
 * UNREGISTER_BROKER when it shuts down.
 *
 * Time comes from an injectable SimTimer, so tests drive everything with a
 * simulated clock and never sleep: `start()` registers and arms the timers,
 * each timer tick runs a round, `idle()` waits for what is in flight, and
 * `step()` runs one registration round at once (for benchmarks).
 */

interface SimBroker {
  spec: BrokerSpec;
  state: SimBrokerState;
  topics: Map<string, TopicConfig>;
  dataVersion: DataVersion;
  bumps: number;
  encoded?: { body: Buffer; crc: number };
  /** One connection per name server (keyed by its text), as a pending or settled connect. */
  connections: Map<string, Promise<RemotingClient>>;
  masterAddr?: string;
  acknowledgedBy: Set<string>;
}

const DEFAULTS = {
  intervalMs: 30_000,
  heartbeatIntervalMs: 1_000,
  heartbeatTimeoutMillis: 10_000,
  requestTimeoutMs: 3_000,
  concurrency: 256,
};

export class BrokerSimulator {
  readonly nameServers: readonly HostPort[];
  private readonly brokerList: SimBroker[];
  private readonly timer: SimTimer;
  private readonly intervalMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly heartbeatTimeoutMillis: number;
  private readonly requestTimeoutMs: number;
  private readonly concurrency: number;
  private readonly version: number;
  private readonly modern: boolean;
  private readonly listeners = new Set<(event: SimEvent) => void>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly timers = new Set<unknown>();

  private startedAt = 0;
  private started = false;
  private armed = false;
  private stopping = false;
  private stopped: Promise<SimSummary> | undefined;
  private rounds = 0;
  private faultCount = 0;
  private nextRoundAt = 0;
  private nextHeartbeatAt = 0;
  private roundRunning = false;
  private heartbeatRunning = false;
  private readonly totals = { registrations: counts(), heartbeats: counts(), unregistrations: counts() };
  private heartbeatsSinceRound = counts();
  private heartbeatErrors = new ErrorLog();

  constructor(readonly options: BrokerSimulatorOptions) {
    this.nameServers = options.nameServers.map((ns) => {
      if (typeof ns !== 'string') return ns;
      const parsed = parseHostPort(ns);
      if (typeof parsed === 'string') throw new RangeError(`bad name server address ${parsed}`);
      return parsed;
    });
    if (this.nameServers.length === 0) throw new RangeError('at least one name server address is needed');
    for (const [name, value] of Object.entries({
      clusters: options.clusters,
      brokers: options.brokers,
      replicas: options.replicas,
    })) {
      if (!Number.isInteger(value) || value < 1)
        throw new RangeError(`${name} must be a positive integer, got ${value}`);
    }
    if (!Number.isInteger(options.topics) || options.topics < 0)
      throw new RangeError(`topics must be a whole number, got ${options.topics}`);
    if (!Number.isInteger(options.queues) || options.queues < 1)
      throw new RangeError(`queues must be a positive integer, got ${options.queues}`);
    this.timer = options.timer ?? systemTimer();
    this.intervalMs = options.intervalMs ?? DEFAULTS.intervalMs;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? DEFAULTS.heartbeatIntervalMs;
    this.heartbeatTimeoutMillis = options.heartbeatTimeoutMillis ?? DEFAULTS.heartbeatTimeoutMillis;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
    this.concurrency = Math.max(1, options.concurrency ?? DEFAULTS.concurrency);
    if (!(this.intervalMs > 0) || !(this.heartbeatIntervalMs > 0)) throw new RangeError('intervals must be positive');
    this.modern = (options.brokerVersion ?? '5.x') === '5.x';
    if (options.heartbeat && !this.modern)
      throw new RangeError('BROKER_HEARTBEAT is a 5.x request: heartbeat mode needs brokerVersion 5.x');
    this.version = this.modern ? MQVersion.CURRENT : MQVersion.V4_9_8;
    const now = this.timer.now();
    this.brokerList = buildTopology(options).map((spec) => ({
      spec,
      state: 'idle',
      topics: initialTopics(spec, options),
      dataVersion: this.modern ? { counter: 1, stateVersion: 0, timestamp: now } : { counter: 1, timestamp: now },
      bumps: 0,
      connections: new Map(),
      acknowledgedBy: new Set(),
    }));
    for (const fault of options.faults ?? []) {
      if (
        matchTarget(
          fault.target,
          this.brokerList.map((b) => b.spec),
        ).length === 0
      ) {
        throw new RangeError(
          `--${fault.kind} ${fault.target}: no simulated broker is called that (try e.g. ${this.brokerList[0]!.spec.brokerName})`,
        );
      }
    }
    if (options.onEvent) this.listeners.add(options.onEvent);
  }

  /** Subscribes to rounds, faults and the final summary; returns a remover. */
  onEvent(listener: (event: SimEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Milliseconds since start() on the simulator's timer. */
  elapsedMs(): number {
    return this.started ? this.timer.now() - this.startedAt : 0;
  }

  brokers(): SimBrokerSnapshot[] {
    return this.brokerList.map((b) => ({
      ...b.spec,
      state: b.state,
      dataVersion: { ...b.dataVersion },
      topics: [...b.topics.keys()],
      ...(b.masterAddr !== undefined ? { masterAddr: b.masterAddr } : {}),
      acknowledgedBy: [...b.acknowledgedBy],
    }));
  }

  /**
   * Registers every broker with every name server, then arms the round,
   * heartbeat and fault timers. Resolves with the first round's report.
   */
  async start(): Promise<RoundReport> {
    if (this.armed) throw new Error('simulator already started');
    if (this.stopping) throw new Error('simulator stopped');
    this.armed = true;
    this.activate();
    for (const fault of this.options.faults ?? []) {
      this.arm(this.startedAt + fault.atSeconds * 1000, () => {
        void this.track(this.fault(fault.kind, fault.target).catch(() => undefined));
      });
    }
    this.nextRoundAt = this.startedAt + this.intervalMs;
    this.arm(this.nextRoundAt, () => this.roundTick());
    if (this.options.heartbeat) {
      this.nextHeartbeatAt = this.startedAt + this.heartbeatIntervalMs;
      this.arm(this.nextHeartbeatAt, () => this.heartbeatTick());
    }
    return this.track(this.step());
  }

  /**
   * One registration round now: masters first (so slaves learn their master),
   * then slaves. Usable without start() (benchmarks drive rounds themselves):
   * the first call brings the brokers up without arming any timer.
   */
  async step(): Promise<RoundReport> {
    this.activate();
    const round = ++this.rounds;
    const registrations = counts();
    const errors = new ErrorLog();
    const running = this.brokerList.filter((b) => b.state === 'running');
    await this.registerAll(
      running.filter((b) => b.spec.brokerId === 0),
      registrations,
      errors,
    );
    await this.registerAll(
      running.filter((b) => b.spec.brokerId !== 0),
      registrations,
      errors,
    );
    add(this.totals.registrations, registrations);
    for (const e of this.heartbeatErrors.seen) errors.note(e);
    const report: RoundReport = {
      round,
      elapsedMs: this.elapsedMs(),
      registrations,
      heartbeats: this.heartbeatsSinceRound,
      brokers: this.stateCounts(),
      errors: errors.seen,
    };
    this.heartbeatsSinceRound = counts();
    this.heartbeatErrors = new ErrorLog();
    this.emit({ type: 'round', report });
    return report;
  }

  /** One BROKER_HEARTBEAT from every running broker to every name server. */
  async heartbeat(): Promise<Counts> {
    this.activate();
    const result = counts();
    const tasks: Array<() => Promise<void>> = [];
    for (const b of this.brokerList) {
      if (b.state !== 'running') continue;
      const extFields = {
        clusterName: b.spec.clusterName,
        brokerAddr: b.spec.brokerAddr,
        brokerName: b.spec.brokerName,
      };
      for (const ns of this.nameServers) {
        tasks.push(async () => {
          result.sent++;
          try {
            const client = await this.connection(b, ns);
            const response = await client.invoke(RequestCode.BROKER_HEARTBEAT, extFields, null, this.requestTimeoutMs);
            if (response.code === ResponseCode.SUCCESS) result.acknowledged++;
            else {
              result.failed++;
              this.heartbeatErrors.note(
                `${ns.text}: BROKER_HEARTBEAT ${responseCodeName(response.code)}${response.remark ? `: ${response.remark}` : ''}`,
              );
            }
          } catch (err) {
            result.failed++;
            this.heartbeatErrors.note(`${ns.text}: ${errorText(err)}`);
          }
        });
      }
    }
    await runPool(tasks, this.concurrency);
    add(this.heartbeatsSinceRound, result);
    add(this.totals.heartbeats, result);
    return result;
  }

  crash(target: string): Promise<FaultReport> {
    return this.fault('crash', target);
  }

  partition(target: string): Promise<FaultReport> {
    return this.fault('partition', target);
  }

  restart(target: string): Promise<FaultReport> {
    return this.fault('restart', target);
  }

  bump(target: string): Promise<FaultReport> {
    return this.fault('bump', target);
  }

  /** Applies a fault now. Rejects when the target names no simulated broker. */
  async fault(kind: FaultKind, target: string): Promise<FaultReport> {
    const specs = new Set(
      matchTarget(
        target,
        this.brokerList.map((b) => b.spec),
      ),
    );
    if (specs.size === 0) throw new RangeError(`no simulated broker matches ${target}`);
    const affected = this.brokerList.filter((b) => specs.has(b.spec) && b.state !== 'stopped' && b.state !== 'idle');
    this.faultCount++;
    const report: FaultReport = {
      kind,
      target,
      elapsedMs: this.elapsedMs(),
      instances: affected.map((b) => `${b.spec.brokerName}/${b.spec.brokerId}@${b.spec.brokerAddr}`),
    };
    switch (kind) {
      case 'crash':
        for (const b of affected) b.state = 'crashed';
        await Promise.all(affected.map((b) => this.closeConnections(b)));
        break;
      case 'partition':
        for (const b of affected) if (b.state === 'running') b.state = 'partitioned';
        break;
      case 'restart': {
        for (const b of affected) b.state = 'crashed';
        await Promise.all(affected.map((b) => this.closeConnections(b)));
        for (const b of affected) {
          b.state = 'running';
          b.acknowledgedBy.clear();
          b.masterAddr = undefined;
        }
        report.registrations = await this.registerNow(affected);
        break;
      }
      case 'bump': {
        const now = this.timer.now();
        for (const b of affected) {
          b.bumps++;
          const topic = newBumpTopic(b.spec.brokerName, b.bumps, this.options.queues);
          b.topics.set(topic.topicName, topic);
          b.dataVersion = {
            ...b.dataVersion,
            counter: b.dataVersion.counter + 1,
            timestamp: Math.max(now, b.dataVersion.timestamp + 1),
          };
          b.encoded = undefined;
        }
        // A broker registers at once when its topics change; one that is down sends it later.
        report.registrations = await this.registerNow(affected.filter((b) => b.state === 'running'));
        break;
      }
    }
    this.emit({ type: 'fault', report });
    return report;
  }

  /** Resolves once nothing the simulator started (rounds, heartbeats, faults) is in flight. */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /**
   * Stops the timers, waits for what is in flight, sends UNREGISTER_BROKER
   * for every running broker to every name server (unless `unregister` is
   * false: a kill -9 of every broker), and closes every connection.
   */
  stop(options: { unregister?: boolean } = {}): Promise<SimSummary> {
    this.stopped ??= this.shutDown(options.unregister ?? true);
    return this.stopped;
  }

  private async shutDown(unregister: boolean): Promise<SimSummary> {
    this.stopping = true;
    for (const handle of this.timers) this.timer.clearTimeout(handle);
    this.timers.clear();
    await this.idle();
    if (unregister) {
      const tasks: Array<() => Promise<void>> = [];
      for (const b of this.brokerList) {
        if (b.state !== 'running') continue;
        const extFields = {
          brokerAddr: b.spec.brokerAddr,
          brokerId: String(b.spec.brokerId),
          brokerName: b.spec.brokerName,
          clusterName: b.spec.clusterName,
        };
        for (const ns of this.nameServers) {
          tasks.push(async () => {
            const u = this.totals.unregistrations;
            u.sent++;
            try {
              const client = await this.connection(b, ns);
              const response = await client.invoke(
                RequestCode.UNREGISTER_BROKER,
                extFields,
                null,
                this.requestTimeoutMs,
              );
              if (response.code === ResponseCode.SUCCESS) u.acknowledged++;
              else u.failed++;
            } catch {
              u.failed++;
            }
          });
        }
      }
      await runPool(tasks, this.concurrency);
    }
    await Promise.all(this.brokerList.map((b) => this.closeConnections(b)));
    for (const b of this.brokerList) if (b.state === 'running' || b.state === 'idle') b.state = 'stopped';
    const summary: SimSummary = {
      elapsedMs: this.elapsedMs(),
      rounds: this.rounds,
      registrations: { ...this.totals.registrations },
      heartbeats: { ...this.totals.heartbeats },
      unregistrations: { ...this.totals.unregistrations },
      faults: this.faultCount,
      brokers: this.stateCounts(),
    };
    this.emit({ type: 'stopped', summary });
    return summary;
  }

  // ---------------------------------------------------------------------------

  /** Brings the brokers up once: from here on they are running and time counts from now. */
  private activate(): void {
    if (this.started || this.stopping) return;
    this.started = true;
    this.startedAt = this.timer.now();
    for (const b of this.brokerList) b.state = 'running';
  }

  private emit(event: SimEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A failing listener must not break the simulation.
      }
    }
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inflight.add(promise);
    const remove = () => this.inflight.delete(promise);
    promise.then(remove, remove);
    return promise;
  }

  /** A one-shot timer at an absolute time on the simulator's timer. */
  private arm(at: number, fn: () => void): void {
    if (this.stopping) return;
    const handle = this.timer.setTimeout(
      () => {
        this.timers.delete(handle);
        if (!this.stopping) fn();
      },
      Math.max(0, at - this.timer.now()),
    );
    this.timers.add(handle);
  }

  /** The next multiple of `period` after now, on the grid that starts at startedAt. */
  private nextSlot(previous: number, period: number): number {
    const now = this.timer.now();
    let next = previous + period;
    if (next <= now) next += Math.ceil((now - next + 1) / period) * period;
    return next;
  }

  private roundTick(): void {
    this.nextRoundAt = this.nextSlot(this.nextRoundAt, this.intervalMs);
    this.arm(this.nextRoundAt, () => this.roundTick());
    // Like scheduleAtFixedRate, a round never overlaps the previous one.
    if (this.roundRunning) return;
    this.roundRunning = true;
    void this.track(this.step()).finally(() => {
      this.roundRunning = false;
    });
  }

  private heartbeatTick(): void {
    this.nextHeartbeatAt = this.nextSlot(this.nextHeartbeatAt, this.heartbeatIntervalMs);
    this.arm(this.nextHeartbeatAt, () => this.heartbeatTick());
    if (this.heartbeatRunning) return;
    this.heartbeatRunning = true;
    void this.track(this.heartbeat()).finally(() => {
      this.heartbeatRunning = false;
    });
  }

  private stateCounts(): Record<SimBrokerState, number> {
    const out: Record<SimBrokerState, number> = { idle: 0, running: 0, partitioned: 0, crashed: 0, stopped: 0 };
    for (const b of this.brokerList) out[b.state]++;
    return out;
  }

  private async registerNow(brokers: SimBroker[]): Promise<Counts> {
    const result = counts();
    const errors = new ErrorLog();
    await this.registerAll(
      brokers.filter((b) => b.spec.brokerId === 0),
      result,
      errors,
    );
    await this.registerAll(
      brokers.filter((b) => b.spec.brokerId !== 0),
      result,
      errors,
    );
    add(this.totals.registrations, result);
    return result;
  }

  private async registerAll(brokers: SimBroker[], result: Counts, errors: ErrorLog): Promise<void> {
    const tasks: Array<() => Promise<void>> = [];
    for (const b of brokers) for (const ns of this.nameServers) tasks.push(() => this.register(b, ns, result, errors));
    await runPool(tasks, this.concurrency);
  }

  private encoded(b: SimBroker): { body: Buffer; crc: number } {
    if (!b.encoded) {
      const body = encodeRegisterBrokerBody(
        {
          topicConfigSerializeWrapper: { topicConfigTable: b.topics, dataVersion: b.dataVersion },
          filterServerList: [],
        },
        { compressed: this.options.compressed ?? false, generation: this.modern ? '5.x' : '4.9' },
      );
      // UtilAll.crc32: CRC32 of the body as a non-negative int.
      b.encoded = { body, crc: crc32(body) & 0x7fffffff };
    }
    return b.encoded;
  }

  private async register(b: SimBroker, ns: HostPort, result: Counts, errors: ErrorLog): Promise<void> {
    if (b.state !== 'running') return;
    result.sent++;
    const { body, crc } = this.encoded(b);
    const extFields: Record<string, string> = {
      brokerName: b.spec.brokerName,
      brokerAddr: b.spec.brokerAddr,
      clusterName: b.spec.clusterName,
      haServerAddr: b.spec.haServerAddr,
      brokerId: String(b.spec.brokerId),
      // 5.x brokers always write false here and never compress; the 4.9 form says what the body is.
      compressed: String(this.options.compressed ?? false),
      bodyCrc32: String(crc),
    };
    if (this.modern) extFields.enableActingMaster = String(this.options.heartbeat ?? false);
    if (this.options.heartbeat) extFields.heartbeatTimeoutMillis = String(this.heartbeatTimeoutMillis);
    try {
      const client = await this.connection(b, ns);
      const response = await client.invoke(RequestCode.REGISTER_BROKER, extFields, body, this.requestTimeoutMs);
      if (response.code === ResponseCode.SUCCESS) {
        result.acknowledged++;
        b.acknowledgedBy.add(ns.text);
        if (b.spec.brokerId !== 0) {
          const masterAddr = response.extFields?.masterAddr;
          if (masterAddr) b.masterAddr = masterAddr;
          else delete b.masterAddr;
        }
      } else {
        result.failed++;
        b.acknowledgedBy.delete(ns.text);
        errors.note(
          `${ns.text}: REGISTER_BROKER ${responseCodeName(response.code)}${response.remark ? `: ${response.remark}` : ''}`,
        );
      }
    } catch (err) {
      result.failed++;
      b.acknowledgedBy.delete(ns.text);
      errors.note(`${ns.text}: ${errorText(err)}`);
    }
  }

  /** The broker's connection to `ns`, connecting (again) when there is none or it closed. */
  private async connection(b: SimBroker, ns: HostPort): Promise<RemotingClient> {
    const existing = b.connections.get(ns.text);
    if (existing) {
      const client = await existing.catch(() => undefined);
      if (client && !client.closed) return client;
      if (b.connections.get(ns.text) === existing) b.connections.delete(ns.text);
      const again = b.connections.get(ns.text);
      if (again) return again;
    }
    // A crash or restart may have happened while this send waited: a broker that is down opens nothing.
    if (b.state !== 'running') throw new Error(`${b.spec.brokerName}/${b.spec.brokerId} is ${b.state}`);
    const connecting = RemotingClient.connect({
      host: ns.host,
      port: ns.port,
      connectTimeoutMs: this.requestTimeoutMs,
      version: this.version,
      language: 'JAVA',
    });
    b.connections.set(ns.text, connecting);
    const forget = () => {
      if (b.connections.get(ns.text) === connecting) b.connections.delete(ns.text);
    };
    connecting.then((client) => client.onClose(forget), forget);
    return connecting;
  }

  private async closeConnections(b: SimBroker): Promise<void> {
    const pending = [...b.connections.values()];
    b.connections.clear();
    await Promise.all(
      pending.map(async (p) => {
        const client = await p.catch(() => undefined);
        await client?.close().catch(() => undefined);
      }),
    );
  }
}

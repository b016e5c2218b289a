import { createActor, fromPromise, type Actor, type InspectionEvent } from 'xstate';
import type { Logger } from 'pino';
import { assertEvent } from 'xstate';
import {
  evaluateWaitTarget,
  lifecycleStateOf,
  nameServerMachine,
  type LifecycleSettings,
  type LifecycleState,
  type NameServerEvent,
} from '../machines/nameServer.js';
import { brokerMachine } from '../machines/broker.js';
import { createBrokerRegistry } from '../machines/brokerRegistry.js';
import { BrokerLiveness, type BrokerSnapshot } from './brokers/brokerLiveness.js';
import { describeLifecycle, type LifecycleStatus } from './lifecycle/lifecycleStatus.js';
import { systemClock, type ServerClock } from './clock.js';
import { configEntries, type NamesrvOptions } from './config/schema.js';
import { RuntimeConfig } from './config/runtimeConfig.js';
import { Gateway } from './gateway/gateway.js';
import { HttpServer } from './http/httpServer.js';
import { registerAddressServerRoutes } from './http/addressServer.js';
import { registerHealthRoutes } from './http/health.js';
import { registerMachineRoutes } from './http/machines.js';
import { registerConsoleRoutes } from './console/consoleRoutes.js';
import { NameServerMetrics } from './http/metrics.js';
import { createLiveInspector } from './inspect.js';
import { MinBrokerIdNotifier } from './notify/minBrokerIdNotifier.js';
import { KvStore, type KvFileWriter } from './kv/kvStore.js';
import { silentLogger } from './logging.js';
import { TransitionObserver, type Transition } from './observe/transitions.js';
import { summarizeContext } from './observe/contextSummary.js';
import { LimitEvents } from './observe/limits.js';
import { InFlightLimiter } from './processors/inFlightLimit.js';
import type { ProcessorContext } from './processors/context.js';
import { registerProcessors } from './processors/index.js';
import { createResponse, type RemotingCommand } from './remoting/command.js';
import { ResponseCode } from './remoting/requestCode.js';
import { RemotingServer, type RemotingConnection, type RequestHandler } from './remoting/server.js';
import { RouteTable } from './route/routeTable.js';
import { errorMessage } from './util/errorMessage.js';
import { HttpAuth } from './tls/httpAuth.js';
import { SecurityEvents } from './tls/securityEvents.js';
import { httpTlsSettings, remotingTlsSettings } from './tls/settings.js';
import { TlsAcceptor } from './tls/tlsAcceptor.js';
import { applyTlsConfigFile } from './tls/tlsConfigFile.js';

export interface NameServerStartOptions {
  config: NamesrvOptions;
  logger?: Logger;
  /** SimulatedClock in tests; the system clock otherwise. */
  clock?: ServerClock;
  /** Extra inspection observers. */
  inspectors?: Array<(event: InspectionEvent) => void>;
  /** `--inspect`: stream every actor to a Stately inspector at this WebSocket URL. */
  inspectUrl?: string;
  /** Replaces the KV store's atomic file writer (tests inject disk failures here). */
  kvWriteFile?: KvFileWriter;
  /**
   * Test seam, never set by production code: re-provides the lifecycle chart's
   * implementations after this root provided its own. The mutation tests build
   * deliberately faulty name servers with it (test/conform/mutants.ts), which
   * `xnamesrv conform` must catch.
   */
  reprovideLifecycle?: (machine: typeof nameServerMachine) => typeof nameServerMachine;
}

export type { BrokerSnapshot, LifecycleStatus };

export class NameServerStartError extends Error {}

/**
 * The composition root: builds one name server from its parts and runs its
 * lifecycle actor. Nothing here is module-level, so many instances can run in
 * one process.
 */
export class NameServer {
  readonly config: RuntimeConfig;
  readonly kv: KvStore;
  readonly routes: RouteTable;
  readonly remoting: RemotingServer;
  readonly http: HttpServer;
  readonly transitions: TransitionObserver;
  readonly logger: Logger;
  readonly clock: ServerClock;
  readonly actor: Actor<typeof nameServerMachine>;
  readonly metrics: NameServerMetrics;
  readonly gateway: Gateway;
  /** Every configured limit that refused something: counted for /metrics, logged once per offender. */
  readonly limits: LimitEvents;
  /** Requests per connection waiting for their answer (maxInFlightRequestsPerConnection). */
  readonly inFlight: InFlightLimiter;
  /** Per-broker bookkeeping outside the charts: connections, actor index, refresh times. */
  readonly brokers: BrokerLiveness;
  /** TLS refusals, reloads and httpAuthRequired refusals: counted for /metrics, logged once per peer. */
  readonly security: SecurityEvents;
  /** TLS of the remoting port (tls.server.mode) and of the HTTP port (httpTlsMode; undefined when disabled). */
  readonly tls: { readonly remoting: TlsAcceptor; readonly http: TlsAcceptor | undefined };
  private readonly inspectors: Array<(event: InspectionEvent) => void> = [];

  /** When the lifecycle's top-level state was last entered, as the transition stream saw it. */
  private lifecycleSince: number;
  /** When the wait for service began (entering `waiting`), for the countdowns the probes and console show. */
  private waitStartedAt: number | undefined;
  private readonly processors = new Map<number, RequestHandler>();
  private nextLocalConnectionId = -1;
  private readonly shutdownHooks: Array<() => Promise<void> | void> = [];
  private startUpDone: Promise<unknown> = Promise.resolve();

  private constructor(options: NameServerStartOptions) {
    const config = options.config;
    this.logger = options.logger ?? silentLogger();
    this.clock = options.clock ?? systemClock();
    this.lifecycleSince = this.clock.now();
    // As the Java name server prints its config at start; secrets show as ******.
    this.logger.info(
      { config: Object.fromEntries(configEntries(config, { maskSecrets: true })) },
      'effective configuration',
    );
    this.config = new RuntimeConfig(config);
    this.kv = new KvStore({
      path: config.kvConfigPath,
      logger: this.logger,
      ...(options.kvWriteFile ? { writeFile: options.kvWriteFile } : {}),
    });
    this.limits = new LimitEvents(this.logger);
    this.inFlight = new InFlightLimiter(config.maxInFlightRequestsPerConnection, this.limits);
    this.routes = new RouteTable({
      supportActingMaster: config.supportActingMaster,
      deleteTopicWithBrokerRegistration: config.deleteTopicWithBrokerRegistration,
      notifyMinBrokerIdChanged: config.notifyMinBrokerIdChanged,
    });
    this.config.onChange((next, changed) => {
      if (changed.includes('logLevel')) this.logger.level = next.logLevel;
      this.routes.updateOptions({
        supportActingMaster: next.supportActingMaster,
        deleteTopicWithBrokerRegistration: next.deleteTopicWithBrokerRegistration,
        notifyMinBrokerIdChanged: next.notifyMinBrokerIdChanged,
      });
    });
    this.security = new SecurityEvents(this.logger);
    const tlsParts = { clock: this.clock, logger: this.logger, events: this.security };
    this.tls = {
      remoting: new TlsAcceptor({
        ...tlsParts,
        settings: remotingTlsSettings(config),
        reloadSettings: () => remotingTlsSettings(applyTlsConfigFile(config)),
      }),
      // A plain HTTP port is left exactly as it was: nothing looks at its connections' first bytes.
      http:
        config.httpTlsMode === 'disabled'
          ? undefined
          : new TlsAcceptor({ ...tlsParts, settings: httpTlsSettings(config) }),
    };
    this.remoting = new RemotingServer({
      host: config.bindAddress,
      port: config.listenPort,
      maxFrameLength: config.maxFrameLength,
      idleTimeoutMs: config.serverChannelMaxIdleTimeSeconds * 1000,
      logger: this.logger,
      onRequestDone: (code, responseCode, durationSeconds) =>
        this.metrics.recordRequest(code, responseCode, durationSeconds),
      maxConnections: config.remotingMaxConnections,
      maxBufferedBytes: config.remotingMaxBufferedBytes,
      limits: this.limits,
      onProtocolError: () => this.metrics.recordProtocolError(),
      tls: this.tls.remoting,
    });
    this.metrics = new NameServerMetrics({
      lifecycleState: () => this.lifecycleState(),
      // Straight from the snapshot: lifecycle() would also evaluate the wait target over every live broker.
      lifecycleTags: () => [...this.actor.getSnapshot().tags],
      brokerStates: () => this.brokers.states(),
      routeStats: () => this.routes.stats(),
      remotingConnections: () => this.remoting.connections(),
      inFlightRequests: () => this.inFlight.total(),
      kvStore: () => ({ degraded: this.kv.degraded !== undefined, writeFailures: this.kv.writeFailures }),
    });
    this.metrics.attachLimits(this.limits);
    this.metrics.attachSecurity({
      snapshot: () => this.security.snapshot(),
      expiries: () => [...this.tls.remoting.expiries(), ...(this.tls.http?.expiries() ?? [])],
    });
    this.http = new HttpServer({
      host: config.bindAddress,
      port: config.httpPort,
      logger: this.logger,
      maxConnections: config.httpMaxConnections,
      limits: this.limits,
      ...(this.tls.http ? { tls: this.tls.http } : {}),
      ...(config.httpAuthRequired ? { auth: new HttpAuth(config.gatewayToken, this.security) } : {}),
    });
    this.brokers = new BrokerLiveness({
      routes: this.routes,
      logger: this.logger,
      send: (event) => this.actor.send(event),
      stopping: () => this.actor.getSnapshot().matches('stopping'),
    });
    this.transitions = new TransitionObserver(() => this.clock.now(), summarizeContext);
    this.transitions.onTransition((t) => {
      if (t.machine === 'nameServer' && (t.from === null || t.from.split('.')[0] !== t.to.split('.')[0])) {
        this.lifecycleSince = t.at;
        if (t.to.startsWith('waiting')) this.waitStartedAt = t.at;
      }
      this.brokers.observe(t);
      this.metrics.recordTransition(t);
      this.logTransition(t);
    });

    const processorContext: ProcessorContext = {
      config: this.config,
      kv: this.kv,
      routes: this.routes,
      clock: this.clock,
      logger: this.logger,
      sendToLifecycle: (event) => this.actor.send(event),
      servingRoutes: () => this.actor.getSnapshot().hasTag('servingRoutes'),
      bindBrokerToConnection: (connectionId, brokerKey) => this.brokers.bindToConnection(connectionId, brokerKey),
      boundPorts: () => ({ listenPort: this.remotingPort, httpPort: this.httpPort }),
    };
    registerProcessors(
      {
        register: (code, handler) => {
          const limited = this.inFlight.wrap(handler);
          this.processors.set(code, limited);
          this.remoting.register(code, limited);
        },
      },
      processorContext,
    );
    this.remoting.onConnectionClosed((connection) => this.connectionClosed(connection.id));
    const notifier = new MinBrokerIdNotifier({ logger: this.logger });
    this.routes.onChange((change) => {
      for (const minBrokerIdChange of change.minBrokerIdChanges ?? []) notifier.notify(minBrokerIdChange);
    });
    this.shutdownHooks.push(() => notifier.close());
    registerHealthRoutes(this.http, this);
    registerAddressServerRoutes(this.http, this.config);
    registerMachineRoutes(this.http, [nameServerMachine, brokerMachine]);
    this.http.get('/metrics', async () => ({
      status: 200,
      contentType: this.metrics.contentType,
      body: await this.metrics.render(),
    }));
    if (options.inspectUrl) {
      const live = createLiveInspector(options.inspectUrl, { logger: this.logger });
      this.inspectors.push((event) => live.inspect(event));
      this.shutdownHooks.push(() => live.stop());
    }

    this.inspectors.push(this.transitions.inspect, ...(options.inspectors ?? []));
    const inspectors = this.inspectors;
    const inspect = (event: InspectionEvent) => {
      for (const inspector of inspectors) inspector(event);
    };
    const machine = nameServerMachine.provide({
      actors: {
        brokerRegistry: createBrokerRegistry({ clock: this.clock, inspect, actors: this.brokers.actors }),
        startUp: fromPromise<void>(async () => {
          const started = this.startListeners();
          this.startUpDone = started.catch(() => undefined);
          await started;
        }),
        shutDown: fromPromise<void, { reason: string }>(async ({ input }) => this.shutDown(input.reason)),
      },
      actions: {
        removeBrokerFromRoutes: ({ event }) => {
          assertEvent(event, 'BROKER.REMOVED');
          this.brokers.removeFromRoutes(event.removal);
        },
      },
    });
    this.actor = createActor(options.reprovideLifecycle?.(machine) ?? machine, {
      id: 'nameServer',
      input: lifecycleSettingsOf(config),
      clock: this.clock,
      inspect,
    });
    this.actor.subscribe({ error: (err) => this.logger.error({ err }, 'name server actor failed') });
    this.gateway = new Gateway(this);
    this.http.onUpgrade('/ws', (request, socket, head) => this.gateway.handleUpgrade(request, socket, head));
    if (config.consoleEnabled)
      registerConsoleRoutes(this.http, {
        nameServers: config.consoleNameServers,
        version: this.gateway.identity.version,
      });
    this.metrics.attachGateway(this.gateway);
    this.onShutdown(() => this.gateway.close());
  }

  /**
   * Starts a name server and resolves once its listeners are bound (state
   * waiting or ready). Rejects with the reason when start-up fails.
   */
  static async start(options: NameServerStartOptions): Promise<NameServer> {
    const server = new NameServer(options);
    server.actor.start();
    const state = await server.waitForState((s) => s !== 'starting');
    if (state === 'failed') {
      throw new NameServerStartError(server.actor.getSnapshot().context.reason ?? 'start-up failed');
    }
    return server;
  }

  get remotingPort(): number {
    return this.remoting.address()?.port ?? 0;
  }

  get httpPort(): number {
    return this.http.port;
  }

  lifecycleState(): LifecycleState {
    return lifecycleStateOf(this.actor.getSnapshot().value);
  }

  /** The lifecycle as the chart's snapshot says it is (see describeLifecycle). */
  lifecycle(): LifecycleStatus {
    return describeLifecycle(
      this.actor.getSnapshot(),
      this.lifecycleSince,
      this.kv.degraded ? [`KV store: ${this.kv.degraded}`] : [],
      this.waitStartedAt,
    );
  }

  /** Every live broker: identity, actor state, generation, last refresh, DataVersion, topic count. */
  brokerSnapshots(): BrokerSnapshot[] {
    return this.brokers.snapshots();
  }

  send(event: NameServerEvent): void {
    this.actor.send(event);
  }

  /** Graceful stop: stop accepting, answer in-flight requests, flush, then `stopped`. */
  async close(reason = 'close requested'): Promise<void> {
    const state = this.lifecycleState();
    if (state !== 'stopped' && state !== 'failed') this.actor.send({ type: 'STOP', reason });
    await this.waitForState((s) => s === 'stopped' || s === 'failed');
  }

  /** Components added later (the gateway) register their own shutdown here. */
  onShutdown(hook: () => Promise<void> | void): void {
    this.shutdownHooks.push(hook);
  }

  waitForState(predicate: (state: LifecycleState) => boolean): Promise<LifecycleState> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        const state = this.lifecycleState();
        if (predicate(state)) {
          resolve(state);
          return true;
        }
        return false;
      };
      if (check()) return;
      const subscription = this.actor.subscribe({
        next: () => {
          if (check()) subscription.unsubscribe();
        },
        complete: () => {
          check();
          subscription.unsubscribe();
        },
      });
    });
  }

  private async startListeners(): Promise<void> {
    const loaded = await this.kv.load();
    if (!loaded.ok) throw new Error(loaded.error);
    // Certificate files are read before any port is bound: a bad one stops the start, naming its key and file.
    this.tls.remoting.load();
    this.tls.http?.load();
    try {
      const remoting = await this.remoting.listen();
      const http = await this.http.listen();
      this.logger.info({ remotingPort: remoting.port, httpPort: http.port, host: remoting.host }, 'listening');
      this.tls.remoting.start();
      this.tls.http?.start();
    } catch (err) {
      await this.remoting.close().catch(() => undefined);
      await this.http.close().catch(() => undefined);
      throw err;
    }
  }

  private async shutDown(reason: string): Promise<void> {
    // A stop during start-up waits for the listeners it may still be binding.
    await this.startUpDone;
    this.logger.info({ reason }, 'shutting down');
    // Every step runs even when an earlier one fails: a failed shutdown must
    // still release the ports and flush the KV store, then report what failed.
    const failures: string[] = [];
    const step = async (name: string, action: () => Promise<void> | void) => {
      try {
        await action();
      } catch (err) {
        failures.push(errorMessage(err));
        this.logger.error({ err, step: name }, 'shutdown step failed');
      }
    };
    for (const hook of this.shutdownHooks) await step('hook', hook);
    await step('remoting', () => this.remoting.close());
    await step('http', () => this.http.close());
    await step('tls', () => {
      this.tls.remoting.stop();
      this.tls.http?.stop();
    });
    await step('kv', () => this.kv.flush());
    if (failures.length > 0) throw new Error(failures.join('; '));
  }

  private logTransition(transition: Transition): void {
    if (transition.machine === 'nameServer') {
      const top = lifecycleStateOf(transition.to.split('.')[0]!);
      const level = top === 'failed' || top === 'timedOut' ? 'warn' : 'info';
      const extra: Record<string, unknown> = { tags: transition.tags };
      if (top === 'timedOut') {
        const snapshot = this.actor.getSnapshot();
        extra.missing = evaluateWaitTarget(snapshot.context.settings, snapshot.context.liveBrokers).missing;
      }
      this.logger[level](
        { from: transition.from, to: transition.to, cause: transition.event, ...transition.context, ...extra },
        `name server ${transition.from ?? '(new)'} -> ${transition.to}`,
      );
    } else {
      this.logger.debug(
        { actor: transition.actorId, from: transition.from, to: transition.to, cause: transition.event },
        'broker transition',
      );
    }
  }

  /**
   * Runs a request code's processor for a caller that is not a TCP connection
   * (the WebSocket gateway), so both surfaces share one implementation.
   */
  async invokeProcessor(request: RemotingCommand, connection: RemotingConnection): Promise<RemotingCommand> {
    const handler = this.processors.get(request.code);
    if (!handler)
      return createResponse(
        request,
        ResponseCode.REQUEST_CODE_NOT_SUPPORTED,
        ` request type ${request.code} not supported`,
      );
    try {
      return (await handler(request, connection)) ?? createResponse(request, ResponseCode.SUCCESS);
    } catch (err) {
      return createResponse(request, ResponseCode.SYSTEM_ERROR, errorMessage(err));
    }
  }

  /** Every request code with a processor, ascending. */
  supportedRequestCodes(): number[] {
    return [...this.processors.keys()].sort((a, b) => a - b);
  }

  /** Connection ids for non-TCP callers; negative so they never meet a TCP connection's id. */
  allocateLocalConnectionId(): number {
    return this.nextLocalConnectionId--;
  }

  /** A connection closed: each broker that registered over it gets a (generation-fenced) removal. */
  connectionClosed(connectionId: number): void {
    this.brokers.connectionClosed(connectionId);
  }
}

function lifecycleSettingsOf(config: NamesrvOptions): LifecycleSettings {
  return {
    needWaitForService: config.needWaitForService,
    waitSecondsForService: config.waitSecondsForService,
    waitTimeoutSeconds: config.waitTimeoutSeconds,
    waitForBrokers: config.waitForBrokers,
    waitForBrokerNames: config.waitForBrokerNames,
    waitTimeoutAction: config.waitTimeoutAction,
  };
}

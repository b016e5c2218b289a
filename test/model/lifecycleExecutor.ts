import { refuses } from '../support/net.js';
import { expect } from 'vitest';
import type { NameServerEvent } from '../../machines/nameServer.js';
import { lifecycleStateOf } from '../../machines/nameServer.js';
import { NameServerStartError, type NameServer } from '../../src/nameServer.js';
import { stateName, type Transition } from '../../src/observe/transitions.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import type { LifecyclePlanConfig } from '../../src/conform/plan/lifecyclePlan.js';
import { parseFastjsonText } from '../../src/protocol/fastjsonParser.js';
import { registerBrokerRequest } from '../support/broker.js';
import type { CoverageRecorder } from './inventory.js';
import { GatewayWs, type GatewayMessage } from './gatewayClient.js';
import { launchServer, TransitionLog, type LaunchedServer, type StartFailure } from './liveServer.js';
import {
  AFTER_WAIT_FOR_SERVICE,
  AFTER_WAIT_TIMEOUT,
  MODEL_HEARTBEAT_TIMEOUT_MS,
  SHUTDOWN_DONE,
  SHUTDOWN_ERROR,
  STARTUP_DONE,
  STARTUP_ERROR,
  type ModelPathNS,
  type ModelSnapshot,
  type SampleBroker,
} from './nameServerModel.js';
import { describeEvent } from './paths.js';
import { createGate, within, type Gate } from './wait.js';

const ROUTE_TOPIC = 'TopicTest';
const NOT_READY = 'name server not ready';
const SHUTDOWN_FAILURE = 'model: a shutdown hook failed';

/**
 * Executes one generated lifecycle path against a running xnamesrv: each
 * event becomes outside input (TCP requests from broker-shaped clients,
 * connection closes, clock advances, start-up failures, server.close()), and
 * after each step what an outside observer sees is compared with the model
 * state the step leads to.
 */
export class LifecycleRun {
  private launched!: LaunchedServer;
  private server: NameServer | undefined;
  private startError: unknown;
  private readonly log = new TransitionLog();
  private serverLog: TransitionLog | undefined;
  /** server.transitions including keep-alive traffic: what the gateway streams. */
  private serverAll: TransitionLog | undefined;
  private ws: GatewayWs | undefined;
  private wsMark = 0;
  private serverAllMark = 0;
  private readonly brokerClients = new Map<string, RemotingClient>();
  private probe: RemotingClient | undefined;
  private readonly lastRefresh = new Map<string, number>();
  private waitingSince: number | undefined;
  private gate: Gate | undefined;
  private closing: Promise<void> | undefined;
  /** Whether routes were served when STOP arrived: a stopping server keeps answering as it did. */
  private servingWhenStopped = false;
  /** How start-up was made to fail, when the path asked for it. */
  failure: StartFailure = 'none';
  /**
   * Whether the route table holds queue data for the topic: as in Java, only a
   * master's registration (a broker sending no enableActingMaster counts as an
   * old one, so its slaves never stand in) creates it, and it goes when the
   * broker name's last address goes. History, not model state, so kept here.
   */
  private topicQueuesExist = false;
  private stepMark = 0;
  private serverStepMark = 0;
  readonly notes: string[] = [];

  constructor(
    private readonly config: LifecyclePlanConfig,
    private readonly recorder: CoverageRecorder,
    private readonly startFailureKind: () => Exclude<StartFailure, 'none'>,
  ) {}

  async run(path: ModelPathNS): Promise<void> {
    try {
      let previous: ModelSnapshot | undefined;
      for (let i = 0; i < path.steps.length; i++) {
        const step = path.steps[i]!;
        const next = path.steps[i + 1];
        this.stepMark = this.log.length;
        this.serverStepMark = this.serverLog?.length ?? 0;
        this.serverAllMark = this.serverAll?.length ?? 0;
        this.wsMark = this.ws?.transitions().length ?? 0;
        try {
          await this.exec(step.event, previous, next?.event);
          await this.check(previous, step.event, step.state);
        } catch (err) {
          const e = err as Error;
          e.message = `step ${i} (${describeEvent(step.event)} => ${stateName(step.state.value)}): ${e.message}`;
          throw err;
        }
        previous = step.state;
      }
    } finally {
      this.recorder.pause();
      try {
        await this.dispose();
      } finally {
        this.recorder.resume();
      }
    }
  }

  // ---------------------------------------------------------------- inputs

  private async exec(
    event: NameServerEvent | { type: string },
    before: ModelSnapshot | undefined,
    nextEvent: { type: string } | undefined,
  ): Promise<void> {
    switch (event.type) {
      case 'xstate.init':
        return this.launch(nextEvent?.type === STARTUP_ERROR);
      case STARTUP_DONE: {
        this.server = await this.launched.started;
        this.attachServerStreams();
        this.rememberPorts();
        this.ws = await GatewayWs.open(this.server.httpPort);
        return;
      }
      case STARTUP_ERROR: {
        this.startError = await this.launched.started.then(
          () => new Error('NameServer.start resolved but the model expected a start-up failure'),
          (err: unknown) => err,
        );
        return;
      }
      case 'STOP':
        return this.stop(before!);
      case SHUTDOWN_DONE:
        this.gate!.release();
        await within(this.closing!, 'server.close() after the shutdown hook passed');
        return;
      case SHUTDOWN_ERROR:
        this.gate!.fail(new Error(SHUTDOWN_FAILURE));
        await within(this.closing!, 'server.close() after the shutdown hook failed');
        return;
      case AFTER_WAIT_FOR_SERVICE:
        return this.advanceTo(this.waitingSince! + this.config.settings.waitSecondsForService * 1000, before!);
      case AFTER_WAIT_TIMEOUT:
        return this.advanceTo(this.waitingSince! + this.config.settings.waitTimeoutSeconds * 1000, before!);
      case 'BROKER.REGISTERED':
        return this.register((event as Extract<NameServerEvent, { type: 'BROKER.REGISTERED' }>).registration.brokerKey);
      case 'BROKER.HEARTBEAT':
        return this.heartbeat((event as Extract<NameServerEvent, { type: 'BROKER.HEARTBEAT' }>).brokerKey);
      case 'BROKER.UNREGISTERED':
        return this.unregister((event as Extract<NameServerEvent, { type: 'BROKER.UNREGISTERED' }>).brokerKey);
      case 'BROKER.CONNECTION_CLOSED':
        return this.dropConnection((event as Extract<NameServerEvent, { type: 'BROKER.CONNECTION_CLOSED' }>).brokerKey);
      case 'BROKER.REMOVED': {
        const removal = (event as Extract<NameServerEvent, { type: 'BROKER.REMOVED' }>).removal;
        if (removal.reason !== 'expired')
          throw new Error(`the executor drives BROKER.REMOVED only as an expiry, not ${removal.reason}`);
        return this.expire(removal.brokerKey, before!);
      }
      default:
        throw new Error(
          `no way to drive event ${event.type} against a running server: teach test/model/lifecycleExecutor.ts`,
        );
    }
  }

  private async launch(failStartUp: boolean): Promise<void> {
    this.failure = failStartUp ? this.startFailureKind() : 'none';
    const s = this.config.settings;
    const settings: Record<string, string | number | boolean | string[]> = {
      needWaitForService: s.needWaitForService,
      waitSecondsForService: s.waitSecondsForService,
      waitTimeoutSeconds: s.waitTimeoutSeconds,
      waitTimeoutAction: s.waitTimeoutAction,
      // Gateway pings run on the server's clock, which paths move by minutes at a time.
      gatewayPingIntervalSeconds: 0,
    };
    if (s.waitForBrokers > 0) settings.waitForBrokers = s.waitForBrokers;
    if (s.waitForBrokerNames.length > 0) settings.waitForBrokerNames = [...s.waitForBrokerNames];
    const trackWaiting = (t: Transition) => {
      if (t.machine === 'nameServer' && t.from === 'starting' && t.to.startsWith('waiting')) this.waitingSince = t.at;
    };
    this.launched = await launchServer({
      settings,
      failure: this.failure,
      inspectors: [this.recorder.inspect],
      onTransition: [trackWaiting, this.log.listener],
    });
  }

  private attachServerStreams(): void {
    const server = this.server!;
    // Both observers are fed the same inspection events, so they number them alike.
    expect(
      server.transitions.currentSeq,
      'server.transitions and the test observer saw the same transitions so far',
    ).toBe(this.launched.observer.currentSeq);
    this.serverLog = new TransitionLog();
    server.transitions.onTransition(this.serverLog.listener);
    this.serverAll = new TransitionLog();
    server.transitions.onTransition(this.serverAll.listener);
    this.serverStepMark = 0;
    this.serverAllMark = 0;
  }

  private async stop(before: ModelSnapshot): Promise<void> {
    const gate = createGate();
    this.gate = gate;
    if (stateName(before.value) === 'starting') {
      // Nothing outside can stop a server that NameServer.start has not handed
      // out yet; the lifecycle actor's own STOP is the only input there is.
      this.notes.push(
        'STOP while starting sent to the lifecycle actor (no outside handle exists before NameServer.start resolves)',
      );
      this.launched.lifecycleActor().send({ type: 'STOP', reason: 'model stop' });
      this.server = await within(this.launched.started, 'NameServer.start to resolve after STOP');
      this.attachServerStreams();
      this.server.onShutdown(() => gate.wait());
      this.servingWhenStopped = false;
      this.closing = this.server.close('model stop');
    } else {
      this.servingWhenStopped = this.expectedServing(lifecycleStateOf(before.value));
      this.server!.onShutdown(() => gate.wait());
      this.closing = this.server!.close('model stop');
    }
    this.closing.catch(() => undefined);
    // Shutdown is held at the hook: listeners are bound and still open.
    await within(gate.entered, 'the shutdown hook to be reached');
    this.rememberPorts();
  }

  private brokerOf(brokerKey: string): SampleBroker {
    const broker = this.config.brokers.find((b) => `${b.clusterName}|${b.brokerAddr}` === brokerKey);
    if (!broker) throw new Error(`unknown model broker ${brokerKey}`);
    return broker;
  }

  private async connectionOf(brokerKey: string): Promise<RemotingClient> {
    let client = this.brokerClients.get(brokerKey);
    if (!client || client.closed) {
      client = await RemotingClient.connect({ host: '127.0.0.1', port: this.server!.remotingPort });
      this.brokerClients.set(brokerKey, client);
    }
    return client;
  }

  private async register(brokerKey: string): Promise<void> {
    const broker = this.brokerOf(brokerKey);
    const client = await this.connectionOf(brokerKey);
    const { extFields, body } = registerBrokerRequest({
      clusterName: broker.clusterName,
      brokerName: broker.brokerName,
      brokerAddr: broker.brokerAddr,
      brokerId: broker.brokerId,
      heartbeatTimeoutMillis: MODEL_HEARTBEAT_TIMEOUT_MS,
      topics: { [ROUTE_TOPIC]: {}, [broker.brokerName]: {} },
    });
    const response = await client.invoke(RequestCode.REGISTER_BROKER, extFields, body);
    expect([response.code, response.remark ?? null], 'REGISTER_BROKER answer').toEqual([ResponseCode.SUCCESS, null]);
    this.lastRefresh.set(brokerKey, this.launched.clock.now());
    if (broker.brokerId === 0) this.topicQueuesExist = true;
  }

  private async heartbeat(brokerKey: string): Promise<void> {
    const broker = this.brokerOf(brokerKey);
    const client = await this.connectionOf(brokerKey);
    const response = await client.invoke(RequestCode.BROKER_HEARTBEAT, {
      clusterName: broker.clusterName,
      brokerAddr: broker.brokerAddr,
      brokerName: broker.brokerName,
    });
    expect(response.code, 'BROKER_HEARTBEAT answer').toBe(ResponseCode.SUCCESS);
    this.lastRefresh.set(brokerKey, this.launched.clock.now());
  }

  private async unregister(brokerKey: string): Promise<void> {
    const broker = this.brokerOf(brokerKey);
    const client = await this.connectionOf(brokerKey);
    const response = await client.invoke(RequestCode.UNREGISTER_BROKER, {
      clusterName: broker.clusterName,
      brokerAddr: broker.brokerAddr,
      brokerName: broker.brokerName,
      brokerId: String(broker.brokerId),
    });
    expect(response.code, 'UNREGISTER_BROKER answer').toBe(ResponseCode.SUCCESS);
  }

  private async dropConnection(brokerKey: string): Promise<void> {
    const client = this.brokerClients.get(brokerKey);
    if (!client || client.closed) throw new Error(`model says ${brokerKey} is live but it has no open connection`);
    const mark = this.log.length;
    await client.close();
    await within(
      this.log.next(mark, (t) => t.machine === 'broker' && t.actorId === brokerKey && t.to === 'disconnected'),
      `broker ${brokerKey} to be disconnected after its connection closed`,
    );
  }

  /** Keeps every live broker but `except` refreshed while the simulated clock moves to `target`. */
  private async advanceTo(target: number, before: ModelSnapshot, except?: string): Promise<void> {
    const clock = this.launched.clock;
    if (target < clock.now()) throw new Error(`cannot move the clock back to ${target}`);
    const keepAlive = [...before.context.liveBrokers.keys()].filter((key) => key !== except);
    while (clock.now() < target) {
      if (keepAlive.length > 0) {
        await this.recorder.unrecorded(() =>
          this.asNoise(async () => {
            for (const key of keepAlive) await this.heartbeat(key);
          }),
        );
      }
      clock.increment(Math.min(target - clock.now(), MODEL_HEARTBEAT_TIMEOUT_MS / 2));
    }
  }

  /** Traffic the model does not know about (keep-alive heartbeats): neither asserted nor counted. */
  private asNoise<T>(body: () => Promise<T>): Promise<T> {
    const serverLog = this.serverLog;
    return this.log.asNoise(() => (serverLog ? serverLog.asNoise(body) : body()));
  }

  private pendingLifecycleDeadline(before: ModelSnapshot): number | undefined {
    const value = stateName(before.value);
    const s = this.config.settings;
    if (value === 'waiting.holding')
      return this.waitingSince! + Math.min(s.waitSecondsForService, s.waitTimeoutSeconds) * 1000;
    if (value === 'waiting.targetPending') return this.waitingSince! + s.waitTimeoutSeconds * 1000;
    return undefined;
  }

  private async expire(brokerKey: string, before: ModelSnapshot): Promise<void> {
    const expiry = this.lastRefresh.get(brokerKey)! + MODEL_HEARTBEAT_TIMEOUT_MS;
    const deadline = this.pendingLifecycleDeadline(before);
    if (deadline !== undefined && expiry >= deadline) {
      throw new Error(
        `path not executable in time: ${brokerKey} expires at +${expiry - this.waitingSince!} ms, not before the lifecycle timer at +${deadline - this.waitingSince!} ms`,
      );
    }
    const mark = this.log.length;
    await this.advanceTo(expiry, before, brokerKey);
    await within(
      this.log.next(mark, (t) => t.machine === 'broker' && t.actorId === brokerKey && t.to === 'expired'),
      `broker ${brokerKey} to expire`,
    );
  }

  // ---------------------------------------------------------- observations

  private async check(
    before: ModelSnapshot | undefined,
    event: { type: string },
    expected: ModelSnapshot,
  ): Promise<void> {
    const value = stateName(expected.value);
    const top = lifecycleStateOf(expected.value);
    const live = [...expected.context.liveBrokers.keys()].sort();
    if (live.length === 0) this.topicQueuesExist = false;

    // The running actor agrees with the model.
    const actual = this.launched.lifecycleActor().getSnapshot();
    expect(stateName(actual.value), 'lifecycle actor state').toBe(value);
    expect(
      [...(actual.context.liveBrokers as Map<string, unknown>).keys()].sort(),
      'lifecycle actor live brokers',
    ).toEqual(top === 'stopped' || top === 'failed' ? [] : live);

    this.checkTransitions(this.log.since(this.stepMark), before, event, expected, 'test observer');
    if (
      this.serverLog &&
      event.type !== STARTUP_DONE &&
      !(event.type === 'STOP' && before && stateName(before.value) === 'starting')
    ) {
      expect(
        this.serverLog.since(this.serverStepMark),
        'server.transitions reports what the inspector-fed observer reports',
      ).toEqual(this.log.since(this.stepMark));
    }

    await this.checkGatewayStream(event);

    switch (top) {
      case 'starting':
        // Not listening yet: no port has been handed out.
        expect(this.server).toBeUndefined();
        return;
      case 'failed':
        if (event.type === STARTUP_ERROR) return this.checkFailedStart(actual.context.reason as string | undefined);
        return this.checkFailedShutdown();
      case 'stopped':
        return this.checkStopped();
      default:
        return this.checkServing(top, value, expected);
    }
  }

  /** The gateway streams exactly what server.transitions reports (keep-alive traffic included), without its seq. */
  private async checkGatewayStream(event: { type: string }): Promise<void> {
    const ws = this.ws;
    if (!ws || !this.serverAll) return;
    if (event.type === STARTUP_DONE) {
      expect(ws.hello.lifecycle, 'gateway hello lifecycle').toMatchObject({
        state: this.server!.lifecycle().state,
        detail: this.server!.lifecycle().detail,
      });
      return;
    }
    if (event.type === 'STOP') {
      // Shutdown runs the gateway's hook first: it streams the stopping transition, then closes clients with 1001.
      expect(
        await within(ws.closed, 'the gateway to close the stream on shutdown'),
        'gateway close on shutdown',
      ).toMatchObject({ code: 1001 });
    } else if (ws.isOpen) {
      await ws.barrier();
    } else {
      return; // closed at an earlier STOP
    }
    const streamed = ws.transitions().slice(this.wsMark).map(withoutSeq);
    const reported = this.serverAll.since(this.serverAllMark).map(withoutSeq);
    expect(streamed, `gateway stream for ${event.type}`).toEqual(reported);
  }

  private checkTransitions(
    seen: Transition[],
    before: ModelSnapshot | undefined,
    event: { type: string },
    expected: ModelSnapshot,
    source: string,
  ): void {
    const lifecycle = seen.filter((t) => t.machine === 'nameServer');
    const from = before ? stateName(before.value) : null;
    const to = stateName(expected.value);
    if (from === to && before) {
      expect(lifecycle, `${source}: no lifecycle transition for ${event.type}`).toEqual([]);
    } else {
      expect(lifecycle.length, `${source}: lifecycle transitions for ${event.type}`).toBeGreaterThan(0);
      expect(lifecycle[0]!.from, `${source}: first lifecycle transition starts where the model was`).toBe(from);
      expect(lifecycle[lifecycle.length - 1]!.to, `${source}: last lifecycle transition ends where the model is`).toBe(
        to,
      );
      for (let i = 1; i < lifecycle.length; i++) expect(lifecycle[i]!.from).toBe(lifecycle[i - 1]!.to);
      // A registration reaches the name server as the broker registry's BROKER.LIVE, once the broker's actor took it.
      const cause = event.type === 'BROKER.REGISTERED' ? 'BROKER.LIVE' : event.type;
      expect(lifecycle[0]!.event, `${source}: the lifecycle transition names its cause`).toBe(cause);
      if (event.type === 'BROKER.REGISTERED') {
        const brokerAt = seen.findIndex((t) => t.machine === 'broker');
        expect(
          brokerAt,
          `${source}: the broker's transition comes before the lifecycle transition it completes`,
        ).toBeGreaterThan(-1);
        expect(
          brokerAt,
          `${source}: the broker's transition comes before the lifecycle transition it completes`,
        ).toBeLessThan(seen.indexOf(lifecycle[0]!));
      }
    }
    const brokers = seen
      .filter((t) => t.machine === 'broker')
      .map((t) => `${t.actorId}: ${t.from}->${t.to} (${t.event})`);
    if (event.type === SHUTDOWN_DONE || event.type === SHUTDOWN_ERROR) {
      // Closing the remoting server closes the brokers' connections (also when
      // a shutdown hook failed): each live broker ends `disconnected` while the
      // lifecycle is still stopping.
      const disconnects = [...before!.context.liveBrokers.keys()]
        .map((key) => `${key}: registered->disconnected (CONNECTION_CLOSED)`)
        .sort();
      expect(brokers.sort(), `${source}: broker transitions for ${event.type}`).toEqual(disconnects);
      return;
    }
    expect(brokers, `${source}: broker transitions for ${event.type}`).toEqual(
      this.expectedBrokerTransitions(before, event),
    );
  }

  private expectedBrokerTransitions(before: ModelSnapshot | undefined, event: { type: string }): string[] {
    const e = event as NameServerEvent;
    switch (e.type) {
      case 'BROKER.REGISTERED': {
        const key = e.registration.brokerKey;
        return before?.context.liveBrokers.has(key)
          ? [`${key}: registered->registered (REGISTER)`]
          : [`${key}: null->registered (xstate.init)`];
      }
      case 'BROKER.HEARTBEAT':
        return [`${e.brokerKey}: registered->registered (HEARTBEAT)`];
      case 'BROKER.UNREGISTERED':
        return [`${e.brokerKey}: registered->unregistered (UNREGISTER)`];
      case 'BROKER.CONNECTION_CLOSED':
        return [`${e.brokerKey}: registered->disconnected (CONNECTION_CLOSED)`];
      case 'BROKER.REMOVED':
        return [`${e.removal.brokerKey}: registered->expired (xstate.after.heartbeatTimeout.broker.registered)`];
      default:
        return [];
    }
  }

  /** The oracle, from the configuration alone: what the chart must decide. */
  private expectedServing(top: string): boolean {
    if (top === 'stopping') return this.servingWhenStopped;
    return top === 'ready' || (top === 'timedOut' && this.config.settings.waitTimeoutAction === 'serve');
  }

  private async checkServing(top: string, value: string, expected: ModelSnapshot): Promise<void> {
    const server = this.server!;
    const serving = this.expectedServing(top);
    const liveBrokers = [...expected.context.liveBrokers.entries()].map(([key, b]) => ({
      ...b,
      brokerAddr: key.slice(key.indexOf('|') + 1),
    }));
    const target = waitTargetOracle(this.config, liveBrokers);

    // Readiness probe.
    const ready = await httpGet(server.httpPort, '/readyz');
    const degraded = top === 'timedOut' && serving;
    expect(ready.status, `/readyz status in ${value}`).toBe(serving && top !== 'stopping' ? 200 : 503);
    expect(ready.body, `/readyz body in ${value}`).toMatchObject({
      state: top,
      detail: value,
      servingRoutes: serving,
      degraded,
      waitTarget: { met: target.met, liveBrokers: liveBrokers.length },
    });
    // Every answer is true: a server that refuses says so and why, one that serves degraded says what it serves.
    if (serving) {
      expect(ready.body.routesRefused, `/readyz routesRefused in ${value}`).toBeNull();
    } else {
      expect(ready.body.routesRefused, `/readyz routesRefused in ${value}`).toEqual(expect.any(String));
      if (top === 'timedOut') expect(ready.body.routesRefused).toMatch(/timed out .*waitTimeoutAction=refuse/);
      if (top === 'stopping') expect(ready.body.routesRefused).toMatch(/^shutting down/);
    }
    if (degraded)
      expect(ready.body.degradedReasons.join('\n'), `/readyz degradedReasons in ${value}`).toMatch(
        /waitTimeoutAction=serve\): serving the routes of the \d+ live broker/,
      );
    else expect(ready.body.degradedReasons, `/readyz degradedReasons in ${value}`).toEqual([]);
    expect(ready.body.tags, `/readyz tags in ${value}`).toEqual([
      'live',
      ...(serving && top !== 'stopping' ? ['ready'] : []),
      ...(serving ? ['servingRoutes'] : []),
      ...(degraded ? ['degraded'] : []),
    ]);
    expect(ready.body.reason, '/readyz reason').toBe(top === 'stopping' ? 'model stop' : null);
    expect((await httpGet(server.httpPort, '/livez')).status, '/livez').toBe(200);

    // Route read and cluster info from a client that is not a broker.
    const probe = await this.probeClient();
    const route = await probe.invoke(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: ROUTE_TOPIC });
    if (!serving) {
      expect([route.code, route.remark], `route read in ${value}`).toEqual([ResponseCode.SYSTEM_ERROR, NOT_READY]);
    } else if (!this.topicQueuesExist) {
      expect(route.code, `route read in ${value} with no master registered since broker-a was last empty`).toBe(
        ResponseCode.TOPIC_NOT_EXIST,
      );
    } else {
      expect([route.code, route.remark ?? null], `route read in ${value}`).toEqual([ResponseCode.SUCCESS, null]);
      const data = parseJson(route.body);
      expect(data.brokerDatas, 'route brokerDatas').toEqual(expectedBrokerDatas(liveBrokers));
      expect(
        data.queueDatas.map((q: { brokerName: string }) => q.brokerName),
        'route queueDatas',
      ).toEqual(['broker-a']);
    }
    if (this.ws?.isOpen) await this.checkGatewayReads(this.ws, value, top, serving, route);
    const cluster = parseJson((await probe.invoke(RequestCode.GET_BROKER_CLUSTER_INFO)).body);
    expect(cluster.brokerAddrTable, `cluster info in ${value}`).toEqual(
      Object.fromEntries(expectedBrokerDatas(liveBrokers).map((d) => [d.brokerName, d])),
    );
    expect(
      server
        .brokerSnapshots()
        .map((b) => `${b.brokerKey}:${b.state}`)
        .sort(),
      'brokerSnapshots()',
    ).toEqual(liveBrokers.map((b) => `${b.clusterName}|${b.brokerAddr}:registered`).sort());
  }

  /** The gateway's JSON reads agree with the probe and the TCP route read. */
  private async checkGatewayReads(
    ws: GatewayWs,
    value: string,
    top: string,
    serving: boolean,
    route: { code: number; remark?: string | null; body?: Buffer | null },
  ): Promise<void> {
    const lifecycle = await ws.request('getLifecycle');
    expect(lifecycle.result, `gateway getLifecycle in ${value}`).toMatchObject({
      state: top,
      detail: value,
      servingRoutes: serving,
      degraded: top === 'timedOut' && serving ? [expect.stringMatching(/waitTimeoutAction=serve/)] : [],
    });
    const read: GatewayMessage = await ws.request('getRoute', { topic: ROUTE_TOPIC });
    if (route.code === ResponseCode.SUCCESS) {
      expect(read.type, `gateway getRoute in ${value}: ${JSON.stringify(read)}`).toBe('response');
      expect(read.result.route, 'gateway route equals the TCP route').toEqual(parseJson(route.body));
    } else {
      expect(read, `gateway getRoute in ${value}`).toMatchObject({
        type: 'error',
        code: 'remoting_error',
        remotingCode: route.code,
        message: route.remark,
      });
    }
  }

  private async probeClient(): Promise<RemotingClient> {
    if (!this.probe || this.probe.closed)
      this.probe = await RemotingClient.connect({ host: '127.0.0.1', port: this.server!.remotingPort });
    return this.probe;
  }

  private checkFailedStart(reason: string | undefined): void {
    expect(this.server).toBeUndefined();
    expect(this.startError).toBeInstanceOf(NameServerStartError);
    const message = (this.startError as Error).message;
    if (this.failure === 'portInUse') expect(message).toMatch(/EADDRINUSE/);
    else expect(message).toContain(this.launched.kvPath);
    expect(reason).toBe(message);
  }

  private async checkStopped(): Promise<void> {
    const server = this.server!;
    // Stopped: nothing is served any more, whatever was before.
    expect(server.lifecycle()).toMatchObject({
      state: 'stopped',
      reason: 'model stop',
      servingRoutes: false,
      live: false,
      tags: [],
    });
    await this.expectNotListening(server);
  }

  private async checkFailedShutdown(): Promise<void> {
    const server = this.server!;
    expect(server.lifecycle()).toMatchObject({ state: 'failed', reason: SHUTDOWN_FAILURE, servingRoutes: false });
    // A server that gave up stopping must still release its ports: it is final, nothing would close them later.
    await this.expectNotListening(server);
  }

  private async expectNotListening(server: NameServer): Promise<void> {
    const ports = this.ports!;
    expect(await refuses(ports.remoting), `remoting port ${ports.remoting} refuses connections`).toBe(true);
    expect(await refuses(ports.http), `http port ${ports.http} refuses connections`).toBe(true);
    expect([server.remotingPort, server.httpPort], 'the server reports no bound ports').toEqual([0, 0]);
  }

  private ports: { http: number; remoting: number } | undefined;

  /** Remembers the ports while they are bound; after a close the server reports 0. */
  private rememberPorts(): void {
    const server = this.server!;
    expect(server.remotingPort, 'remoting port bound').toBeGreaterThan(0);
    expect(server.httpPort, 'http port bound').toBeGreaterThan(0);
    this.ports = { http: server.httpPort, remoting: server.remotingPort };
  }

  private async dispose(): Promise<void> {
    await this.ws?.close().catch(() => undefined);
    for (const client of this.brokerClients.values()) await client.close().catch(() => undefined);
    await this.probe?.close().catch(() => undefined);
    const server = this.server ?? (await this.launched?.started.catch(() => undefined));
    if (server) {
      this.gate?.release();
      await server.close('model path done').catch(() => undefined);
      // A failed shutdown may have left the listeners open; do not leak them into other tests.
      await server.remoting.close().catch(() => undefined);
      await server.http.close().catch(() => undefined);
    }
    await this.launched?.dispose();
  }
}

function withoutSeq(t: Transition | GatewayMessage): Omit<Transition, 'seq'> {
  const { seq: _seq, type: _type, ...rest } = t as Transition & { type?: string };
  return rest;
}

function waitTargetOracle(
  config: LifecyclePlanConfig,
  live: Array<SampleBroker & { brokerAddr: string }>,
): { met: boolean } {
  const s = config.settings;
  const countMet = live.length >= s.waitForBrokers;
  const namesMet = s.waitForBrokerNames.every((name) =>
    live.some((b) => b.brokerId === 0 && `${b.clusterName}/${b.brokerName}` === name),
  );
  return { met: countMet && namesMet };
}

function expectedBrokerDatas(
  live: Array<{ clusterName: string; brokerName: string; brokerAddr: string; brokerId: number }>,
) {
  const byName = new Map<string, { brokerAddrs: Record<string, string>; brokerName: string; cluster: string }>();
  for (const b of live) {
    const data = byName.get(b.brokerName) ?? { brokerAddrs: {}, brokerName: b.brokerName, cluster: b.clusterName };
    data.brokerAddrs[String(b.brokerId)] = b.brokerAddr;
    byName.set(b.brokerName, data);
  }
  return [...byName.values()];
}

function parseJson(body: Buffer | null | undefined): any {
  const parsed = parseFastjsonText(body!.toString('utf8'));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

async function httpGet(port: number, path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) };
}

import { expect } from 'vitest';
import { brokerKeyOf, type BrokerEvent } from '../../machines/broker.js';
import type { NameServer } from '../../src/nameServer.js';
import { stateName } from '../../src/observe/transitions.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { parseFastjsonText } from '../../src/protocol/fastjsonParser.js';
import { registerBrokerRequest } from '../support/broker.js';
import {
  AFTER_HEARTBEAT_TIMEOUT,
  BROKER_HEARTBEAT_TIMEOUT_MS,
  type BrokerPath,
  type BrokerSnapshot,
} from './brokerModel.js';
import type { CoverageRecorder } from './inventory.js';
import { launchServer, TransitionLog, type LaunchedServer } from './liveServer.js';
import { describeEvent } from './paths.js';
import { within } from './wait.js';

/**
 * Executes broker-chart paths against one running xnamesrv (ready, no wait):
 * each path is one broker with an address of its own, registering over one or
 * two TCP connections, refreshing, unregistering, dropping a connection or
 * falling silent while the simulated clock runs. After each step the broker's
 * presence in routes, cluster info and brokerSnapshots(), and its transitions
 * (server.transitions), must match the model.
 */
export class BrokerPathRunner {
  private launched!: LaunchedServer;
  private server!: NameServer;
  private readonly log = new TransitionLog();
  private probe!: RemotingClient;
  private closedConnections = 0;
  private readonly closeWaiters: Array<{ count: number; resolve: () => void }> = [];

  constructor(private readonly recorder: CoverageRecorder) {}

  async start(): Promise<void> {
    this.recorder.pause();
    try {
      this.launched = await launchServer({ settings: {}, inspectors: [this.recorder.inspect] });
      this.server = await this.launched.started;
      this.server.transitions.onTransition(this.log.listener);
      // Registered after the server's own listener, so it runs once the server has handled the close.
      this.server.remoting.onConnectionClosed(() => {
        this.closedConnections++;
        for (let i = this.closeWaiters.length - 1; i >= 0; i--) {
          if (this.closeWaiters[i]!.count <= this.closedConnections) this.closeWaiters.splice(i, 1)[0]!.resolve();
        }
      });
      this.probe = await RemotingClient.connect({ host: '127.0.0.1', port: this.server.remotingPort });
    } finally {
      this.recorder.resume();
    }
  }

  async stop(): Promise<void> {
    await this.probe?.close();
    await this.server?.close('broker model done');
    await this.launched?.dispose();
  }

  private serverClosed(count: number): Promise<void> {
    if (this.closedConnections >= count) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push({ count, resolve }));
  }

  async run(path: BrokerPath, index: number): Promise<void> {
    const port = 30000 + index;
    const broker = {
      clusterName: 'DefaultCluster',
      brokerName: `model-broker-${index}`,
      brokerAddr: `127.0.0.1:${port}`,
    };
    const brokerKey = brokerKeyOf(broker.clusterName, broker.brokerAddr);
    const topic = `ModelTopic-${index}`;
    const connections = new Map<number, RemotingClient>();
    let lastRefresh = 0;
    let generation = 0;
    let generationConnection = 0;
    const connection = async (id: number) => {
      let client = connections.get(id);
      if (!client) {
        client = await RemotingClient.connect({ host: '127.0.0.1', port: this.server.remotingPort });
        connections.set(id, client);
      }
      return client;
    };
    const register = async (connectionId: number) => {
      const { extFields, body } = registerBrokerRequest({
        ...broker,
        heartbeatTimeoutMillis: BROKER_HEARTBEAT_TIMEOUT_MS,
        topics: { [topic]: {}, [broker.brokerName]: {} },
      });
      const response = await (await connection(connectionId)).invoke(RequestCode.REGISTER_BROKER, extFields, body);
      expect(response.code, 'REGISTER_BROKER answer').toBe(ResponseCode.SUCCESS);
      lastRefresh = this.launched.clock.now();
    };
    const unregister = async () => {
      const response = await this.probe.invoke(RequestCode.UNREGISTER_BROKER, { ...broker, brokerId: '0' });
      expect(response.code, 'UNREGISTER_BROKER answer').toBe(ResponseCode.SUCCESS);
    };

    let previous: BrokerSnapshot | undefined;
    let finished = false;
    try {
      for (const [i, step] of path.steps.entries()) {
        const mark = this.log.length;
        const event = step.event as BrokerEvent | { type: string };
        try {
          switch (event.type) {
            case 'xstate.init':
              await register(step.state.context.connectionId);
              break;
            case 'REGISTER':
              await register((event as Extract<BrokerEvent, { type: 'REGISTER' }>).registration.connectionId);
              break;
            case 'HEARTBEAT': {
              const response = await (
                await connection(previous!.context.connectionId)
              ).invoke(RequestCode.BROKER_HEARTBEAT, broker);
              expect(response.code, 'BROKER_HEARTBEAT answer').toBe(ResponseCode.SUCCESS);
              lastRefresh = this.launched.clock.now();
              break;
            }
            case 'UNREGISTER':
              await unregister();
              break;
            case 'CONNECTION_CLOSED': {
              const id = (event as Extract<BrokerEvent, { type: 'CONNECTION_CLOSED' }>).connectionId;
              const client = connections.get(id);
              if (!client) throw new Error(`model closes connection ${id}, which was never opened`);
              const seen = this.serverClosed(this.closedConnections + 1);
              await client.close();
              await within(seen, `the server to handle the close of connection ${id}`);
              break;
            }
            case AFTER_HEARTBEAT_TIMEOUT:
              this.launched.clock.increment(lastRefresh + BROKER_HEARTBEAT_TIMEOUT_MS - this.launched.clock.now());
              break;
            default:
              throw new Error(
                `no way to drive broker event ${event.type} against a running server: teach test/model/brokerExecutor.ts`,
              );
          }
          const seen = this.log.since(mark).map((t) => `${t.machine} ${t.actorId}: ${t.from}->${t.to} (${t.event})`);
          expect(seen, 'transitions on server.transitions').toEqual(
            expectedTransitions(brokerKey, previous, event, step.state),
          );

          const value = stateName(step.state.value);
          const route = await this.probe.invoke(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic });
          const cluster = json((await this.probe.invoke(RequestCode.GET_BROKER_CLUSTER_INFO)).body);
          const snapshot = this.server.brokerSnapshots().find((b) => b.brokerKey === brokerKey);
          if (value === 'registered') {
            expect([route.code, json(route.body).brokerDatas], `route read while ${value}`).toEqual([
              ResponseCode.SUCCESS,
              [{ brokerAddrs: { '0': broker.brokerAddr }, brokerName: broker.brokerName, cluster: broker.clusterName }],
            ]);
            expect(cluster.brokerAddrTable[broker.brokerName]?.brokerAddrs, 'cluster info').toEqual({
              '0': broker.brokerAddr,
            });
            expect(snapshot, 'brokerSnapshots()').toMatchObject({
              state: 'registered',
              heartbeatTimeoutMillis: BROKER_HEARTBEAT_TIMEOUT_MS,
              lastRefresh,
            });
            // A new connection makes a new generation; the same connection keeps it.
            const connectionId = step.state.context.connectionId;
            if (generation === 0 || connectionId !== generationConnection)
              expect(snapshot!.generation).toBeGreaterThan(generation);
            else expect(snapshot!.generation).toBe(generation);
            generation = snapshot!.generation;
            generationConnection = connectionId;
          } else {
            expect(route.code, `route read once ${value}`).toBe(ResponseCode.TOPIC_NOT_EXIST);
            expect(cluster.brokerAddrTable[broker.brokerName], 'cluster info').toBeUndefined();
            expect(snapshot, 'brokerSnapshots()').toBeUndefined();
            finished = true;
          }
          expect(this.server.lifecycleState(), 'the name server stays ready').toBe('ready');
        } catch (err) {
          (err as Error).message =
            `step ${i} (${describeEvent(event)} => ${stateName(step.state.value)}): ${(err as Error).message}`;
          throw err;
        }
        previous = step.state;
      }
    } finally {
      // Clean-up is not part of the path: leave no live broker and no open connection behind.
      await this.recorder.unrecorded(async () => {
        if (!finished) await unregister();
        let expectedCloses = this.closedConnections;
        for (const client of connections.values()) {
          if (client.closed) continue;
          expectedCloses++;
          await client.close();
        }
        await within(this.serverClosed(expectedCloses), 'the server to handle the clean-up closes');
      });
    }
  }
}

function expectedTransitions(
  brokerKey: string,
  before: BrokerSnapshot | undefined,
  event: { type: string },
  after: BrokerSnapshot,
): string[] {
  const to = stateName(after.value);
  switch (event.type) {
    case 'xstate.init':
      return [`broker ${brokerKey}: null->registered (xstate.init)`];
    case 'CONNECTION_CLOSED':
      // The close of a connection the broker has left is fenced: nothing happens.
      return (event as unknown as { connectionId: number }).connectionId === before!.context.connectionId
        ? [`broker ${brokerKey}: registered->${to} (CONNECTION_CLOSED)`]
        : [];
    default:
      return [`broker ${brokerKey}: registered->${to} (${event.type})`];
  }
}

function json(body: Buffer | null | undefined): any {
  if (!body) return {};
  const parsed = parseFastjsonText(body.toString('utf8'));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

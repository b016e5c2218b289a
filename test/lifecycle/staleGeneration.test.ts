/**
 * The end of an old generation landing after the broker re-registered: the
 * same broker address registers again on a new connection (a restart, a
 * reconnect), and then the old registration's heartbeat timer would have
 * fired, or the old connection closes (apache/rocketmq#11043). Neither may
 * touch the new registration: routes and cluster info keep it, and the
 * gateway (what the console shows) never reports it removed. Each test ends
 * with the new registration's own end, which does take it out.
 */
import { describe, expect, it } from 'vitest';
import type { RemotingClient } from '../../src/remoting/client.js';
import { ResponseCode } from '../../src/remoting/requestCode.js';
import { parseFastjsonText } from '../../src/protocol/fastjsonParser.js';
import { clusterInfo, getRoute, registerBroker } from '../support/broker.js';
import { gatewayServerPerTest, type GatewayClient, type GatewayTestServer, type Message } from '../gateway/support.js';

const HEARTBEAT_TIMEOUT = 30_000;
const brokerA = {
  brokerName: 'broker-a',
  brokerAddr: '127.0.0.1:20911',
  topics: { TopicA: {}, 'broker-a': {} },
  heartbeatTimeoutMillis: HEARTBEAT_TIMEOUT,
};
const BROKER_KEY = 'DefaultCluster|127.0.0.1:20911';

const { start } = gatewayServerPerTest();

interface ReRegistered {
  t: GatewayTestServer;
  /** A gateway client watching lifecycle, brokers and TopicA's route from before the first registration. */
  watcher: GatewayClient;
  oldConnection: RemotingClient;
  newConnection: RemotingClient;
  /** Another client's connection, reading routes. */
  reader: RemotingClient;
  generation: number;
}

function generationOf(t: GatewayTestServer): number | undefined {
  return t.server.brokerSnapshots().find((b) => b.brokerKey === BROKER_KEY)?.generation;
}

/** broker-a registers on one connection at 0 s and again on another at 20 s. */
async function reRegistered(): Promise<ReRegistered> {
  const t = await start();
  const { client: watcher } = await t.open({ query: { streams: 'lifecycle,brokers,routes', topics: 'TopicA' } });
  const reader = await t.client();
  const oldConnection = await t.client();
  expect((await registerBroker(oldConnection, brokerA)).code).toBe(ResponseCode.SUCCESS);
  const oldGeneration = generationOf(t)!;
  t.clock.increment(20_000);
  const newConnection = await t.client();
  expect((await registerBroker(newConnection, brokerA)).code).toBe(ResponseCode.SUCCESS);
  const generation = generationOf(t)!;
  expect(generation).toBeGreaterThan(oldGeneration);
  return { t, watcher, oldConnection, newConnection, reader, generation };
}

/** Resolves once the server has handled the next connection close (its own listener runs first). */
function nextConnectionClose(t: GatewayTestServer): Promise<void> {
  return new Promise((resolve) => {
    const stop = t.server.remoting.onConnectionClosed(() => {
      stop();
      resolve();
    });
  });
}

/** The broker's transitions into anything but `registered`, and TopicA's route pushes without a route. */
function removalsShown(watcher: GatewayClient): Message[] {
  return watcher.messages.filter(
    (m) =>
      (m.type === 'transition' && m.actorId === BROKER_KEY && m.to !== 'registered') ||
      (m.type === 'route' && m.topic === 'TopicA' && m.route === null),
  );
}

/** Everything a client can ask says the new registration is in place. */
async function expectNewRegistrationKept({ watcher, reader, generation }: ReRegistered): Promise<void> {
  const route = await getRoute(reader, 'TopicA');
  expect(route.code, 'TopicA route').toBe(ResponseCode.SUCCESS);
  const parsed = parseFastjsonText(route.body!.toString('utf8'));
  if (!parsed.ok) throw new Error(parsed.error);
  expect((parsed.value as { brokerDatas: unknown[] }).brokerDatas).toEqual([
    { cluster: 'DefaultCluster', brokerName: 'broker-a', brokerAddrs: { '0': brokerA.brokerAddr } },
  ]);

  const cluster = await clusterInfo(reader);
  expect(cluster.clusterAddrTable).toEqual({ DefaultCluster: ['broker-a'] });
  expect(cluster.brokerAddrTable['broker-a']?.brokerAddrs).toEqual({ '0': brokerA.brokerAddr });

  const brokers = await watcher.request('getBrokers');
  expect(brokers.result.brokers).toMatchObject([{ brokerKey: BROKER_KEY, state: 'registered', generation }]);
  const lifecycle = await watcher.request('getLifecycle');
  expect(lifecycle.result.waitTarget.liveBrokers).toBe(1);

  await watcher.barrier();
  expect(removalsShown(watcher)).toEqual([]);
}

describe('an old generation ending after the broker re-registered on a new connection', () => {
  it("the old registration's timeout passing, then its connection closing, leave the new registration in place", async () => {
    const state = await reRegistered();
    const { t, watcher, oldConnection, reader } = state;

    // 35 s: the first registration's 30 s are over, the second has 15 s left.
    t.clock.increment(15_000);
    await expectNewRegistrationKept(state);

    const closed = nextConnectionClose(t);
    await oldConnection.close();
    await closed;
    await expectNewRegistrationKept(state);

    // 50 s: the new registration's own timeout.
    t.clock.increment(15_000);
    const expired = await watcher.waitFor((m) => m.type === 'transition' && m.actorId === BROKER_KEY);
    expect(expired).toMatchObject({ to: 'expired', at: Date.UTC(2026, 0, 1) + 50_000 });
    expect((await getRoute(reader, 'TopicA')).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
  });

  it('the old connection closing at once leaves the new registration in place until the new connection closes', async () => {
    const state = await reRegistered();
    const { t, watcher, oldConnection, newConnection, reader } = state;

    const oldClosed = nextConnectionClose(t);
    await oldConnection.close();
    await oldClosed;
    await expectNewRegistrationKept(state);

    const newClosed = nextConnectionClose(t);
    await newConnection.close();
    await newClosed;
    const disconnected = await watcher.waitFor((m) => m.type === 'transition' && m.actorId === BROKER_KEY);
    expect(disconnected).toMatchObject({ to: 'disconnected', event: 'CONNECTION_CLOSED' });
    expect((await getRoute(reader, 'TopicA')).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
  });
});

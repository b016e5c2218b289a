import { afterEach, describe, expect, it } from 'vitest';
import type { Transition } from '../../src/observe/transitions.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { clusterInfo, getRoute, registerBroker, registerBrokerRequest, type TestBroker } from '../support/broker.js';
import { LEVEL } from '../support/logCapture.js';
import { requestFrame } from '../support/frames.js';
import { RawPeer } from '../support/rawPeer.js';
import { startObservedServer, type ObservedServer } from './support.js';

/**
 * Broker faults end to end. A broker whose process dies (its socket is
 * destroyed) is removed at once, without waiting for its heartbeat timeout;
 * a broker that is partitioned (its connection stays, its refreshes stop) is
 * expired after exactly its heartbeatTimeoutMillis on the server's clock.
 * Either way reads stop returning it, the operator sees it (warn log,
 * transitions metric, gateway transition and route messages), and its later
 * re-registration is clean.
 */

const brokerA: TestBroker = {
  brokerName: 'broker-a',
  brokerAddr: '127.0.0.1:20911',
  topics: { TopicA: {}, Shared: {}, 'broker-a': {} },
  heartbeatTimeoutMillis: 30_000,
};
const brokerB: TestBroker = {
  brokerName: 'broker-b',
  brokerAddr: '127.0.0.1:30911',
  topics: { TopicB: {}, Shared: {}, 'broker-b': {} },
  heartbeatTimeoutMillis: 30_000,
};

let t: ObservedServer | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

function nextTransition(server: ObservedServer, predicate: (tr: Transition) => boolean): Promise<Transition> {
  return new Promise((resolve) => {
    const off = server.server.transitions.onTransition((tr) => {
      if (!predicate(tr)) return;
      off();
      resolve(tr);
    });
  });
}

async function transitionsMetric(server: ObservedServer, to: string): Promise<number> {
  const { text } = await server.http('/metrics');
  const match = new RegExp(`^xnamesrv_transitions_total\\{machine="broker",to="${to}"\\} (\\d+)`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

/** Registers over a bare socket that the test can destroy as a crashing process would. */
async function registerOverRawSocket(server: ObservedServer, broker: TestBroker): Promise<RawPeer> {
  const peer = await RawPeer.open(server.server.remotingPort);
  const { extFields, body } = registerBrokerRequest(broker);
  peer.write(requestFrame(RequestCode.REGISTER_BROKER, extFields, body, 1));
  const [answer] = await peer.waitForFrames(1);
  expect(answer!.code).toBe(ResponseCode.SUCCESS);
  return peer;
}

describe('a broker whose process dies', () => {
  it('is removed as soon as its connection drops, seen in reads, log, metrics and the gateway; its re-registration is clean', async () => {
    t = await startObservedServer();
    const reader = await t.client();
    const survivor = await t.client();
    await registerBroker(survivor, brokerB);
    const { client: watcher } = await t.open({ query: { topics: 'TopicA,Shared' } });

    const peer = await registerOverRawSocket(t, brokerA);
    const registeredDump = t.server.routes.dump();
    const firstRoute = (await getRoute(reader, 'TopicA')).body!.toString('utf8');
    const firstGeneration = t.server.brokerSnapshots().find((b) => b.brokerName === 'broker-a')!.generation;
    const clockBefore = t.clock.now();

    const removed = nextTransition(
      t,
      (tr) => tr.actorId === 'DefaultCluster|127.0.0.1:20911' && tr.to === 'disconnected',
    );
    peer.destroy();
    const transition = await removed;
    expect(transition.event).toBe('CONNECTION_CLOSED');
    expect(t.clock.now(), 'no time passes on the server clock: removal does not wait for a timeout').toBe(clockBefore);

    expect((await getRoute(reader, 'TopicA')).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    const shared = JSON.parse((await getRoute(reader, 'Shared')).body!.toString('utf8'));
    expect(shared.brokerDatas.map((b: { brokerName: string }) => b.brokerName)).toEqual(['broker-b']);
    expect(Object.keys((await clusterInfo(reader)).brokerAddrTable)).toEqual(['broker-b']);
    expect(t.server.brokerSnapshots().map((b) => b.brokerName)).toEqual(['broker-b']);

    const warn = t.lines.find(
      (l) => l.level === LEVEL.warn && l.msg === 'broker 127.0.0.1:20911 removed: disconnected',
    );
    expect(warn).toMatchObject({
      broker: '127.0.0.1:20911',
      brokerName: 'broker-a',
      reason: 'disconnected',
      removedFromRoutes: true,
    });
    expect(await transitionsMetric(t, 'disconnected')).toBe(1);
    await watcher.waitFor(
      (m) =>
        m.type === 'transition' &&
        m.actorId === 'DefaultCluster|127.0.0.1:20911' &&
        m.to === 'disconnected' &&
        m.event === 'CONNECTION_CLOSED',
      'the disconnected transition',
    );
    await watcher.waitFor(
      (m) => m.type === 'route' && m.topic === 'TopicA' && m.route === null && m.cause === 'connectionClosed',
      'TopicA gone',
    );

    // The restarted broker registers again on a new connection: same routes as before, a newer generation.
    const restarted = await t.client();
    expect((await registerBroker(restarted, brokerA)).code).toBe(ResponseCode.SUCCESS);
    expect((await getRoute(reader, 'TopicA')).body!.toString('utf8')).toBe(firstRoute);
    const again = t.server.brokerSnapshots().find((b) => b.brokerName === 'broker-a')!;
    expect(again).toMatchObject({ state: 'registered' });
    expect(again.generation).toBeGreaterThan(firstGeneration);
    expect(withoutGenerations(t.server.routes.dump())).toEqual(withoutGenerations(registeredDump));
    await watcher.waitFor(
      (m) => m.type === 'route' && m.topic === 'TopicA' && m.route !== null && m.cause === 'register',
      'TopicA back',
    );
  });

  it('does not take down a newer registration of the same broker when an older connection of it closes', async () => {
    t = await startObservedServer();
    const old = await registerOverRawSocket(t, brokerA);
    const fresh = await t.client();
    expect((await registerBroker(fresh, { ...brokerA, dataVersion: { timestamp: 2, counter: 2 } })).code).toBe(
      ResponseCode.SUCCESS,
    );
    old.destroy();
    await old.closed;
    // The close is handled on the server's next turns; a read on another connection comes after it.
    const reader = await t.client();
    await reader.invoke(RequestCode.GET_BROKER_CLUSTER_INFO);
    expect((await getRoute(reader, 'TopicA')).code).toBe(ResponseCode.SUCCESS);
    expect(t.server.brokerSnapshots()).toMatchObject([{ brokerName: 'broker-a', state: 'registered' }]);
  });
});

describe('a partitioned broker', () => {
  it('is expired after exactly its heartbeatTimeoutMillis without a refresh, while a refreshing broker stays; then re-registers cleanly', async () => {
    t = await startObservedServer();
    const partitioned = await t.client();
    const healthy = await t.client();
    const reader = await t.client();
    await registerBroker(partitioned, brokerA);
    await registerBroker(healthy, brokerB);
    const { client: watcher } = await t.open({ query: { topics: 'TopicA' } });

    // broker-b heartbeats every 10 s; broker-a has stopped (its connection is still open: a partition, not a crash).
    for (let elapsed = 0; elapsed < 29_999; elapsed += 10_000) {
      t.clock.increment(Math.min(10_000, 29_999 - elapsed));
      expect(
        (
          await healthy.invoke(RequestCode.BROKER_HEARTBEAT, {
            clusterName: 'DefaultCluster',
            brokerName: 'broker-b',
            brokerAddr: brokerB.brokerAddr,
          })
        ).code,
      ).toBe(ResponseCode.SUCCESS);
    }
    expect((await getRoute(reader, 'TopicA')).code, 'one millisecond before its timeout').toBe(ResponseCode.SUCCESS);

    const expired = nextTransition(t, (tr) => tr.actorId === 'DefaultCluster|127.0.0.1:20911' && tr.to === 'expired');
    t.clock.increment(1);
    const transition = await expired;
    expect(transition.event).toBe('xstate.after.heartbeatTimeout.broker.registered');

    expect((await getRoute(reader, 'TopicA')).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    expect(
      JSON.parse((await getRoute(reader, 'Shared')).body!.toString('utf8')).brokerDatas.map(
        (b: { brokerName: string }) => b.brokerName,
      ),
    ).toEqual(['broker-b']);
    expect(t.server.brokerSnapshots().map((b) => [b.brokerName, b.state])).toEqual([['broker-b', 'registered']]);
    expect(t.lines.find((l) => l.msg === 'broker 127.0.0.1:20911 removed: expired')).toMatchObject({
      level: LEVEL.warn,
      reason: 'expired',
    });
    expect(await transitionsMetric(t, 'expired')).toBe(1);
    await watcher.waitFor(
      (m) => m.type === 'transition' && m.to === 'expired' && m.actorId === 'DefaultCluster|127.0.0.1:20911',
      'the expired transition',
    );
    await watcher.waitFor(
      (m) => m.type === 'route' && m.topic === 'TopicA' && m.route === null && m.cause === 'expired',
      'TopicA gone',
    );

    // The partition heals. A bare heartbeat does not bring back what expired...
    expect(
      (
        await partitioned.invoke(RequestCode.BROKER_HEARTBEAT, {
          clusterName: 'DefaultCluster',
          brokerName: 'broker-a',
          brokerAddr: brokerA.brokerAddr,
        })
      ).code,
    ).toBe(ResponseCode.SUCCESS);
    expect((await getRoute(reader, 'TopicA')).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    // ...its next registerBrokerAll does, on the same connection, with a fresh timer.
    expect((await registerBroker(partitioned, brokerA)).code).toBe(ResponseCode.SUCCESS);
    expect((await getRoute(reader, 'TopicA')).code).toBe(ResponseCode.SUCCESS);
    t.clock.increment(29_999);
    expect((await getRoute(reader, 'TopicA')).code).toBe(ResponseCode.SUCCESS);
    t.clock.increment(1);
    expect((await getRoute(reader, 'TopicA')).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
  });
});

/** The dump without generation counters and connection ids: everything a re-registration must restore. */
function withoutGenerations(dump: Record<string, unknown>): unknown {
  return JSON.parse(
    JSON.stringify(dump, (key, value) =>
      key === 'generation' || key === 'generationSeq' || key === 'connectionId' ? undefined : value,
    ),
  );
}

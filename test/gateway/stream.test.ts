import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { registerBroker } from '../support/broker.js';
import { GatewayClient, gatewayServerPerTest, type Message } from './support.js';

const brokerA = { brokerName: 'broker-a', brokerAddr: '127.0.0.1:20911', topics: { TopicTest: {}, 'broker-a': {} } };
const brokerB = {
  clusterName: 'ClusterB',
  brokerName: 'broker-b',
  brokerAddr: '127.0.0.1:30911',
  topics: { Other: {}, 'broker-b': {} },
};

const { start, forget } = gatewayServerPerTest();

const isBrokerTransition = (m: Message) => m.type === 'transition' && m.machine === 'broker';

describe('gateway stream', () => {
  it('says hello with the server identity, the lifecycle and every broker registered over TCP', async () => {
    const t = await start();
    const tcp = await t.client();
    await registerBroker(tcp, {
      ...brokerA,
      heartbeatTimeoutMillis: 10_000,
      dataVersion: { timestamp: 7, counter: 3 },
    });
    t.clock.increment(1_000);
    await registerBroker(tcp, brokerB);

    const { hello } = await t.open();
    const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(hello.server).toEqual({
      name: 'xnamesrv',
      version: manifest.version,
      instanceId: t.server.gateway.identity.instanceId,
    });
    expect(hello.seq).toBe(t.server.gateway.stats().streamSeq);
    expect(hello.lifecycle).toEqual(JSON.parse(JSON.stringify(t.server.lifecycle())));
    expect(hello.lifecycle).toMatchObject({
      state: 'ready',
      servingRoutes: true,
      waitTarget: { met: true, missing: [] },
    });
    expect(hello.brokers).toEqual(JSON.parse(JSON.stringify(t.server.brokerSnapshots())));
    const a = hello.brokers.find((b: Message) => b.brokerName === 'broker-a');
    expect(a).toEqual({
      brokerKey: 'DefaultCluster|127.0.0.1:20911',
      clusterName: 'DefaultCluster',
      brokerName: 'broker-a',
      brokerAddr: '127.0.0.1:20911',
      brokerId: 0,
      state: 'registered',
      generation: expect.any(Number),
      lastRefresh: Date.UTC(2026, 0, 1),
      heartbeatTimeoutMillis: 10_000,
      dataVersion: { counter: 3, timestamp: 7 },
      topicCount: 2,
    });
    expect(hello.brokers.map((b: Message) => b.brokerName).sort()).toEqual(['broker-a', 'broker-b']);
    expect(hello.subscription).toEqual({ streams: ['lifecycle', 'brokers'], clusters: [], brokers: [], topics: [] });
    expect(hello.auth).toEqual({ authorized: false, controlOps: 'disabled' });
  });

  it('streams the lifecycle from waiting to ready, in order', async () => {
    const t = await start({ needWaitForService: true });
    const { client, hello } = await t.open();
    expect(hello.lifecycle).toMatchObject({ state: 'waiting', detail: 'waiting.holding', servingRoutes: false });
    t.clock.increment(45_000);
    const [holdOver, ready] = (await client.take(2)) as [Message, Message];
    expect([holdOver, ready].map((m) => `${m.seq}:${m.machine}:${m.from}->${m.to}`)).toEqual([
      `${hello.seq + 1}:nameServer:waiting.holding->waiting.targetPending`,
      `${hello.seq + 2}:nameServer:waiting.targetPending->ready`,
    ]);
    expect(holdOver).toEqual({
      type: 'transition',
      seq: hello.seq + 1,
      at: Date.UTC(2026, 0, 1) + 45_000,
      actorId: 'nameServer',
      machine: 'nameServer',
      from: 'waiting.holding',
      to: 'waiting.targetPending',
      tags: ['live'],
      event: 'xstate.after.waitForService.nameServer.waiting.holding',
      context: { liveBrokers: 0 },
    });
    expect(t.server.lifecycleState()).toBe('ready');
  });

  it('streams a broker from registration through refresh to expiry, in order', async () => {
    const t = await start();
    const { client, hello } = await t.open();
    const tcp = await t.client();
    await registerBroker(tcp, { ...brokerA, heartbeatTimeoutMillis: 10_000 });
    t.clock.increment(5_000);
    await registerBroker(tcp, { ...brokerA, heartbeatTimeoutMillis: 10_000 });
    t.clock.increment(10_000);
    const seen = await client.take(3);
    expect(seen.map((m) => `${m.seq}:${m.machine}:${m.from}->${m.to}:${m.event}`)).toEqual([
      `${hello.seq + 1}:broker:null->registered:xstate.init`,
      `${hello.seq + 2}:broker:registered->registered:REGISTER`,
      `${hello.seq + 3}:broker:registered->expired:xstate.after.heartbeatTimeout.broker.registered`,
    ]);
    expect(seen.map((m) => m.at)).toEqual([0, 5_000, 15_000].map((d) => Date.UTC(2026, 0, 1) + d));
    expect(seen[2]).toMatchObject({
      actorId: 'DefaultCluster|127.0.0.1:20911',
      context: { clusterName: 'DefaultCluster', brokerName: 'broker-a', brokerAddr: '127.0.0.1:20911', brokerId: 0 },
    });
  });

  it('filters by stream, cluster, broker name and broker address', async () => {
    const t = await start();
    const everything = (await t.open()).client;
    const clusterB = (await t.open()).client;
    expect((await clusterB.request('unsubscribe', { streams: ['lifecycle'] })).result.subscription.streams).toEqual([
      'brokers',
    ]);
    expect((await clusterB.request('subscribe', { clusters: ['ClusterB'] })).result.subscription).toEqual({
      streams: ['brokers'],
      clusters: ['ClusterB'],
      brokers: [],
      topics: [],
    });
    const byAddress = (await t.open({ query: { brokers: '127.0.0.1:20911' } })).client;
    const byName = (await t.open()).client;
    await byName.request('subscribe', { brokers: ['broker-b'] });
    const lifecycleOnly = (await t.open({ query: { streams: 'lifecycle' } })).client;

    const tcp = await t.client();
    await registerBroker(tcp, brokerA);
    await registerBroker(tcp, brokerB);
    await t.server.close('filters checked');

    const actorsSeen = async (client: GatewayClient) => {
      await client.closed;
      return client
        .pending()
        .filter(isBrokerTransition)
        .map((m) => m.context.brokerName);
    };
    expect(await actorsSeen(everything)).toEqual(['broker-a', 'broker-b']);
    expect(await actorsSeen(clusterB)).toEqual(['broker-b']);
    expect(await actorsSeen(byAddress)).toEqual(['broker-a']);
    expect(await actorsSeen(byName)).toEqual(['broker-b']);
    expect(await actorsSeen(lifecycleOnly)).toEqual([]);
    // The stop itself is a lifecycle transition: only clients with the lifecycle stream see it.
    const sawStop = (client: GatewayClient) =>
      client.pending().some((m) => m.type === 'transition' && m.to === 'stopping.serving');
    expect([everything, clusterB, byAddress, byName, lifecycleOnly].map(sawStop)).toEqual([
      true,
      false,
      true,
      true,
      true,
    ]);
    forget();
  });

  it('replays what a reconnecting client missed, from ?lastSeq= and from a resume op', async () => {
    const t = await start();
    const first = await t.open();
    const tcp = await t.client();
    await registerBroker(tcp, brokerA);
    const lastSeen = (await first.client.waitFor(isBrokerTransition)).seq;
    await first.client.close();

    await registerBroker(tcp, brokerB);
    await registerBroker(tcp, brokerA);

    const { client, hello } = await t.open({ query: { lastSeq: lastSeen, instanceId: first.hello.server.instanceId } });
    expect(hello.seq).toBe(lastSeen + 2);
    const replayed = await client.take(3);
    expect(replayed.map((m) => [m.seq, m.context?.brokerName, m.to])).toEqual([
      [lastSeen + 1, 'broker-b', 'registered'],
      [lastSeen + 2, 'broker-a', 'registered'],
      [undefined, undefined, undefined],
    ]);
    expect(replayed[2]).toEqual({
      type: 'response',
      id: null,
      op: 'resume',
      result: { seq: lastSeen + 2, replayed: 2, reset: false },
    });

    // The same through the op, and nothing when nothing was missed.
    const again = await client.request('resume', { lastSeq: lastSeen + 1 });
    expect(client.messages.at(-2)).toMatchObject({ seq: lastSeen + 2, to: 'registered' });
    expect(again.result).toEqual({ seq: lastSeen + 2, replayed: 1, reset: false });
    expect((await client.request('resume', { lastSeq: lastSeen + 2 })).result).toEqual({
      seq: lastSeen + 2,
      replayed: 0,
      reset: false,
    });
  });

  it('resets with a fresh snapshot, never a silent gap, when the client is older than the buffer', async () => {
    const t = await start({ replayBufferSize: 2 });
    const first = await t.open();
    const lastSeen = first.hello.seq;
    await first.client.close();
    const tcp = await t.client();
    for (const [i, name] of ['x', 'y', 'z'].entries()) {
      await registerBroker(tcp, {
        brokerName: `broker-${name}`,
        brokerAddr: `127.0.0.1:${21000 + i}`,
        topics: { T: {}, [`broker-${name}`]: {} },
      });
    }

    const { client, hello } = await t.open({ query: { lastSeq: lastSeen } });
    const [reset, answer] = (await client.take(2)) as [Message, Message];
    expect(reset).toMatchObject({
      type: 'reset',
      reason: 'gap',
      lastSeq: lastSeen,
      oldestAvailable: lastSeen + 2,
      seq: hello.seq,
      server: hello.server,
      lifecycle: { state: 'ready' },
    });
    expect(reset.brokers.map((b: Message) => b.brokerName).sort()).toEqual(['broker-x', 'broker-y', 'broker-z']);
    expect(answer).toMatchObject({
      type: 'response',
      id: null,
      op: 'resume',
      result: { reset: true, reason: 'gap', replayed: 0 },
    });

    // A sequence this instance never reached, or another instance's: reset as well.
    expect((await client.request('resume', { lastSeq: hello.seq + 100 })).result.reason).toBe('unknownSeq');
    expect(client.messages.at(-2)).toMatchObject({ type: 'reset', reason: 'unknownSeq' });
    expect((await client.request('resume', { lastSeq: hello.seq, instanceId: 'another-instance' })).result.reason).toBe(
      'otherInstance',
    );
    // Within the buffer it still replays.
    expect((await client.request('resume', { lastSeq: hello.seq - 1 })).result).toEqual({
      seq: hello.seq,
      replayed: 1,
      reset: false,
    });
  });
});

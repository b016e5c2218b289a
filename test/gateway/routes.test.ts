import { describe, expect, it, vi } from 'vitest';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { getRoute, registerBroker } from '../support/broker.js';
import { gatewayServerPerTest, type Message } from './support.js';

const brokerA = {
  brokerName: 'broker-a',
  brokerAddr: '127.0.0.1:20911',
  topics: { TopicTest: {}, Unwatched: {}, 'broker-a': {} },
};

const { start } = gatewayServerPerTest();

const isRoute = (m: Message) => m.type === 'route';

describe('gateway route push', () => {
  it('pushes a subscribed topic on registration, on a changed DataVersion and on deletion, as TCP reads see it', async () => {
    const t = await start();
    const { client } = await t.open();
    const subscribed = await client.request('subscribe', { topics: ['TopicTest'] });
    expect(subscribed.result).toMatchObject({
      subscription: { streams: ['lifecycle', 'brokers', 'routes'], topics: ['TopicTest'] },
      routes: { TopicTest: null },
    });

    const tcp = await t.client();
    await registerBroker(tcp, brokerA);
    const registered = await client.waitFor(isRoute);
    expect(registered).toMatchObject({ topic: 'TopicTest', cause: 'register', at: Date.UTC(2026, 0, 1) });
    const read = await getRoute(tcp, 'TopicTest');
    expect(registered.route).toEqual(JSON.parse(read.body!.toString('utf8')));
    expect(registered.route.queueDatas).toEqual([
      { brokerName: 'broker-a', perm: 6, readQueueNums: 4, topicSysFlag: 0, writeQueueNums: 4 },
    ]);

    // Same DataVersion: the broker's topics are not even read, nothing changes, nothing is pushed.
    await registerBroker(tcp, brokerA);
    await client.barrier();
    expect(client.pending().filter(isRoute)).toEqual([]);

    await registerBroker(tcp, {
      ...brokerA,
      dataVersion: { timestamp: 2, counter: 2 },
      topics: { ...brokerA.topics, TopicTest: { writeQueueNums: 8 } },
    });
    const changed = await client.waitFor(isRoute);
    expect(changed.seq).toBeGreaterThan(registered.seq);
    expect(changed.route.queueDatas[0].writeQueueNums).toBe(8);

    expect((await tcp.invoke(RequestCode.DELETE_TOPIC_IN_NAMESRV, { topic: 'TopicTest' })).code).toBe(
      ResponseCode.SUCCESS,
    );
    const deleted = await client.waitFor(isRoute);
    expect(deleted).toMatchObject({ type: 'route', topic: 'TopicTest', cause: 'deleteTopic', route: null });
    expect(deleted.seq).toBeGreaterThan(changed.seq);
  });

  it('computes a route once per change for all its subscribers, and only for subscribed topics', async () => {
    const t = await start();
    const clients = await Promise.all([t.open(), t.open(), t.open()]);
    for (const { client } of clients) await client.request('subscribe', { topics: ['TopicTest'] });
    const pickups = vi.spyOn(t.server.routes, 'pickupTopicRoute');

    const tcp = await t.client();
    await registerBroker(tcp, brokerA);
    const pushed = await Promise.all(clients.map(({ client }) => client.waitFor(isRoute)));
    expect(new Set(pushed.map((m) => JSON.stringify(m))).size).toBe(1);
    expect(pickups.mock.calls).toEqual([['TopicTest', true]]);

    await clients[0].client.request('unsubscribe', { topics: ['TopicTest'] });
    await registerBroker(tcp, {
      ...brokerA,
      dataVersion: { timestamp: 2, counter: 2 },
      topics: { ...brokerA.topics, TopicTest: { perm: 4 } },
    });
    await clients[1].client.waitFor(isRoute);
    await clients[0].client.barrier();
    expect(clients[0].client.pending().filter(isRoute)).toEqual([]);
    expect(pickups.mock.calls.filter(([topic]) => topic !== 'TopicTest')).toEqual([]);
  });

  it('holds routes while the name server waits for brokers, then pushes them current', async () => {
    const t = await start({ needWaitForService: true });
    const { client } = await t.open({ query: { topics: 'TopicTest' } });
    const tcp = await t.client();
    await registerBroker(tcp, brokerA);
    const subscribed = await client.request('subscribe', { topics: ['broker-a'] });
    expect(subscribed.result.routes).toBeUndefined();
    await client.barrier();
    expect(client.pending().filter(isRoute)).toEqual([]);

    t.clock.increment(45_000);
    const released = [await client.waitFor(isRoute), await client.waitFor(isRoute)];
    expect(released.map((m) => [m.topic, m.cause, m.route.brokerDatas[0].brokerName])).toEqual([
      ['TopicTest', 'register', 'broker-a'],
      ['broker-a', 'subscribe', 'broker-a'],
    ]);
    expect(t.server.lifecycleState()).toBe('ready');
    // The hold is released after the transition that made routes servable.
    const ready = client.messages.find((m) => m.type === 'transition' && m.to === 'ready')!;
    expect(released[0]!.seq).toBeGreaterThan(ready.seq);
  });

  it('subscribes to topics from the URL and includes their current routes in hello', async () => {
    const t = await start();
    const tcp = await t.client();
    await registerBroker(tcp, brokerA);
    const { hello } = await t.open({ query: { topics: 'TopicTest,Missing' } });
    expect(hello.subscription.topics).toEqual(['TopicTest', 'Missing']);
    expect(hello.routes.Missing).toBeNull();
    expect(hello.routes.TopicTest.brokerDatas[0].brokerAddrs).toEqual({ 0: '127.0.0.1:20911' });
  });
});

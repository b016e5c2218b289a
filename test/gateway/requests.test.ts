import { describe, expect, it } from 'vitest';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { clusterInfo, getRoute, registerBroker } from '../support/broker.js';
import { refusedUpgrade, gatewayServerPerTest, type Message } from './support.js';

const TOKEN = 'gw-secret-token';
const brokerA = { brokerName: 'broker-a', brokerAddr: '127.0.0.1:20911', topics: { TopicTest: {}, 'broker-a': {} } };

const { start } = gatewayServerPerTest();

describe('gateway reads', () => {
  it('answers route, cluster, topic list, KV, lifecycle and broker reads through the request processors', async () => {
    const t = await start();
    const tcp = await t.client();
    await registerBroker(tcp, brokerA);
    await tcp.invoke(RequestCode.PUT_KV_CONFIG, { namespace: 'ns', key: 'k', value: 'v' });
    const { client } = await t.open();

    const route = await client.request('getRoute', { topic: 'TopicTest' });
    expect(route).toMatchObject({ type: 'response', id: 1, op: 'getRoute' });
    expect(route.result.route).toEqual(JSON.parse((await getRoute(tcp, 'TopicTest')).body!.toString('utf8')));
    expect((await client.request('getClusterInfo')).result).toEqual(await clusterInfo(tcp));
    expect((await client.request('getAllTopics')).result.topicList.sort()).toEqual(['TopicTest', 'broker-a']);
    expect((await client.request('getTopicsByCluster', { cluster: 'DefaultCluster' })).result.topicList.sort()).toEqual(
      ['TopicTest', 'broker-a'],
    );
    expect((await client.request('getSystemTopics')).result.topicList.sort()).toEqual(['DefaultCluster', 'broker-a']);
    expect((await client.request('getUnitTopics')).result).toEqual({ topicList: [] });
    expect((await client.request('getKv', { namespace: 'ns', key: 'k' })).result).toEqual({ value: 'v' });
    expect((await client.request('getKvList', { namespace: 'ns' })).result).toEqual({ table: { k: 'v' } });
    expect((await client.request('getLifecycle')).result).toMatchObject({ state: 'ready', servingRoutes: true });
    expect((await client.request('getBrokers')).result.brokers).toMatchObject([
      { brokerName: 'broker-a', state: 'registered', topicCount: 2 },
    ]);

    const missing = await client.request('getRoute', { topic: 'Nope' });
    expect(missing).toMatchObject({
      type: 'error',
      id: expect.any(Number),
      op: 'getRoute',
      code: 'remoting_error',
      remotingCode: ResponseCode.TOPIC_NOT_EXIST,
      remotingCodeName: 'TOPIC_NOT_EXIST',
    });
    expect(missing.message).toContain('No topic route info in name server for the topic: Nope');
    expect((await client.request('getKv', { namespace: 'ns', key: 'none' })).remotingCodeName).toBe('QUERY_NOT_FOUND');
  });
});

describe('gateway control ops and the token', () => {
  it('refuses control ops with no gatewayToken configured, saying so, and changes nothing', async () => {
    const t = await start();
    const { client, hello } = await t.open({ token: 'anything' });
    expect(hello.auth).toEqual({ authorized: false, controlOps: 'disabled' });
    const refused = await client.request('putKv', { namespace: 'ns', key: 'k', value: 'v' });
    expect(refused).toMatchObject({ type: 'error', id: 1, op: 'putKv', code: 'forbidden' });
    expect(refused.message).toContain('no gatewayToken configured');
    expect((await client.request('auth', { token: 'anything' })).code).toBe('forbidden');
    const tcp = await t.client();
    expect((await tcp.invoke(RequestCode.GET_KV_CONFIG, { namespace: 'ns', key: 'k' })).code).toBe(
      ResponseCode.QUERY_NOT_FOUND,
    );
  });

  it('refuses a wrong token at the upgrade and in an auth op, and control ops without the token, leaving state unchanged', async () => {
    const t = await start({ gatewayToken: TOKEN });
    const tcp = await t.client();
    await registerBroker(tcp, brokerA);

    expect(await refusedUpgrade(t.port, { token: 'wrong' })).toEqual({ status: 401, body: 'wrong gateway token\n' });
    expect((await refusedUpgrade(t.port, { headers: { authorization: 'Basic abc' } })).status).toBe(401);
    expect(t.server.gateway.stats().rejectedUpgrades).toBe(2);

    const { client, hello } = await t.open();
    expect(hello.auth).toEqual({ authorized: false, controlOps: 'enabled' });
    const attempts: Message[] = [
      await client.request('putKv', { namespace: 'ns', key: 'k', value: 'v' }),
      await client.request('wipeWritePerm', { brokerName: 'broker-a' }),
      await client.request('deleteTopic', { topic: 'TopicTest' }),
      await client.request('updateConfig', { config: { orderMessageEnable: true } }),
      await client.request('registerBroker', {
        clusterName: 'C',
        brokerName: 'b',
        brokerAddr: '127.0.0.1:1',
        dataVersion: { counter: 1, timestamp: 1 },
        topics: { T: {}, b: {} },
      }),
    ];
    expect(attempts.map((m) => [m.type, m.code])).toEqual(Array(5).fill(['error', 'unauthorized']));
    expect(attempts[0]!.message).toContain('Authorization: Bearer');

    const wrong = await client.request('auth', { token: 'wrong' });
    expect(wrong).toMatchObject({ type: 'error', op: 'auth', code: 'unauthorized', message: 'wrong gateway token' });
    expect((await client.request('putKv', { namespace: 'ns', key: 'k', value: 'v' })).code).toBe('unauthorized');

    expect((await tcp.invoke(RequestCode.GET_KV_CONFIG, { namespace: 'ns', key: 'k' })).code).toBe(
      ResponseCode.QUERY_NOT_FOUND,
    );
    const route = JSON.parse((await getRoute(tcp, 'TopicTest')).body!.toString('utf8'));
    expect(route.queueDatas[0].perm).toBe(6);
    expect(Object.keys((await clusterInfo(tcp)).brokerAddrTable)).toEqual(['broker-a']);
    expect(t.server.config.get().orderMessageEnable).toBe(false);
  });

  it('cuts off a client after repeated wrong tokens', async () => {
    const t = await start({ gatewayToken: TOKEN });
    const { client } = await t.open();
    for (let i = 0; i < 4; i++)
      expect((await client.request('auth', { token: `guess-${i}` })).code).toBe('unauthorized');
    expect((await client.request('auth', { token: 'guess-4' })).message).toContain('too many failed attempts');
    expect((await client.closed).code).toBe(1008);
  });

  it('runs control ops with the right token, from the upgrade header or an auth op', async () => {
    const t = await start({ gatewayToken: TOKEN, adminToken: 'admin-secret' });
    const tcp = await t.client();
    await registerBroker(tcp, brokerA);

    const { client: viaHeader, hello } = await t.open({ token: TOKEN });
    expect(hello.auth).toEqual({ authorized: true, controlOps: 'enabled' });
    expect((await viaHeader.request('putKv', { namespace: 'ns', key: 'k', value: 'v' })).result).toEqual({});
    expect((await tcp.invoke(RequestCode.GET_KV_CONFIG, { namespace: 'ns', key: 'k' })).extFields?.value).toBe('v');
    expect((await viaHeader.request('wipeWritePerm', { brokerName: 'broker-a' })).result).toEqual({
      wipeTopicCount: 2,
    });
    expect(JSON.parse((await getRoute(tcp, 'TopicTest')).body!.toString('utf8')).queueDatas[0].perm).toBe(4);

    const { client: viaOp } = await t.open();
    expect((await viaOp.request('auth', { token: TOKEN })).result).toEqual({ authorized: true });
    expect((await viaOp.request('addWritePerm', { brokerName: 'broker-a' })).result).toEqual({ addTopicCount: 2 });
    expect(JSON.parse((await getRoute(tcp, 'TopicTest')).body!.toString('utf8')).queueDatas[0].perm).toBe(6);
    expect((await viaOp.request('deleteKv', { namespace: 'ns', key: 'k' })).result).toEqual({});
    expect((await tcp.invoke(RequestCode.GET_KV_CONFIG, { namespace: 'ns', key: 'k' })).code).toBe(
      ResponseCode.QUERY_NOT_FOUND,
    );
    expect((await viaOp.request('updateConfig', { config: { orderMessageEnable: true } })).result).toEqual({});
    expect(t.server.config.get().orderMessageEnable).toBe(true);
    const blackListed = await viaOp.request('updateConfig', { config: { kvConfigPath: '/tmp/x' } });
    expect(blackListed).toMatchObject({ type: 'error', code: 'remoting_error', remotingCodeName: 'NO_PERMISSION' });
    expect((await viaOp.request('deleteTopic', { topic: 'TopicTest' })).result).toEqual({});
    expect((await getRoute(tcp, 'TopicTest')).code).toBe(ResponseCode.TOPIC_NOT_EXIST);

    // A later wrong token takes the authorization away.
    await viaOp.request('auth', { token: 'wrong' });
    expect((await viaOp.request('putKv', { namespace: 'ns', key: 'k', value: 'v' })).code).toBe('unauthorized');
  });
});

describe('brokers registered over the gateway', () => {
  it('registers a broker whose registration ends when its WebSocket closes', async () => {
    const t = await start({ gatewayToken: TOKEN });
    const { client: watcher } = await t.open();
    const { client: broker } = await t.open({ token: TOKEN });
    const registered = await broker.request('registerBroker', {
      clusterName: 'WsCluster',
      brokerName: 'ws-broker',
      brokerAddr: '127.0.0.1:40911',
      heartbeatTimeoutMillis: 60_000,
      dataVersion: { counter: 1, timestamp: 100 },
      topics: { WsTopic: { readQueueNums: 2, writeQueueNums: 2 }, 'ws-broker': {} },
    });
    expect(registered).toMatchObject({ type: 'response', op: 'registerBroker', result: {} });
    const tcp = await t.client();
    const route = JSON.parse((await getRoute(tcp, 'WsTopic')).body!.toString('utf8'));
    expect(route.queueDatas).toEqual([
      { brokerName: 'ws-broker', perm: 6, readQueueNums: 2, topicSysFlag: 0, writeQueueNums: 2 },
    ]);
    expect(t.server.brokerSnapshots()).toMatchObject([
      { clusterName: 'WsCluster', brokerAddr: '127.0.0.1:40911', heartbeatTimeoutMillis: 60_000, topicCount: 2 },
    ]);
    expect(
      (
        await broker.request('brokerHeartbeat', {
          clusterName: 'WsCluster',
          brokerName: 'ws-broker',
          brokerAddr: '127.0.0.1:40911',
        })
      ).result,
    ).toEqual({});

    await broker.close();
    const gone = await watcher.waitFor(
      (m) => m.type === 'transition' && m.machine === 'broker' && m.to === 'disconnected',
    );
    expect(gone).toMatchObject({ from: 'registered', actorId: 'WsCluster|127.0.0.1:40911' });
    expect((await getRoute(tcp, 'WsTopic')).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    expect((await clusterInfo(tcp)).brokerAddrTable).toEqual({});
  });

  it('validates the registration before anything runs', async () => {
    const t = await start({ gatewayToken: TOKEN });
    const { client } = await t.open({ token: TOKEN });
    const base = { clusterName: 'C', brokerName: 'b', brokerAddr: '127.0.0.1:1', topics: { T: {}, b: {} } };
    expect((await client.request('registerBroker', base)).message).toBe(
      'field "dataVersion" is required (a JSON object)',
    );
    expect(
      (await client.request('registerBroker', { ...base, dataVersion: { counter: 'x', timestamp: 1 } })).message,
    ).toBe('dataVersion.counter must be an integer');
    expect(
      (
        await client.request('registerBroker', {
          ...base,
          dataVersion: { counter: 1, timestamp: 1 },
          topics: { T: { perm: -1 } },
        })
      ).message,
    ).toBe('topics.T.perm must be a non-negative integer');
    expect(t.server.brokerSnapshots()).toEqual([]);
  });
});

describe('malformed input', () => {
  it('answers invalid JSON, unknown ops and missing fields with errors and keeps the connection', async () => {
    const t = await start({ gatewayMaxMessageBytes: 1024 });
    const { client } = await t.open();
    client.send('{"op": "getRoute", ');
    expect(await client.next()).toMatchObject({ type: 'error', code: 'invalid_json' });
    client.send('[1, 2]');
    expect(await client.next()).toMatchObject({ type: 'error', code: 'bad_request' });
    client.send({ id: 'no-op' });
    expect(await client.next()).toEqual({
      type: 'error',
      id: 'no-op',
      code: 'bad_request',
      message: 'field "op" is required (string)',
    });
    expect(await client.request('fly')).toEqual({
      type: 'error',
      id: 1,
      op: 'fly',
      code: 'unknown_op',
      message: 'unknown op "fly"',
    });
    expect(await client.request('getRoute')).toEqual({
      type: 'error',
      id: 2,
      op: 'getRoute',
      code: 'bad_request',
      message: 'field "topic" is required (a string)',
    });
    expect((await client.request('getRoute', { topic: 42 })).message).toBe('field "topic" must be a string');
    expect((await client.request('subscribe', { streams: ['weather'] })).message).toContain('unknown stream "weather"');
    expect((await client.request('subscribe', {})).code).toBe('bad_request');
    expect((await client.request('resume', { lastSeq: -1 })).code).toBe('bad_request');
    client.ws.send(Buffer.from('{"op":"ping"}'), { binary: true });
    expect(await client.next()).toMatchObject({
      type: 'error',
      code: 'bad_request',
      message: expect.stringContaining('binary'),
    });
    await client.barrier();

    client.send({ op: 'getRoute', id: 99, topic: 'x'.repeat(2_000) });
    expect((await client.closed).code).toBe(1009);
    expect(t.server.gateway.stats().oversizedMessages).toBe(1);
  });

  it('refuses a malformed upgrade query and limits subscriptions per client', async () => {
    const t = await start({ gatewayMaxSubscriptionsPerClient: 3 });
    expect(await refusedUpgrade(t.port, { query: { lastSeq: 'soon' } })).toEqual({
      status: 400,
      body: 'lastSeq must be a non-negative integer\n',
    });
    expect((await refusedUpgrade(t.port, { query: { streams: 'weather' } })).status).toBe(400);
    expect((await refusedUpgrade(t.port, { query: { topics: 'a,b,c,d' } })).status).toBe(400);
    const { client } = await t.open({ query: { topics: 'a,b' } });
    expect((await client.request('subscribe', { topics: ['b', 'c'] })).result.subscription.topics).toEqual([
      'a',
      'b',
      'c',
    ]);
    const over = await client.request('subscribe', { clusters: ['C'] });
    expect(over).toMatchObject({ type: 'error', code: 'limit_exceeded' });
    expect((await client.request('getBrokers')).type).toBe('response');
  });
});

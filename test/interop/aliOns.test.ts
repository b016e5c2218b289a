import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MQVersion, RequestCode as XRequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { registerBroker, type TestBroker } from '../support/broker.js';
import { startTestServer, type TestServer } from '../support/harness.js';
import {
  createOfflineMQClient,
  JSON2,
  MQClientAPI,
  offlineOptions,
  RemotingCommand,
  RequestCode,
  type AliOnsClientApi,
  type AliOnsLog,
  type AliOnsMessageQueue,
  type AliOnsRouteData,
} from './aliOns.js';
import { GatewayWs } from '../model/gatewayClient.js';
import { WireTap } from './wireTap.js';

/**
 * Interoperability with a RocketMQ client written by others: ali-ons reads
 * routes from xnamesrv through its own name-server API (MQClientAPI /
 * MQClient), over TCP on 127.0.0.1 only. A wire tap in between shows what
 * ali-ons sends and what it gets back.
 */

const TOPIC = 'InteropTopic';
const A_MASTER = '127.0.0.1:10911';
const A_SLAVE = '127.0.0.1:10921';
const B_MASTER = '127.0.0.1:20911';

/** What ali-ons must make of the route: its sort by brokerName applied. */
const EXPECTED_ROUTE: AliOnsRouteData = {
  brokerDatas: [
    { brokerAddrs: { '0': A_MASTER, '1': A_SLAVE }, brokerName: 'broker-a', cluster: 'DefaultCluster' },
    { brokerAddrs: { '0': B_MASTER }, brokerName: 'broker-b', cluster: 'DefaultCluster' },
  ],
  filterServerTable: {},
  queueDatas: [
    { brokerName: 'broker-a', perm: 6, readQueueNums: 8, topicSysFlag: 0, writeQueueNums: 8 },
    // Read-only on broker-b: subscribers see its queues, publishers do not.
    { brokerName: 'broker-b', perm: 4, readQueueNums: 4, topicSysFlag: 0, writeQueueNums: 4 },
  ],
};

let t: TestServer;
let tap: WireTap;
const log: AliOnsLog = { errors: [], warnings: [] };
const clients: Array<{ close(): Promise<void> }> = [];

function newApi(): AliOnsClientApi {
  const api = new MQClientAPI(offlineOptions(`127.0.0.1:${tap.port}`, log));
  clients.push(api);
  return api;
}

beforeAll(async () => {
  t = await startTestServer();
  const brokers = await t.client();
  const registrations: TestBroker[] = [
    {
      brokerName: 'broker-a',
      brokerAddr: A_MASTER,
      brokerId: 0,
      topics: { [TOPIC]: { readQueueNums: 8, writeQueueNums: 8 }, 'broker-a': {} },
    },
    {
      brokerName: 'broker-a',
      brokerAddr: A_SLAVE,
      brokerId: 1,
      topics: { [TOPIC]: { readQueueNums: 8, writeQueueNums: 8 }, 'broker-a': {} },
    },
    { brokerName: 'broker-b', brokerAddr: B_MASTER, brokerId: 0, topics: { [TOPIC]: { perm: 4 }, 'broker-b': {} } },
  ];
  for (const registration of registrations)
    expect((await registerBroker(brokers, registration)).code).toBe(ResponseCode.SUCCESS);
  tap = await WireTap.start({ host: '127.0.0.1', port: t.server.remotingPort });
});

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  await tap?.close();
  await t?.stop();
});

describe('ali-ons reading routes from xnamesrv with its own name-server API', () => {
  it('sends version 121 (below V4_9_4), so it gets fastjson-style bare integer keys, and its JSON2 parses them to the registered queues and addresses', async () => {
    const api = newApi();
    await api.ready();
    const before = tap.requests(XRequestCode.GET_ROUTEINFO_BY_TOPIC).length;
    const route = await api.getTopicRouteInfoFromNameServer(TOPIC, 3_000);

    const [request] = tap.requests(XRequestCode.GET_ROUTEINFO_BY_TOPIC).slice(before);
    expect(RequestCode.GET_ROUTEINTO_BY_TOPIC).toBe(XRequestCode.GET_ROUTEINFO_BY_TOPIC);
    expect(request).toMatchObject({ code: 105, language: 'JAVA', version: 121 });
    expect(request!.version).toBeLessThan(MQVersion.V4_9_4);
    // Only the topic and ali-ons's request signature: no acceptStandardJsonOnly.
    expect(Object.keys(request!.extFields ?? {}).sort()).toEqual(['AccessKey', 'OnsChannel', 'Signature', 'topic']);
    expect(request!.extFields).toMatchObject({ topic: TOPIC, AccessKey: 'test-access-key', OnsChannel: 'ALIYUN' });

    const body = tap.responseTo(request!)!.body!.toString('utf8');
    expect(body).toContain(`{0:"${A_MASTER}",1:"${A_SLAVE}"}`);
    expect(() => JSON.parse(body), 'fastjson-style is not standard JSON').toThrow();
    expect(route).toEqual(EXPECTED_ROUTE);
    expect(log.errors).toEqual([]);
  });

  it('gets standard JSON when it asks with acceptStandardJsonOnly, and both encodings parse to the same route', async () => {
    const api = newApi();
    await api.ready();
    // ali-ons's own request command and name-server invoke, with the header field added.
    const command = RemotingCommand.createRequestCommand(RequestCode.GET_ROUTEINTO_BY_TOPIC!, {
      topic: TOPIC,
      acceptStandardJsonOnly: 'true',
    });
    const response = await api.invokeForNameSrvAtLeastOnce(command, 3_000);
    expect(response.code).toBe(ResponseCode.SUCCESS);
    const body = response.body!.toString('utf8');
    expect(body).toContain(`{"0":"${A_MASTER}","1":"${A_SLAVE}"}`);
    const viaJson2 = JSON2.parse(body);
    expect(JSON.parse(body), 'standard JSON parses with JSON.parse and JSON2 alike').toEqual(viaJson2);
    const sorted = {
      ...viaJson2,
      brokerDatas: sortByName(viaJson2.brokerDatas),
      queueDatas: sortByName(viaJson2.queueDatas),
    };
    expect(sorted).toEqual(EXPECTED_ROUTE);
    expect(sorted).toEqual(await api.getTopicRouteInfoFromNameServer(TOPIC, 3_000));
  });

  it('gets standard JSON through the unmodified getTopicRouteInfoFromNameServer when its commands declare V4_9_4', async () => {
    const api = newApi();
    await api.ready();
    // ali-ons hard-codes the version in a getter; a client built on V4_9_4 or later would send 401+.
    const descriptor = Object.getOwnPropertyDescriptor(RemotingCommand.prototype, 'version')!;
    Object.defineProperty(RemotingCommand.prototype, 'version', { get: () => MQVersion.V4_9_4, configurable: true });
    let route: AliOnsRouteData;
    const before = tap.requests(XRequestCode.GET_ROUTEINFO_BY_TOPIC).length;
    try {
      route = await api.getTopicRouteInfoFromNameServer(TOPIC, 3_000);
    } finally {
      Object.defineProperty(RemotingCommand.prototype, 'version', descriptor);
    }
    const [request] = tap.requests(XRequestCode.GET_ROUTEINFO_BY_TOPIC).slice(before);
    expect(request!.version).toBe(MQVersion.V4_9_4);
    expect(tap.responseTo(request!)!.body!.toString('utf8')).toContain(`{"0":"${A_MASTER}","1":"${A_SLAVE}"}`);
    expect(route).toEqual(EXPECTED_ROUTE);
  });

  it('MQClient turns the route into its broker address table and publish and subscribe queues', async () => {
    const client = createOfflineMQClient(`127.0.0.1:${tap.port}`, log);
    clients.push(client);
    await client.ready();
    const published: Array<{
      topic: string;
      info: { messageQueueList: AliOnsMessageQueue[]; orderTopic: boolean; haveTopicRouterInfo: boolean };
    }> = [];
    const subscribed: Array<{ topic: string; queues: AliOnsMessageQueue[] }> = [];
    client.registerProducer('interop-producer', {
      updateTopicPublishInfo: (topic: string, info: (typeof published)[number]['info']) =>
        published.push({ topic, info }),
      isPublishTopicNeedUpdate: () => true,
    });
    client.registerConsumer('interop-consumer', {
      updateTopicSubscribeInfo: (topic: string, queues: AliOnsMessageQueue[]) => subscribed.push({ topic, queues }),
      isSubscribeTopicNeedUpdate: () => true,
    });
    try {
      await client.updateTopicRouteInfoFromNameServer(TOPIC);
    } finally {
      // MQClient.close() refuses while groups are registered, and unregistering would call the (absent) brokers.
      client._producerTable.clear();
      client._consumerTable.clear();
    }
    expect(client.findBrokerAddressInPublish('broker-a')).toBe(A_MASTER);
    expect(client.findBrokerAddressInPublish('broker-b')).toBe(B_MASTER);
    expect(client.findBrokerAddressInSubscribe('broker-a', 1, true)).toEqual({ brokerAddr: A_SLAVE, slave: true });

    expect(published).toHaveLength(1);
    expect(published[0]!.info).toMatchObject({ orderTopic: false, haveTopicRouterInfo: true });
    expect(published[0]!.info.messageQueueList.map(queueName)).toEqual(range(8).map((i) => `broker-a#${i}`));
    expect(subscribed).toHaveLength(1);
    expect(subscribed[0]!.queues.map(queueName)).toEqual([
      ...range(8).map((i) => `broker-a#${i}`),
      ...range(4).map((i) => `broker-b#${i}`),
    ]);
    expect(subscribed[0]!.queues.every((q) => q.topic === TOPIC)).toBe(true);
    expect(log.errors).toEqual([]);
  });

  it('reports a missing topic as MQClientException with TOPIC_NOT_EXIST', async () => {
    const api = newApi();
    await api.ready();
    await expect(api.getTopicRouteInfoFromNameServer('NoSuchTopic', 3_000)).rejects.toMatchObject({
      name: 'MQClientException',
      code: ResponseCode.TOPIC_NOT_EXIST,
      message:
        'No topic route info in name server for the topic: NoSuchTopic\nSee http://rocketmq.apache.org/docs/faq/ for further details.',
    });
  });
});

describe('the gateway JSON route read (ws /ws getRoute) and ali-ons', () => {
  it('agree on the route, before and after a change the gateway pushes', async () => {
    const api = newApi();
    await api.ready();
    const ws = await GatewayWs.open(t.server.httpPort, `?topics=${TOPIC}`);
    try {
      const normalize = (route: AliOnsRouteData) => ({
        ...route,
        brokerDatas: sortByName(route.brokerDatas),
        queueDatas: sortByName(route.queueDatas),
      });
      expect(normalize(ws.hello.routes[TOPIC]), 'route in the gateway hello').toEqual(EXPECTED_ROUTE);
      const read = await ws.request('getRoute', { topic: TOPIC });
      expect(read.type).toBe('response');
      expect(normalize(read.result.route)).toEqual(await api.getTopicRouteInfoFromNameServer(TOPIC, 3_000));

      // A new master for the topic: the gateway pushes the new route, ali-ons reads the same.
      const brokers = await t.client();
      const C_MASTER = '127.0.0.1:30911';
      await registerBroker(brokers, {
        brokerName: 'broker-c',
        brokerAddr: C_MASTER,
        topics: { [TOPIC]: { readQueueNums: 2, writeQueueNums: 2 }, 'broker-c': {} },
      });
      await ws.barrier();
      const pushed = ws.messages.filter((m) => m.type === 'route' && m.topic === TOPIC);
      expect(pushed.map((m) => m.cause)).toEqual(['register']);
      const viaAliOns = await api.getTopicRouteInfoFromNameServer(TOPIC, 3_000);
      expect(viaAliOns.brokerDatas.map((b) => b.brokerName)).toEqual(['broker-a', 'broker-b', 'broker-c']);
      expect(viaAliOns.queueDatas.find((q) => q.brokerName === 'broker-c')).toMatchObject({
        readQueueNums: 2,
        writeQueueNums: 2,
        perm: 6,
      });
      expect(normalize(pushed[0]!.route)).toEqual(viaAliOns);
      expect(normalize((await ws.request('getRoute', { topic: TOPIC })).result.route)).toEqual(viaAliOns);

      // And a missing topic is the same refusal on both surfaces.
      const missing = await ws.request('getRoute', { topic: 'NoSuchTopic' });
      const refused = await api
        .getTopicRouteInfoFromNameServer('NoSuchTopic', 3_000)
        .then<{ code: number; message: string }, { code: number; message: string }>(
          () => ({ code: -1, message: 'ali-ons read a route for a topic that has none' }),
          (err: { code: number; message: string }) => err,
        );
      expect(missing).toMatchObject({
        type: 'error',
        code: 'remoting_error',
        remotingCode: refused.code,
        message: refused.message,
      });

      const unregistered = await brokers.invoke(XRequestCode.UNREGISTER_BROKER, {
        clusterName: 'DefaultCluster',
        brokerName: 'broker-c',
        brokerAddr: C_MASTER,
        brokerId: '0',
      });
      expect(unregistered.code).toBe(ResponseCode.SUCCESS);
      await ws.barrier();
      expect(await api.getTopicRouteInfoFromNameServer(TOPIC, 3_000)).toEqual(EXPECTED_ROUTE);
      expect(normalize(ws.messages.filter((m) => m.type === 'route' && m.topic === TOPIC).at(-1)!.route)).toEqual(
        EXPECTED_ROUTE,
      );
    } finally {
      await ws.close();
    }
  });
});

describe('ali-ons against a name server that is still waiting for its brokers', () => {
  it('gets "name server not ready" as an MQClientException until the wait is over, then the route', async () => {
    const waiting = await startTestServer({ needWaitForService: true, waitSecondsForService: 30 });
    const api = new MQClientAPI(offlineOptions(`127.0.0.1:${waiting.server.remotingPort}`, log));
    try {
      await registerBroker(await waiting.client(), {
        brokerName: 'broker-a',
        brokerAddr: A_MASTER,
        topics: { [TOPIC]: {}, 'broker-a': {} },
      });
      await api.ready();
      await expect(api.getTopicRouteInfoFromNameServer(TOPIC, 3_000)).rejects.toMatchObject({
        name: 'MQClientException',
        code: ResponseCode.SYSTEM_ERROR,
        message: 'name server not ready',
      });
      waiting.clock.increment(30_000);
      expect(waiting.server.lifecycleState()).toBe('ready');
      const route = await api.getTopicRouteInfoFromNameServer(TOPIC, 3_000);
      expect(route.brokerDatas).toEqual([
        { brokerAddrs: { '0': A_MASTER }, brokerName: 'broker-a', cluster: 'DefaultCluster' },
      ]);
      expect(route.queueDatas).toEqual([
        { brokerName: 'broker-a', perm: 6, readQueueNums: 4, topicSysFlag: 0, writeQueueNums: 4 },
      ]);
    } finally {
      await api.close();
      await waiting.stop();
    }
  });
});

function sortByName<T extends { brokerName: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => (a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0));
}

function queueName(q: AliOnsMessageQueue): string {
  return `${q.brokerName}#${q.queueId}`;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RequestCode, ResponseCode, MQVersion } from '../src/remoting/requestCode.js';
import { RemotingClient } from '../src/remoting/client.js';
import { SerializeType } from '../src/remoting/command.js';
import { parseFastjsonText } from '../src/protocol/fastjsonParser.js';
import { startTestServer, type TestServer } from './support/harness.js';
import { clusterInfo, getRoute, registerBroker, registerBrokerRequest } from './support/broker.js';

const brokerA = { brokerName: 'broker-a', brokerAddr: '127.0.0.1:20911', topics: { TopicTest: {}, 'broker-a': {} } };

let t: TestServer;
let client: RemotingClient;
beforeEach(async () => {
  t = await startTestServer();
  client = await t.client();
});
afterEach(async () => {
  await t.stop();
});

const json = (body: Buffer | null | undefined) => {
  const parsed = parseFastjsonText(body!.toString('utf8'));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value as any;
};

describe('KV config codes', () => {
  it('puts, gets, lists and deletes, and survives a restart', async () => {
    expect(
      (await client.invoke(RequestCode.PUT_KV_CONFIG, { namespace: 'namespace', key: 'key', value: 'value' })).code,
    ).toBe(ResponseCode.SUCCESS);
    const got = await client.invoke(RequestCode.GET_KV_CONFIG, { namespace: 'namespace', key: 'key' });
    expect(got.code).toBe(ResponseCode.SUCCESS);
    expect(got.remark ?? null).toBeNull();
    expect(got.extFields?.value).toBe('value');
    const list = await client.invoke(RequestCode.GET_KVLIST_BY_NAMESPACE, { namespace: 'namespace' });
    expect(json(list.body)).toEqual({ table: { key: 'value' } });

    const restarted = await startTestServer({}, { dataDir: t.dataDir });
    try {
      const again = await (
        await restarted.client()
      ).invoke(RequestCode.GET_KV_CONFIG, { namespace: 'namespace', key: 'key' });
      expect(again.extFields?.value).toBe('value');
    } finally {
      await restarted.stop();
    }

    expect((await client.invoke(RequestCode.DELETE_KV_CONFIG, { namespace: 'namespace', key: 'key' })).code).toBe(
      ResponseCode.SUCCESS,
    );
    const gone = await client.invoke(RequestCode.GET_KV_CONFIG, { namespace: 'namespace', key: 'key' });
    expect(gone.code).toBe(ResponseCode.QUERY_NOT_FOUND);
    expect(gone.remark).toBe('No config item, Namespace: namespace Key: key');
    const none = await client.invoke(RequestCode.GET_KVLIST_BY_NAMESPACE, { namespace: 'other' });
    expect(none.code).toBe(ResponseCode.QUERY_NOT_FOUND);
    expect(none.remark).toBe('No config item, Namespace: other');
  });

  it('names the missing header field and stores nothing', async () => {
    const response = await client.invoke(RequestCode.PUT_KV_CONFIG, { namespace: 'ns', key: 'k' });
    expect(response.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(response.remark).toBe('the custom field <value> is null');
    expect(t.server.kv.get('ns', 'k')).toBeUndefined();
  });
});

describe('broker registration codes', () => {
  it('registers a broker: SUCCESS with empty extFields for a master, routes and cluster info follow', async () => {
    const response = await registerBroker(client, brokerA);
    expect(response.code).toBe(ResponseCode.SUCCESS);
    expect(response.extFields).toEqual({});
    const route = await getRoute(client, 'TopicTest');
    expect(json(route.body)).toEqual({
      brokerDatas: [{ brokerAddrs: { '0': '127.0.0.1:20911' }, brokerName: 'broker-a', cluster: 'DefaultCluster' }],
      filterServerTable: {},
      queueDatas: [{ brokerName: 'broker-a', perm: 6, readQueueNums: 4, topicSysFlag: 0, writeQueueNums: 4 }],
    });
    expect(await clusterInfo(client)).toEqual({
      brokerAddrTable: {
        'broker-a': { brokerAddrs: { '0': '127.0.0.1:20911' }, brokerName: 'broker-a', cluster: 'DefaultCluster' },
      },
      clusterAddrTable: { DefaultCluster: ['broker-a'] },
    });
  });

  it('answers a slave with its master and HA address', async () => {
    await registerBroker(client, brokerA);
    const slave = await registerBroker(client, { ...brokerA, brokerId: 1, brokerAddr: '127.0.0.1:20921' });
    expect(slave.code).toBe(ResponseCode.SUCCESS);
    expect(slave.extFields).toEqual({ masterAddr: '127.0.0.1:20911', haServerAddr: '127.0.0.1:20912' });
  });

  it('accepts a compressed body and refuses a CRC mismatch, leaving the table as it was', async () => {
    expect((await registerBroker(client, { ...brokerA, compressed: true })).code).toBe(ResponseCode.SUCCESS);
    const before = t.server.routes.dump();
    const { extFields, body } = registerBrokerRequest({
      ...brokerA,
      topics: { TopicTest: {}, Extra: {} },
      dataVersion: { timestamp: 2, counter: 2 },
    });
    const bad = await client.invoke(
      RequestCode.REGISTER_BROKER,
      { ...extFields, bodyCrc32: String((Number(extFields.bodyCrc32) + 1) & 0x7fffffff) },
      body,
    );
    expect(bad.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(bad.remark).toBe('crc32 not match');
    expect(t.server.routes.dump()).toEqual(before);
  });

  it('refuses a malformed body with SYSTEM_ERROR and a remark, table unchanged', async () => {
    await registerBroker(client, brokerA);
    const before = t.server.routes.dump();
    const { extFields } = registerBrokerRequest(brokerA);
    const bad = await client.invoke(
      RequestCode.REGISTER_BROKER,
      { ...extFields, bodyCrc32: '0' },
      Buffer.from('{"topicConfigSerializeWrapper":'),
    );
    expect(bad.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(bad.remark).toBeTruthy();
    expect(t.server.routes.dump()).toEqual(before);
  });

  it('refuses a first registration carrying a single topic', async () => {
    const response = await registerBroker(client, { ...brokerA, topics: { TopicTest: {} } });
    expect(response.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(response.remark).toBe('register broker failed');
  });

  it('names a missing required header field', async () => {
    const { extFields, body } = registerBrokerRequest(brokerA);
    delete extFields.brokerAddr;
    const response = await client.invoke(RequestCode.REGISTER_BROKER, extFields, body);
    expect(response.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(response.remark).toBe('the custom field <brokerAddr> is null');
    expect(t.server.routes.liveBrokerView()).toEqual([]);
  });

  it('unregisters a broker', async () => {
    await registerBroker(client, brokerA);
    const response = await client.invoke(RequestCode.UNREGISTER_BROKER, {
      brokerName: 'broker-a',
      brokerAddr: '127.0.0.1:20911',
      clusterName: 'DefaultCluster',
      brokerId: '0',
    });
    expect(response.code).toBe(ResponseCode.SUCCESS);
    expect((await getRoute(client, 'TopicTest')).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    expect(t.server.brokerSnapshots()).toEqual([]);
  });

  it('keeps a broker alive with BROKER_HEARTBEAT and QUERY_DATA_VERSION', async () => {
    await registerBroker(client, {
      ...brokerA,
      heartbeatTimeoutMillis: 10_000,
      dataVersion: { timestamp: 5, counter: 7 },
    });
    t.clock.increment(8_000);
    const heartbeat = await client.invoke(RequestCode.BROKER_HEARTBEAT, {
      clusterName: 'DefaultCluster',
      brokerAddr: '127.0.0.1:20911',
      brokerName: 'broker-a',
    });
    expect(heartbeat.code).toBe(ResponseCode.SUCCESS);
    t.clock.increment(8_000);
    const query = await client.invoke(
      RequestCode.QUERY_DATA_VERSION,
      { clusterName: 'DefaultCluster', brokerAddr: '127.0.0.1:20911', brokerName: 'broker-a', brokerId: '0' },
      Buffer.from('{"counter":7,"timestamp":5}'),
    );
    expect(query.code).toBe(ResponseCode.SUCCESS);
    expect(query.extFields?.changed).toBe('false');
    expect(json(query.body)).toMatchObject({ counter: 7, timestamp: 5 });
    t.clock.increment(8_000);
    expect((await getRoute(client, 'TopicTest')).code).toBe(ResponseCode.SUCCESS);
    t.clock.increment(2_000);
    expect((await getRoute(client, 'TopicTest')).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
  });

  it('fences the close of an old connection once the broker re-registered on a new one (rocketmq#11043)', async () => {
    const oldConnection = await t.client();
    await registerBroker(oldConnection, brokerA);
    const newConnection = await t.client();
    await registerBroker(newConnection, brokerA);
    await oldConnection.close();
    // Let the server see the close, then prove the broker is still there.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect((await getRoute(client, 'TopicTest')).code).toBe(ResponseCode.SUCCESS);
    expect(t.server.brokerSnapshots().map((b) => [b.brokerAddr, b.state, b.generation])).toEqual([
      ['127.0.0.1:20911', 'registered', 2],
    ]);
    await newConnection.close();
    for (let i = 0; i < 200 && t.server.brokerSnapshots().length > 0; i++)
      await new Promise((resolve) => setImmediate(resolve));
    expect(t.server.brokerSnapshots()).toEqual([]);
  });

  it('returns the broker member group', async () => {
    await registerBroker(client, brokerA);
    await registerBroker(client, { ...brokerA, brokerId: 1, brokerAddr: '127.0.0.1:20921' });
    const response = await client.invoke(RequestCode.GET_BROKER_MEMBER_GROUP, {
      clusterName: 'DefaultCluster',
      brokerName: 'broker-a',
    });
    expect(json(response.body)).toEqual({
      brokerMemberGroup: {
        brokerAddrs: { '0': '127.0.0.1:20911', '1': '127.0.0.1:20921' },
        brokerName: 'broker-a',
        cluster: 'DefaultCluster',
      },
    });
  });

  it('wipes and adds write permission, reporting topic counts', async () => {
    await registerBroker(client, brokerA);
    const wipe = await client.invoke(RequestCode.WIPE_WRITE_PERM_OF_BROKER, { brokerName: 'broker-a' });
    expect(wipe.extFields?.wipeTopicCount).toBe('2');
    expect(json((await getRoute(client, 'TopicTest')).body).queueDatas[0].perm).toBe(4);
    const add = await client.invoke(RequestCode.ADD_WRITE_PERM_OF_BROKER, { brokerName: 'broker-a' });
    expect(add.extFields?.addTopicCount).toBe('2');
    expect(json((await getRoute(client, 'TopicTest')).body).queueDatas[0].perm).toBe(6);
  });
});

describe('route and topic codes', () => {
  it('uses fastjson bare keys for old clients and standard JSON from 4.9.4 or on request', async () => {
    await registerBroker(client, brokerA);
    const old = await RemotingClient.connect({
      host: '127.0.0.1',
      port: t.server.remotingPort,
      version: MQVersion.V4_9_4 - 1,
    });
    try {
      expect((await getRoute(old, 'TopicTest')).body!.toString()).toContain('{0:"127.0.0.1:20911"}');
      expect((await getRoute(old, 'TopicTest', { acceptStandardJsonOnly: 'true' })).body!.toString()).toContain(
        '{"0":"127.0.0.1:20911"}',
      );
    } finally {
      await old.close();
    }
    expect((await getRoute(client, 'TopicTest')).body!.toString()).toContain('{"0":"127.0.0.1:20911"}');
  });

  it('answers in the binary header serialization when asked in it', async () => {
    await registerBroker(client, brokerA);
    const binary = await RemotingClient.connect({
      host: '127.0.0.1',
      port: t.server.remotingPort,
      serializeType: SerializeType.ROCKETMQ,
    });
    try {
      const response = await getRoute(binary, 'TopicTest');
      expect(response.serializeType).toBe(SerializeType.ROCKETMQ);
      expect(response.code).toBe(ResponseCode.SUCCESS);
    } finally {
      await binary.close();
    }
  });

  it('adds orderTopicConf from the ORDER_TOPIC_CONFIG namespace when orderMessageEnable', async () => {
    await registerBroker(client, brokerA);
    await client.invoke(RequestCode.PUT_KV_CONFIG, {
      namespace: 'ORDER_TOPIC_CONFIG',
      key: 'TopicTest',
      value: 'broker-a:4',
    });
    expect(json((await getRoute(client, 'TopicTest')).body).orderTopicConf).toBeUndefined();
    const update = await client.invoke(
      RequestCode.UPDATE_NAMESRV_CONFIG,
      null,
      Buffer.from('orderMessageEnable=true\n'),
    );
    expect(update.code).toBe(ResponseCode.SUCCESS);
    expect(json((await getRoute(client, 'TopicTest')).body).orderTopicConf).toBe('broker-a:4');
    // and the broker gets the namespace back when it registers
    const registered = await registerBroker(client, brokerA);
    expect(json(registered.body)).toEqual({ table: { TopicTest: 'broker-a:4' } });
  });

  it('lists topics: all, by cluster, system, unit lists; disabled lists say so', async () => {
    await registerBroker(client, {
      ...brokerA,
      topics: {
        TopicTest: {},
        'broker-a': {},
        UnitTopic: { topicSysFlag: 1 },
        UnitSub: { topicSysFlag: 2 },
        Both: { topicSysFlag: 3 },
      },
    });
    const all = json((await client.invoke(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER)).body).topicList.sort();
    expect(all).toEqual(['Both', 'TopicTest', 'UnitSub', 'UnitTopic', 'broker-a']);
    const byCluster = json(
      (await client.invoke(RequestCode.GET_TOPICS_BY_CLUSTER, { cluster: 'DefaultCluster' })).body,
    ).topicList.sort();
    expect(byCluster).toEqual(all);
    const system = json((await client.invoke(RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_NS)).body);
    expect(system.topicList.sort()).toEqual(['DefaultCluster', 'broker-a']);
    expect(json((await client.invoke(RequestCode.GET_UNIT_TOPIC_LIST)).body).topicList.sort()).toEqual([
      'Both',
      'UnitTopic',
    ]);
    expect(json((await client.invoke(RequestCode.GET_HAS_UNIT_SUB_TOPIC_LIST)).body).topicList.sort()).toEqual([
      'Both',
      'UnitSub',
    ]);
    expect(json((await client.invoke(RequestCode.GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST)).body).topicList.sort()).toEqual([
      'UnitSub',
    ]);

    await client.invoke(
      RequestCode.UPDATE_NAMESRV_CONFIG,
      null,
      Buffer.from('enableAllTopicList=false\nenableTopicList=false'),
    );
    for (const code of [
      RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER,
      RequestCode.GET_UNIT_TOPIC_LIST,
      RequestCode.GET_HAS_UNIT_SUB_TOPIC_LIST,
      RequestCode.GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST,
    ]) {
      const response = await client.invoke(code);
      expect([response.code, response.remark]).toEqual([ResponseCode.SYSTEM_ERROR, 'disable']);
    }
    const byClusterOff = await client.invoke(RequestCode.GET_TOPICS_BY_CLUSTER, { cluster: 'DefaultCluster' });
    expect([byClusterOff.code, byClusterOff.remark]).toEqual([ResponseCode.SYSTEM_ERROR, 'disable']);
  });

  it('deletes a topic everywhere or in one cluster', async () => {
    await registerBroker(client, brokerA);
    await registerBroker(client, {
      clusterName: 'Other',
      brokerName: 'broker-o',
      brokerAddr: '127.0.0.1:40911',
      topics: { TopicTest: {}, 'broker-o': {} },
    });
    await client.invoke(RequestCode.DELETE_TOPIC_IN_NAMESRV, { topic: 'TopicTest', clusterName: 'Other' });
    expect(json((await getRoute(client, 'TopicTest')).body).queueDatas.map((q: any) => q.brokerName)).toEqual([
      'broker-a',
    ]);
    await client.invoke(RequestCode.DELETE_TOPIC_IN_NAMESRV, { topic: 'TopicTest' });
    expect((await getRoute(client, 'TopicTest')).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
  });

  it('registers a topic from a TopicRouteData body, bare integer keys included', async () => {
    await registerBroker(client, brokerA);
    const body =
      '{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:20911"},"brokerName":"broker-a","cluster":"DefaultCluster"}],"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":8,"topicSysFlag":0,"writeQueueNums":8}]}';
    const response = await client.invoke(
      RequestCode.REGISTER_TOPIC_IN_NAMESRV,
      { topic: 'Created' },
      Buffer.from(body),
    );
    expect(response.code).toBe(ResponseCode.SUCCESS);
    expect(json((await getRoute(client, 'Created')).body).queueDatas[0].readQueueNums).toBe(8);
    const bad = await client.invoke(
      RequestCode.REGISTER_TOPIC_IN_NAMESRV,
      { topic: 'Bad' },
      Buffer.from('{"queueDatas":[{"perm":6}]}'),
    );
    expect(bad.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(bad.remark).toBe('queueDatas[0].brokerName must be a string');
  });

  it('serves a cached route byte-identical to a fresh encoding', async () => {
    await registerBroker(client, brokerA);
    const first = (await getRoute(client, 'TopicTest')).body!;
    const second = (await getRoute(client, 'TopicTest')).body!;
    expect(second.equals(first)).toBe(true);
    const { encodeTopicRouteData } = await import('../src/protocol/fastjsonWriter.js');
    expect(encodeTopicRouteData(t.server.routes.pickupTopicRouteData('TopicTest')!, true).equals(second)).toBe(true);
  });
});

describe('config codes', () => {
  it('returns properties text and refuses black-listed keys with NO_PERMISSION', async () => {
    const config = (await client.invoke(RequestCode.GET_NAMESRV_CONFIG)).body!.toString('utf8');
    // Configured as 0, shown as bound: a port a tool can use.
    expect(config).toMatch(new RegExp(`^listenPort=${t.server.remotingPort}$`, 'm'));
    expect(config).toMatch(new RegExp(`^httpPort=${t.server.httpPort}$`, 'm'));
    expect(config).toMatch(/^configBlackList=configBlackList;configStorePath;kvConfigPath$/m);
    for (const key of ['configBlackList', 'configStorePath', 'kvConfigPath', 'rocketmqHome']) {
      const response = await client.invoke(
        RequestCode.UPDATE_NAMESRV_CONFIG,
        null,
        Buffer.from(`${key}=/tmp/elsewhere\n`),
      );
      expect(response.code).toBe(ResponseCode.NO_PERMISSION);
      expect(response.remark).toContain('Can not update config in black list');
    }
    expect(t.server.config.get().kvConfigPath).toBe(join(t.dataDir, 'kvConfig.json'));
    const ok = await client.invoke(
      RequestCode.UPDATE_NAMESRV_CONFIG,
      null,
      Buffer.from('deleteTopicWithBrokerRegistration=true'),
    );
    expect(ok.code).toBe(ResponseCode.SUCCESS);
    expect(await readFile(join(t.dataDir, 'namesrv.properties'), 'utf8')).toMatch(
      /^deleteTopicWithBrokerRegistration=true$/m,
    );
  });
});

describe('unknown codes', () => {
  it('answers REQUEST_CODE_NOT_SUPPORTED naming the code', async () => {
    const response = await client.invoke(99999);
    expect(response.code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    expect(response.remark).toBe(' request type 99999 not supported');
  });
});

describe('adminToken', () => {
  it('refuses write requests without the token and changes nothing; reads stay open', async () => {
    const guarded = await startTestServer({ adminToken: 's3cret' });
    try {
      const c = await guarded.client();
      await registerBroker(c, brokerA);
      const refused = await c.invoke(RequestCode.WIPE_WRITE_PERM_OF_BROKER, { brokerName: 'broker-a' });
      expect(refused.code).toBe(ResponseCode.NO_PERMISSION);
      expect(refused.remark).toBe('WIPE_WRITE_PERM_OF_BROKER requires the admin token (ext field adminToken)');
      const wrong = await c.invoke(RequestCode.PUT_KV_CONFIG, {
        namespace: 'n',
        key: 'k',
        value: 'v',
        adminToken: 'guess',
      });
      expect(wrong.code).toBe(ResponseCode.NO_PERMISSION);
      expect(guarded.server.kv.get('n', 'k')).toBeUndefined();
      expect(json((await getRoute(c, 'TopicTest')).body).queueDatas[0].perm).toBe(6);
      const allowed = await c.invoke(RequestCode.PUT_KV_CONFIG, {
        namespace: 'n',
        key: 'k',
        value: 'v',
        adminToken: 's3cret',
      });
      expect(allowed.code).toBe(ResponseCode.SUCCESS);
      const config = (await c.invoke(RequestCode.GET_NAMESRV_CONFIG)).body!.toString();
      expect(config).toMatch(/^adminToken=\*\*\*\*\*\*$/m);
      expect(config).not.toContain('s3cret');
    } finally {
      await guarded.stop();
    }
  });
});

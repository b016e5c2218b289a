/**
 * Every legal name is data on the remoting surface: topics, broker names and
 * cluster names drawn from RocketMQ's whole topic alphabet, always with
 * `__proto__`, `constructor`, `toString`, `hasOwnProperty` and `valueOf`
 * among them, register through every body format, route for every client
 * generation (fastjson and standard JSON, JSON and binary headers), list,
 * unregister, and persist as KV namespaces and keys across a restart.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RemotingClient } from '../../src/remoting/client.js';
import { SerializeType } from '../../src/remoting/command.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { parseFastjsonText } from '../../src/protocol/fastjsonParser.js';
import { getRoute, registerBroker, topicConfig } from '../support/broker.js';
import { startTestServer, type TestServer } from '../support/harness.js';
import {
  CORE_PROTOTYPE_NAMES,
  nameSet,
  own,
  ownKeys,
  PROTOTYPE_NAMES,
  registerBody,
  registerHeader,
  scenario,
  SEED,
  sorted,
  type BrokerPlan,
  type Scenario,
} from './names.js';

/** The route-reading clients: a 5.x client (standard JSON), a 4.9.3 one (fastjson), one with binary headers. */
interface Readers {
  standard: RemotingClient;
  fastjson: RemotingClient;
  binary: RemotingClient;
}

async function readers(t: TestServer): Promise<Readers> {
  const port = t.server.remotingPort;
  return {
    standard: await t.client(),
    fastjson: await RemotingClient.connect({ host: '127.0.0.1', port, version: 400 }),
    binary: await RemotingClient.connect({ host: '127.0.0.1', port, serializeType: SerializeType.ROCKETMQ }),
  };
}

function parsedBody(response: { body?: Buffer | null }): any {
  const parsed = parseFastjsonText(response.body?.toString('utf8') ?? '');
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

async function register(client: RemotingClient, broker: BrokerPlan): Promise<void> {
  const body = registerBody(broker);
  const response = await client.invoke(RequestCode.REGISTER_BROKER, registerHeader(broker, body), body);
  expect({ code: response.code, remark: response.remark }, `register ${broker.brokerName} (${broker.format})`).toEqual({
    code: ResponseCode.SUCCESS,
    remark: null,
  });
}

async function unregister(client: RemotingClient, broker: BrokerPlan): Promise<void> {
  const response = await client.invoke(RequestCode.UNREGISTER_BROKER, {
    clusterName: broker.clusterName,
    brokerName: broker.brokerName,
    brokerAddr: broker.brokerAddr,
    brokerId: '0',
  });
  expect(response.code).toBe(ResponseCode.SUCCESS);
}

/** What every read must show with `live` registered; `mapped` holds every static-topic mapping ever registered. */
async function expectServed(
  clients: Readers,
  s: Scenario,
  live: readonly BrokerPlan[],
  mapped: ReadonlyMap<string, ReadonlySet<string>>,
): Promise<void> {
  // Every read at once: the answers are checked after all have arrived.
  const reads = s.topics.flatMap((topic) =>
    Object.entries(clients).map(async ([style, client]) => ({
      topic,
      style,
      response: await client.invoke(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }),
    })),
  );
  for (const { topic, style, response } of await Promise.all(reads)) {
    const serving = live.filter((b) => b.topics.has(topic));
    const what = `route of ${JSON.stringify(topic)} (${style})`;
    if (serving.length === 0) {
      expect(response.code, what).toBe(ResponseCode.TOPIC_NOT_EXIST);
      continue;
    }
    expect(response.code, what).toBe(ResponseCode.SUCCESS);
    const route = parsedBody(response);
    const queues = [...route.queueDatas].sort((a, b) => (a.brokerName < b.brokerName ? -1 : 1));
    expect(queues, what).toEqual(
      sorted(serving.map((b) => b.brokerName)).map((brokerName) => {
        const tc = serving.find((b) => b.brokerName === brokerName)!.topics.get(topic)!;
        return {
          brokerName,
          perm: tc.perm,
          readQueueNums: tc.readQueueNums,
          topicSysFlag: 0,
          writeQueueNums: tc.writeQueueNums,
        };
      }),
    );
    expect(route.brokerDatas.length, what).toBe(serving.length);
    for (const data of route.brokerDatas) {
      const broker = serving.find((b) => b.brokerName === data.brokerName)!;
      expect(data, what).toEqual({
        brokerAddrs: { 0: broker.brokerAddr },
        brokerName: broker.brokerName,
        cluster: broker.clusterName,
      });
      expect(ownKeys(data.brokerAddrs)).toEqual(['0']);
    }
    const mappedBy = mapped.get(topic);
    if (mappedBy === undefined) expect(route.topicQueueMappingByBroker, what).toBeUndefined();
    else {
      expect(ownKeys(route.topicQueueMappingByBroker), what).toEqual(sorted(mappedBy));
      for (const bname of mappedBy) expect(own(route.topicQueueMappingByBroker, bname).bname).toBe(bname);
    }
  }

  const routed = sorted(s.topics.filter((topic) => live.some((b) => b.topics.has(topic))));
  const all = await clients.standard.invoke(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER);
  expect(sorted(parsedBody(all).topicList)).toEqual(routed);

  const clusters = new Map<string, string[]>();
  for (const b of live) clusters.set(b.clusterName, [...(clusters.get(b.clusterName) ?? []), b.brokerName]);
  const byClusterReads = [...new Set(s.brokers.map((b) => b.clusterName))].map(async (cluster) => ({
    cluster,
    byCluster: await clients.standard.invoke(RequestCode.GET_TOPICS_BY_CLUSTER, { cluster }),
  }));
  for (const { cluster, byCluster } of await Promise.all(byClusterReads)) {
    expect(byCluster.code).toBe(ResponseCode.SUCCESS);
    const names = clusters.get(cluster) ?? [];
    expect(sorted(parsedBody(byCluster).topicList), `topics of cluster ${JSON.stringify(cluster)}`).toEqual(
      sorted(s.topics.filter((topic) => live.some((b) => names.includes(b.brokerName) && b.topics.has(topic)))),
    );
  }

  const info = parsedBody(await clients.fastjson.invoke(RequestCode.GET_BROKER_CLUSTER_INFO));
  expect(ownKeys(info.brokerAddrTable)).toEqual(sorted(live.map((b) => b.brokerName)));
  for (const b of live) {
    expect(own(info.brokerAddrTable, b.brokerName)).toEqual({
      brokerAddrs: { 0: b.brokerAddr },
      brokerName: b.brokerName,
      cluster: b.clusterName,
    });
  }
  expect(ownKeys(info.clusterAddrTable)).toEqual(sorted(clusters.keys()));
  for (const [cluster, names] of clusters) expect(own(info.clusterAddrTable, cluster)).toEqual(sorted(names));

  const system = parsedBody(await clients.binary.invoke(RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_NS));
  expect(sorted(system.topicList)).toEqual(sorted(new Set([...clusters.keys(), ...live.map((b) => b.brokerName)])));
}

describe('legal names on the remoting surface', () => {
  it('register, route, list and unregister through every body format', async () => {
    await fc.assert(
      fc.asyncProperty(scenario(30000), async (s) => {
        const t = await startTestServer();
        const clients = await readers(t);
        try {
          const mapped = new Map<string, Set<string>>();
          await Promise.all(s.brokers.map((broker) => register(clients.standard, broker)));
          for (const broker of s.brokers) {
            for (const topic of broker.mappings.keys())
              mapped.set(topic, new Set([...(mapped.get(topic) ?? []), broker.brokerName]));
          }
          await expectServed(clients, s, s.brokers, mapped);

          // The same bodies again: an unchanged DataVersion reads only the body's prefix.
          await Promise.all(s.brokers.map((broker) => register(clients.binary, broker)));
          await expectServed(clients, s, s.brokers, mapped);

          const [first, second, ...rest] = s.brokers;
          await unregister(clients.standard, first!);
          await unregister(clients.binary, second!);
          await expectServed(clients, s, rest, mapped);
          await Promise.all(rest.map((broker) => unregister(clients.standard, broker)));
          await expectServed(clients, s, [], mapped);
        } finally {
          await clients.fastjson.close();
          await clients.binary.close();
          await t.stop();
        }
      }),
      { seed: SEED, numRuns: 4 },
    );
  });
});

describe("the issue's two reports, through the test broker", () => {
  it('a broker registering the topics __proto__ and T2 is answered SUCCESS and both are listed', async () => {
    const t = await startTestServer();
    try {
      const client = await t.client();
      const topics = Object.fromEntries([
        ['__proto__', {}],
        ['T2', {}],
      ]);
      const answer = await registerBroker(client, { brokerName: 'broker-a', brokerAddr: '127.0.0.1:36911', topics });
      expect({ code: answer.code, remark: answer.remark }).toEqual({ code: ResponseCode.SUCCESS, remark: null });
      const all = await client.invoke(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER);
      expect(sorted(parsedBody(all).topicList)).toEqual(['T2', '__proto__']);
    } finally {
      await t.stop();
    }
  });

  it('with five topics including __proto__, the route of __proto__ is served', async () => {
    const t = await startTestServer();
    try {
      const client = await t.client();
      const topics = new Map(CORE_PROTOTYPE_NAMES.map((name) => [name, { readQueueNums: 2 }]));
      const answer = await registerBroker(client, { brokerName: 'broker-a', brokerAddr: '127.0.0.1:36911', topics });
      expect(answer.code).toBe(ResponseCode.SUCCESS);
      for (const topic of CORE_PROTOTYPE_NAMES) {
        const route = await getRoute(client, topic);
        expect(route.code, topic).toBe(ResponseCode.SUCCESS);
        expect(parsedBody(route).queueDatas[0].readQueueNums).toBe(2);
      }
    } finally {
      await t.stop();
    }
  });
});

describe('legal names as KV namespaces and keys', () => {
  // The file as it is written, without the fsyncs that make it durable (tested in test/kv).
  const kvWriteFile = (path: string, data: string) => writeFile(path, data);
  const kvEntries = fc
    .tuple(
      nameSet({ core: true, extra: { min: 0, max: 2 } }),
      nameSet({ core: true, extra: { min: 0, max: 3 } }),
      fc.nat(),
    )
    .map(([namespaces, keys, seed]) => {
      // Each namespace gets a different slice of the keys, each key a value naming it.
      const table = new Map<string, Map<string, string>>();
      namespaces.slice(0, 4).forEach((namespace, i) => {
        const picked = keys.filter((_, k) => (k + i + seed) % 2 === 0 || k === i % keys.length);
        table.set(namespace, new Map(picked.map((key) => [key, `${namespace}/${key}`])));
      });
      return table;
    });

  async function expectKv(client: RemotingClient, table: ReadonlyMap<string, ReadonlyMap<string, string>>) {
    const namespaces = [...table.keys()];
    const lists = await Promise.all(
      namespaces.map((namespace) => client.invoke(RequestCode.GET_KVLIST_BY_NAMESPACE, { namespace })),
    );
    namespaces.forEach((namespace, i) => {
      const list = lists[i]!;
      expect(list.code, `namespace ${JSON.stringify(namespace)}`).toBe(ResponseCode.SUCCESS);
      const listed = JSON.parse(list.body!.toString('utf8')).table;
      const kv = table.get(namespace)!;
      expect(ownKeys(listed)).toEqual(sorted(kv.keys()));
      for (const [key, value] of kv) expect(own(listed, key)).toBe(value);
    });
    // Every key of every namespace, and every prototype name as a key that is not there.
    const reads = namespaces.flatMap((namespace) =>
      [...new Set([...table.get(namespace)!.keys(), ...PROTOTYPE_NAMES])].map(async (key) => ({
        namespace,
        key,
        response: await client.invoke(RequestCode.GET_KV_CONFIG, { namespace, key }),
      })),
    );
    for (const { namespace, key, response } of await Promise.all(reads)) {
      const value = table.get(namespace)!.get(key);
      if (value === undefined) expect(response.code, `${namespace}/${key}`).toBe(ResponseCode.QUERY_NOT_FOUND);
      else expect(response.extFields?.value, `${namespace}/${key}`).toBe(value);
    }
    const absent = await Promise.all(
      PROTOTYPE_NAMES.filter((name) => !table.has(name)).map((namespace) =>
        client.invoke(RequestCode.GET_KVLIST_BY_NAMESPACE, { namespace }),
      ),
    );
    for (const response of absent) expect(response.code).toBe(ResponseCode.QUERY_NOT_FOUND);
  }

  it('are stored, listed, deleted, written to the KV file and read back after a restart', async () => {
    await fc.assert(
      fc.asyncProperty(kvEntries, async (table) => {
        const dataDir = await mkdtemp(join(tmpdir(), 'xnamesrv-names-'));
        try {
          const first = await startTestServer({}, { dataDir, kvWriteFile });
          try {
            const client = await first.client();
            const puts = [...table].flatMap(([namespace, kv]) =>
              [...kv].map(([key, value]) => client.invoke(RequestCode.PUT_KV_CONFIG, { namespace, key, value })),
            );
            for (const put of await Promise.all(puts)) expect(put.code).toBe(ResponseCode.SUCCESS);
            // One key of each namespace goes again: deleting must find it.
            for (const [namespace, kv] of table) {
              const key = kv.keys().next().value;
              if (key === undefined) continue;
              const deleted = await client.invoke(RequestCode.DELETE_KV_CONFIG, { namespace, key });
              expect(deleted.code).toBe(ResponseCode.SUCCESS);
              kv.delete(key);
            }
            await expectKv(client, table);
          } finally {
            await first.stop();
          }

          const file = JSON.parse(await readFile(join(dataDir, 'kvConfig.json'), 'utf8'));
          expect(ownKeys(file.configTable)).toEqual(sorted(table.keys()));
          for (const [namespace, kv] of table) {
            expect(Object.entries(own(file.configTable, namespace))).toEqual(
              sorted(kv.keys()).map((key) => [key, kv.get(key)]),
            );
          }

          const second = await startTestServer({}, { dataDir, kvWriteFile });
          try {
            await expectKv(await second.client(), table);
          } finally {
            await second.stop();
          }
        } finally {
          await rm(dataDir, { recursive: true, force: true });
        }
      }),
      { seed: SEED, numRuns: 2 },
    );
  });

  it('an ORDER_TOPIC_CONFIG entry keyed by a prototype-named topic reaches its route', async () => {
    const t = await startTestServer({ orderMessageEnable: true }, { kvWriteFile });
    try {
      const client = await t.client();
      const broker: BrokerPlan = {
        clusterName: 'valueOf',
        brokerName: '__proto__',
        brokerAddr: '127.0.0.1:31911',
        format: 'fastjson-4.9',
        topics: new Map(CORE_PROTOTYPE_NAMES.map((name) => [name, topicConfig(name, { order: true })])),
        mappings: new Map(),
        dataVersion: { counter: 1, timestamp: 1 },
      };
      await register(client, broker);
      for (const topic of CORE_PROTOTYPE_NAMES) {
        const put = await client.invoke(RequestCode.PUT_KV_CONFIG, {
          namespace: 'ORDER_TOPIC_CONFIG',
          key: topic,
          value: `__proto__:4`,
        });
        expect(put.code).toBe(ResponseCode.SUCCESS);
        const route = await client.invoke(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic });
        expect(route.code).toBe(ResponseCode.SUCCESS);
        expect(parsedBody(route).orderTopicConf).toBe('__proto__:4');
      }
    } finally {
      await t.stop();
    }
  });
});

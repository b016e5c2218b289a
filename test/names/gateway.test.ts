/**
 * Every legal name is data on the WebSocket gateway: subscriptions, filters,
 * snapshots, route and transition messages, and the route, broker, cluster,
 * topic-list, KV and broker-control ops, with names from RocketMQ's topic
 * alphabet and always Object.prototype's own names among them.
 */
import { writeFile } from 'node:fs/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { startGatewayServer, trackedGatewayClients, type GatewayClient, type Message } from '../gateway/support.js';
import { startTestServer } from '../support/harness.js';
import {
  CORE_PROTOTYPE_NAMES,
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

const TOKEN = 'names-token';

async function register(client: RemotingClient, broker: BrokerPlan): Promise<void> {
  const body = registerBody(broker);
  const response = await client.invoke(RequestCode.REGISTER_BROKER, registerHeader(broker, body), body);
  expect({ code: response.code, remark: response.remark }).toEqual({ code: ResponseCode.SUCCESS, remark: null });
}

function result(answer: Message): any {
  if (answer.type !== 'response') throw new Error(`request failed: ${JSON.stringify(answer)}`);
  return answer.result;
}

function brokerNamesOf(route: any): string[] {
  return sorted(route.queueDatas.map((q: { brokerName: string }) => q.brokerName));
}

function servingOf(s: Scenario, live: readonly BrokerPlan[], topic: string): string[] {
  return sorted(live.filter((b) => b.topics.has(topic)).map((b) => b.brokerName));
}

/** Every message received so far (consumed or not). */
function received(client: GatewayClient): Message[] {
  return client.messages;
}

/** Route messages received so far, the newest per topic. */
function newestRoutes(client: GatewayClient): Map<string, Message> {
  const newest = new Map<string, Message>();
  for (const message of received(client)) if (message.type === 'route') newest.set(message.topic, message);
  return newest;
}

describe('legal names on the gateway', () => {
  it('subscribe, snapshot, stream and read routes, brokers and clusters by any legal name', async () => {
    await fc.assert(
      fc.asyncProperty(scenario(32000), async (s) => {
        const t = await startGatewayServer({ gatewayToken: TOKEN });
        try {
          const remoting = await t.client();
          const topics = s.topics.join(',');
          const { client: watcher, hello } = await t.open({ query: { topics } });
          expect(ownKeys(hello.routes)).toEqual(sorted(s.topics));
          for (const topic of s.topics) expect(own(hello.routes, topic)).toBeNull();

          for (const broker of s.brokers) await register(remoting, broker);
          await watcher.barrier();
          const registered = received(watcher).filter((m) => m.type === 'transition' && m.machine === 'broker');
          expect(sorted(registered.map((m) => `${m.context.clusterName}/${m.context.brokerName}`))).toEqual(
            sorted(s.brokers.map((b) => `${b.clusterName}/${b.brokerName}`)),
          );
          const pushed = newestRoutes(watcher);
          expect(sorted(pushed.keys())).toEqual(sorted(s.topics));
          for (const [topic, message] of pushed)
            expect(brokerNamesOf(message.route)).toEqual(servingOf(s, s.brokers, topic));

          // A late subscriber gets the same routes in its snapshot and in its subscribe answer.
          const { client: late, hello: lateHello } = await t.open({ query: { topics } });
          const subscribed = result(await late.request('subscribe', { topics: [...CORE_PROTOTYPE_NAMES] }));
          for (const routes of [lateHello.routes, subscribed.routes]) {
            for (const topic of ownKeys(routes))
              expect(brokerNamesOf(own(routes, topic))).toEqual(servingOf(s, s.brokers, topic));
          }
          expect(ownKeys(subscribed.routes)).toEqual(sorted(CORE_PROTOTYPE_NAMES));

          const routes = await Promise.all(s.topics.map((topic) => late.request('getRoute', { topic })));
          s.topics.forEach((topic, i) =>
            expect(brokerNamesOf(result(routes[i]!).route)).toEqual(servingOf(s, s.brokers, topic)),
          );
          const absent = PROTOTYPE_NAMES.filter((name) => !s.topics.includes(name));
          for (const answer of await Promise.all(absent.map((topic) => late.request('getRoute', { topic })))) {
            expect(answer).toMatchObject({ type: 'error', remotingCodeName: 'TOPIC_NOT_EXIST' });
          }

          const brokers = result(await late.request('getBrokers')).brokers;
          expect(sorted(brokers.map((b: any) => `${b.clusterName}/${b.brokerName}`))).toEqual(
            sorted(s.brokers.map((b) => `${b.clusterName}/${b.brokerName}`)),
          );
          const info = result(await late.request('getClusterInfo'));
          expect(ownKeys(info.brokerAddrTable)).toEqual(sorted(s.brokers.map((b) => b.brokerName)));
          expect(ownKeys(info.clusterAddrTable)).toEqual(sorted(new Set(s.brokers.map((b) => b.clusterName))));
          expect(sorted(result(await late.request('getAllTopics')).topicList)).toEqual(sorted(s.topics));
          for (const cluster of new Set(s.brokers.map((b) => b.clusterName))) {
            const inCluster = s.brokers.filter((b) => b.clusterName === cluster);
            expect(sorted(result(await late.request('getTopicsByCluster', { cluster })).topicList)).toEqual(
              sorted(s.topics.filter((topic) => inCluster.some((b) => b.topics.has(topic)))),
            );
          }

          // Broker filters by name and by cluster narrow snapshots to exactly that name.
          const [first, second] = s.brokers;
          const byName = (await t.open({ query: { brokers: first!.brokerName } })).hello;
          expect(byName.brokers.map((b: any) => b.brokerName)).toEqual([first!.brokerName]);
          const byCluster = (await t.open({ query: { clusters: second!.clusterName } })).hello;
          expect(sorted(byCluster.brokers.map((b: any) => b.brokerName))).toEqual(
            sorted(s.brokers.filter((b) => b.clusterName === second!.clusterName).map((b) => b.brokerName)),
          );

          // Control ops: unregistering pushes the new routes and the broker's last transition.
          const control = (await t.open({ token: TOKEN })).client;
          const unregistered = result(
            await control.request('unregisterBroker', {
              clusterName: first!.clusterName,
              brokerName: first!.brokerName,
              brokerAddr: first!.brokerAddr,
              brokerId: 0,
            }),
          );
          expect(unregistered).toEqual({});
          await watcher.barrier();
          const gone = received(watcher).find(
            (m) => m.type === 'transition' && m.to === 'unregistered' && m.context.brokerName === first!.brokerName,
          );
          expect(gone?.context.clusterName).toBe(first!.clusterName);
          const rest = s.brokers.slice(1);
          for (const [topic, message] of newestRoutes(watcher)) {
            const serving = servingOf(s, rest, topic);
            if (serving.length === 0) expect(message.route).toBeNull();
            else expect(brokerNamesOf(message.route)).toEqual(serving);
          }
        } finally {
          await t.stop();
        }
      }),
      { seed: SEED, numRuns: 3 },
    );
  });

  it('registers brokers and stores KV entries named by prototype names through control ops', async () => {
    // The KV file as it is written, without the fsyncs that make it durable (tested in test/kv).
    const t = await startTestServer({ gatewayToken: TOKEN }, { kvWriteFile: (path, data) => writeFile(path, data) });
    const gateway = trackedGatewayClients(t);
    try {
      const { client } = await gateway.open({ token: TOKEN });
      // JSON.parse on the server makes every key an own property, "__proto__" too.
      const topics = Object.fromEntries(PROTOTYPE_NAMES.map((name) => [name, { readQueueNums: 2, writeQueueNums: 2 }]));
      for (const [i, name] of CORE_PROTOTYPE_NAMES.entries()) {
        result(
          await client.request('registerBroker', {
            clusterName: CORE_PROTOTYPE_NAMES[(i + 1) % CORE_PROTOTYPE_NAMES.length],
            brokerName: name,
            brokerAddr: `127.0.0.1:${33000 + i}`,
            dataVersion: { counter: 1, timestamp: 1 },
            topics,
          }),
        );
      }
      for (const topic of PROTOTYPE_NAMES) {
        const route = result(await client.request('getRoute', { topic })).route;
        expect(brokerNamesOf(route)).toEqual(sorted(CORE_PROTOTYPE_NAMES));
      }

      const puts = CORE_PROTOTYPE_NAMES.flatMap((namespace) =>
        PROTOTYPE_NAMES.map((key) => client.request('putKv', { namespace, key, value: `${namespace}.${key}` })),
      );
      for (const answer of await Promise.all(puts)) result(answer);
      for (const namespace of CORE_PROTOTYPE_NAMES) {
        const table = result(await client.request('getKvList', { namespace })).table;
        expect(ownKeys(table)).toEqual(sorted(PROTOTYPE_NAMES));
        for (const key of PROTOTYPE_NAMES) expect(own(table, key)).toBe(`${namespace}.${key}`);
        expect(result(await client.request('getKv', { namespace, key: '__proto__' }))).toEqual({
          value: `${namespace}.__proto__`,
        });
      }
    } finally {
      await gateway.stop();
    }
  });
});

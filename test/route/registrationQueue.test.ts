/**
 * The queued registration path: bodies from 256 KiB are checked and decoded on
 * a worker thread, applied in arrival order and in chunks of topics. Worker
 * threads exist only in the compiled server (dist/, built by `npm test`), so
 * these tests run that one.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { brokerKeyOf } from '../../machines/broker.js';
import type { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { getRoute, registerBrokerRequest, type TestBroker } from '../support/broker.js';
import { startTestServer, type TestServer } from '../support/harness.js';
import type { RouteTable as RouteTableType, RegisterBrokerInput } from '../../src/route/routeTable.js';

async function compiledRouteTable(): Promise<typeof RouteTableType> {
  const url = new URL('../../dist/src/route/routeTable.js', import.meta.url);
  return ((await import(url.href)) as { RouteTable: typeof RouteTableType }).RouteTable;
}

function registerInput(broker: TestBroker): RegisterBrokerInput {
  const { extFields, body } = registerBrokerRequest(broker);
  return {
    clusterName: extFields.clusterName!,
    brokerAddr: extFields.brokerAddr!,
    brokerName: extFields.brokerName!,
    brokerId: Number(extFields.brokerId),
    haServerAddr: extFields.haServerAddr!,
    connectionId: 1,
    now: 0,
    clientVersion: 409,
    body,
    compressed: false,
    bodyCrc32: Number(extFields.bodyCrc32),
  };
}

/** 3,000 topics: a ~600 KB JSON body (decoded on a worker) applied in three chunks. */
function largeBroker(brokerName: string, brokerAddr: string, prefix: string): TestBroker {
  const topics: Record<string, object> = {};
  for (let i = 0; i < 3_000; i++) topics[`${prefix}_${String(i).padStart(5, '0')}`] = {};
  return { brokerName, brokerAddr, topics };
}

function unregisterRequest(broker: TestBroker): Record<string, string> {
  return {
    brokerName: broker.brokerName,
    brokerAddr: broker.brokerAddr,
    clusterName: broker.clusterName ?? 'DefaultCluster',
    brokerId: String(broker.brokerId ?? 0),
  };
}

let t: TestServer;
let client: RemotingClient;

beforeEach(async () => {
  t = await startTestServer({}, { compiled: true });
  client = await t.client();
});

afterEach(async () => {
  await t.stop();
});

describe('queued registrations (compiled server, worker decode)', () => {
  it('decodes a large body off the event loop and applies every topic', async () => {
    const big = largeBroker('broker-big', '127.0.0.1:30911', 'Big');
    const { extFields, body } = registerBrokerRequest(big);
    expect(body.length).toBeGreaterThan(256 * 1024);
    const answer = client.invoke(RequestCode.REGISTER_BROKER, extFields, body);
    // Queued while it decodes: the event loop is free to do other work meanwhile.
    while (t.server.routes.pendingRegistrations === 0) await new Promise((resolve) => setImmediate(resolve));
    expect((await answer).code).toBe(ResponseCode.SUCCESS);
    expect(t.server.routes.pendingRegistrations).toBe(0);
    for (const topic of ['Big_00000', 'Big_01500', 'Big_02999']) {
      const route = await getRoute(client, topic);
      expect(route.code).toBe(ResponseCode.SUCCESS);
      expect(JSON.parse(route.body!.toString()).brokerDatas[0].brokerName).toBe('broker-big');
    }
  });

  it('answers registrations in the order they arrived, small ones queued behind a large one', async () => {
    const big = largeBroker('broker-big', '127.0.0.1:30911', 'Big');
    const small: TestBroker = {
      brokerName: 'broker-small',
      brokerAddr: '127.0.0.1:30921',
      topics: { SmallA: {}, SmallB: {} },
    };
    const order: string[] = [];
    const bigRequest = registerBrokerRequest(big);
    const smallRequest = registerBrokerRequest(small);
    const answers = await Promise.all([
      client
        .invoke(RequestCode.REGISTER_BROKER, bigRequest.extFields, bigRequest.body)
        .then((r) => (order.push('big'), r)),
      client
        .invoke(RequestCode.REGISTER_BROKER, smallRequest.extFields, smallRequest.body)
        .then((r) => (order.push('small'), r)),
    ]);
    expect(answers.map((a) => a.code)).toEqual([ResponseCode.SUCCESS, ResponseCode.SUCCESS]);
    expect(order).toEqual(['big', 'small']);
    expect((await getRoute(client, 'SmallA')).code).toBe(ResponseCode.SUCCESS);
    expect((await getRoute(client, 'Big_02999')).code).toBe(ResponseCode.SUCCESS);
  });

  it("applies UNREGISTER_BROKER after the same broker's registration that was still decoding", async () => {
    const big = largeBroker('broker-big', '127.0.0.1:30911', 'Big');
    const { extFields, body } = registerBrokerRequest(big);
    // Sent back to back, as a broker that registers and shuts down at once would.
    const [registered, unregistered] = await Promise.all([
      client.invoke(RequestCode.REGISTER_BROKER, extFields, body),
      client.invoke(RequestCode.UNREGISTER_BROKER, unregisterRequest(big)),
    ]);
    expect(registered.code).toBe(ResponseCode.SUCCESS);
    expect(unregistered.code).toBe(ResponseCode.SUCCESS);
    expect((await getRoute(client, 'Big_00000')).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    expect(t.server.routes.liveBrokerView()).toEqual([]);
    // The actor saw REGISTERED, then UNREGISTERED: none is left registered.
    expect(t.server.brokers.actors.has(brokerKeyOf('DefaultCluster', big.brokerAddr))).toBe(false);
  });

  it('refuses a large body whose checksum does not match, changing nothing', async () => {
    const big = largeBroker('broker-big', '127.0.0.1:30911', 'Big');
    const { extFields, body } = registerBrokerRequest(big);
    extFields.bodyCrc32 = String((Number(extFields.bodyCrc32) + 1) & 0x7fffffff);
    const answer = await client.invoke(RequestCode.REGISTER_BROKER, extFields, body);
    expect(answer.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect((await getRoute(client, 'Big_00000')).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    expect(t.server.routes.liveBrokerView()).toEqual([]);
  });
});

describe('RouteTable.afterQueuedRegistrations (compiled)', () => {
  it('runs at once on an empty queue, otherwise after the queue, and a failing write does not stall it', async () => {
    const RouteTable = await compiledRouteTable();
    const table = new RouteTable({ supportActingMaster: false, deleteTopicWithBrokerRegistration: false });
    try {
      expect(table.afterQueuedRegistrations(() => 'now')).toBe('now');
      const registration = table.submitRegistration(registerInput(largeBroker('broker-big', '127.0.0.1:30911', 'Big')));
      expect(registration).toBeInstanceOf(Promise);
      const seen: string[] = [];
      const failing = table.afterQueuedRegistrations(() => {
        seen.push(`failing sees ${table.pickupTopicRouteData('Big_02999') ? 'the registration' : 'nothing'}`);
        throw new Error('write failed');
      });
      const next = table.afterQueuedRegistrations(() => (seen.push('next'), 42));
      await expect(failing).rejects.toThrow('write failed');
      await expect(next).resolves.toBe(42);
      expect((await registration).ok).toBe(true);
      expect(seen).toEqual(['failing sees the registration', 'next']);
      expect(table.pendingRegistrations).toBe(0);
    } finally {
      table.close();
    }
  });
});

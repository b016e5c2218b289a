/**
 * WIPE_WRITE_PERM_OF_BROKER and ADD_WRITE_PERM_OF_BROKER as a client sees
 * them: the routes it reads before, after, and after again. Routes are
 * served from a per-topic cache of encoded bodies (one for fastjson, one for
 * standard JSON), so every topic is read first, in both encodings, to fill
 * the caches; a producer that kept reading a cached writable perm after the
 * wipe would go on sending to a broker being drained.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RemotingClient } from '../../src/remoting/client.js';
import { MQVersion, RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { parseFastjsonText } from '../../src/protocol/fastjsonParser.js';
import { getRoute, registerBroker } from '../support/broker.js';
import { startTestServer, type TestServer } from '../support/harness.js';

const brokerA = { brokerName: 'broker-a', brokerAddr: '127.0.0.1:20911', topics: { Shared: {}, OwnA: {} } };
const brokerB = { brokerName: 'broker-b', brokerAddr: '127.0.0.1:30911', topics: { Shared: {}, OwnB: {} } };
const TOPICS = ['Shared', 'OwnA', 'OwnB'];
const READ_WRITE = 6;
const READ_ONLY = 4;

let t: TestServer;
/** Reads routes as standard JSON (a client of 4.9.4 or later). */
let standard: RemotingClient;
/** Reads routes as fastjson with bare keys (a client before 4.9.4). */
let fastjson: RemotingClient;
let admin: RemotingClient;
/** The connection both brokers registered over. */
let broker: RemotingClient;

beforeEach(async () => {
  t = await startTestServer();
  standard = await t.client();
  admin = await t.client();
  fastjson = await RemotingClient.connect({
    host: '127.0.0.1',
    port: t.server.remotingPort,
    version: MQVersion.V4_9_4 - 1,
  });
  broker = await t.client();
  expect((await registerBroker(broker, brokerA)).code).toBe(ResponseCode.SUCCESS);
  expect((await registerBroker(broker, brokerB)).code).toBe(ResponseCode.SUCCESS);
});

afterEach(async () => {
  await fastjson.close();
  await t.stop();
});

/** Each broker name's perm in the topic's route, as one reader reads it. */
async function permsOf(reader: RemotingClient, topic: string): Promise<Record<string, number>> {
  const response = await getRoute(reader, topic);
  expect(response.code, `route of ${topic}`).toBe(ResponseCode.SUCCESS);
  const parsed = parseFastjsonText(response.body!.toString('utf8'));
  if (!parsed.ok) throw new Error(parsed.error);
  const route = parsed.value as { queueDatas: Array<{ brokerName: string; perm: number }> };
  return Object.fromEntries(route.queueDatas.map((q) => [q.brokerName, q.perm]));
}

/** Every topic's perms in both encodings, each read twice (the second read is served from the cache). */
async function readEverything(): Promise<Record<string, Record<string, number>>> {
  const seen: Record<string, Record<string, number>> = {};
  for (const [encoding, reader] of [
    ['standard', standard],
    ['fastjson', fastjson],
  ] as const) {
    for (const topic of TOPICS) {
      const first = await permsOf(reader, topic);
      expect(await permsOf(reader, topic), `${topic} read again as ${encoding}`).toEqual(first);
      seen[`${topic} (${encoding})`] = first;
    }
  }
  return seen;
}

/** What every reader must see, given broker-a's perm (broker-b is never touched). */
function expected(permOfA: number): Record<string, Record<string, number>> {
  const perTopic: Record<string, Record<string, number>> = {
    Shared: { 'broker-a': permOfA, 'broker-b': READ_WRITE },
    OwnA: { 'broker-a': permOfA },
    OwnB: { 'broker-b': READ_WRITE },
  };
  const out: Record<string, Record<string, number>> = {};
  for (const encoding of ['standard', 'fastjson'])
    for (const topic of TOPICS) out[`${topic} (${encoding})`] = perTopic[topic]!;
  return out;
}

describe('routes read around WIPE_WRITE_PERM_OF_BROKER and ADD_WRITE_PERM_OF_BROKER', () => {
  it('show the wiped perm at once, in both encodings, after the routes were cached writable', async () => {
    expect(await readEverything()).toEqual(expected(READ_WRITE));

    const wipe = await admin.invoke(RequestCode.WIPE_WRITE_PERM_OF_BROKER, { brokerName: 'broker-a' });
    expect(wipe.code).toBe(ResponseCode.SUCCESS);
    expect(wipe.extFields?.wipeTopicCount).toBe('2');
    expect(await readEverything()).toEqual(expected(READ_ONLY));

    const add = await admin.invoke(RequestCode.ADD_WRITE_PERM_OF_BROKER, { brokerName: 'broker-a' });
    expect(add.code).toBe(ResponseCode.SUCCESS);
    expect(add.extFields?.addTopicCount).toBe('2');
    expect(await readEverything()).toEqual(expected(READ_WRITE));
  });

  it('keep the wiped perm across a re-registration with an unchanged DataVersion, as RocketMQ does', async () => {
    // The broker's periodic re-registration carries the same DataVersion, so
    // its topic configs (perm 6) are not applied over the wipe.
    await readEverything();
    await admin.invoke(RequestCode.WIPE_WRITE_PERM_OF_BROKER, { brokerName: 'broker-a' });
    expect(await readEverything()).toEqual(expected(READ_ONLY));
    expect((await registerBroker(broker, brokerA)).code).toBe(ResponseCode.SUCCESS);
    expect(await readEverything()).toEqual(expected(READ_ONLY));
  });
});

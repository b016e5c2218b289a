/**
 * A master re-registering a different topic set under the DataVersion it
 * registered before. RocketMQ 5's RouteInfoManager.registerBroker does not
 * skip such a body: for each topic it asks isTopicConfigChanged, which is
 * true when the DataVersion changed or when the topic has no queue data for
 * this broker name yet. So, under an unchanged DataVersion:
 * - a topic new to the broker name is added, and its route can be read;
 * - a topic the broker name already serves keeps its queue data, even if the
 *   body now says otherwise (until the DataVersion changes).
 * (RocketMQ 4.9 applied no topic at all under an unchanged DataVersion; a
 * 4.9 broker bumps its DataVersion whenever its topics change.)
 *
 * xnamesrv skips decoding a body byte-identical to the last one with the same
 * DataVersion; the registrations here start with such a repeat, so a body
 * that differs must not be taken for it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { parseFastjsonText } from '../../src/protocol/fastjsonParser.js';
import type { TopicConfig } from '../../src/protocol/types.js';
import { clusterInfo, getRoute, registerBroker, type TestBroker } from '../support/broker.js';
import { startTestServer, type TestServer } from '../support/harness.js';

const DATA_VERSION = { timestamp: 1_767_225_600_000, counter: 7 };

/** broker-a's master; like a real broker it always registers its own broker-name topic too. */
function brokerA(topics: Record<string, Partial<TopicConfig>>, dataVersion = DATA_VERSION): TestBroker {
  return { brokerName: 'broker-a', brokerAddr: '127.0.0.1:20911', topics: { 'broker-a': {}, ...topics }, dataVersion };
}

let t: TestServer;
let broker: RemotingClient;
let reader: RemotingClient;

beforeEach(async () => {
  t = await startTestServer();
  broker = await t.client();
  reader = await t.client();
});

afterEach(async () => {
  await t.stop();
});

const json = (body: Buffer | null | undefined): any => {
  const parsed = parseFastjsonText(body!.toString('utf8'));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
};

async function register(topics: Record<string, Partial<TopicConfig>>, dataVersion = DATA_VERSION): Promise<void> {
  const response = await registerBroker(broker, brokerA(topics, dataVersion));
  expect(response.code, response.remark ?? '').toBe(ResponseCode.SUCCESS);
}

/** The topic's queue data as a client reads it, or the response code when there is no route. */
async function queuesOf(topic: string): Promise<unknown> {
  const response = await getRoute(reader, topic);
  if (response.code !== ResponseCode.SUCCESS) return response.code;
  const route = json(response.body);
  expect(route.brokerDatas).toEqual([
    { cluster: 'DefaultCluster', brokerName: 'broker-a', brokerAddrs: { '0': '127.0.0.1:20911' } },
  ]);
  return route.queueDatas.map((q: any) => ({
    brokerName: q.brokerName,
    readQueueNums: q.readQueueNums,
    writeQueueNums: q.writeQueueNums,
    perm: q.perm,
  }));
}

const queues = (read: number, write: number, perm = 6) => [
  { brokerName: 'broker-a', readQueueNums: read, writeQueueNums: write, perm },
];

describe('a re-registration with an unchanged DataVersion and a different topic set', () => {
  it('adds the topics that are new, whose routes can then be read', async () => {
    await register({ TopicA: {} });
    await register({ TopicA: {} }); // a periodic re-registration: the same bytes
    expect(await queuesOf('TopicA')).toEqual(queues(4, 4));
    expect(await queuesOf('TopicB')).toBe(ResponseCode.TOPIC_NOT_EXIST);

    await register({ TopicA: {}, TopicB: { readQueueNums: 8, writeQueueNums: 8 }, TopicC: { perm: 4 } });

    expect(await queuesOf('TopicB')).toEqual(queues(8, 8));
    expect(await queuesOf('TopicC')).toEqual(queues(4, 4, 4));
    expect(await queuesOf('TopicA')).toEqual(queues(4, 4));
    const list = await reader.invoke(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER);
    expect([...json(list.body).topicList].sort()).toEqual(['TopicA', 'TopicB', 'TopicC', 'broker-a']);
    const cluster = await clusterInfo(reader);
    expect(cluster.clusterAddrTable).toEqual({ DefaultCluster: ['broker-a'] });
  });

  it('keeps the queue data of a topic the broker already serves until the DataVersion changes', async () => {
    await register({ TopicA: {} });
    expect(await queuesOf('TopicA')).toEqual(queues(4, 4));

    await register({ TopicA: { readQueueNums: 16, writeQueueNums: 16 }, TopicB: {} });
    expect(await queuesOf('TopicA')).toEqual(queues(4, 4));
    expect(await queuesOf('TopicB')).toEqual(queues(4, 4));

    await register(
      { TopicA: { readQueueNums: 16, writeQueueNums: 16 }, TopicB: {} },
      { ...DATA_VERSION, counter: DATA_VERSION.counter + 1 },
    );
    expect(await queuesOf('TopicA')).toEqual(queues(16, 16));
  });
});

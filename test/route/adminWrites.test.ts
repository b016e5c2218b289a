import { describe, expect, it } from 'vitest';
import { PermName } from '../../src/protocol/types.js';
import { deleteTopic, registerTopic, setWritePerm } from '../../src/route/adminWrites.js';
import { Changes } from '../../src/route/routeChanges.js';
import { RouteData } from '../../src/route/routeData.js';
import { dumpData } from '../../src/route/routeReads.js';
import { addBroker } from './routeTableFixtures.js';

function queue(brokerName: string, perm = 6) {
  return { brokerName, readQueueNums: 8, writeQueueNums: 8, perm, topicSysFlag: 0 };
}

/** broker-a and broker-b in cluster c1, broker-c in c2; topic T on all three, U on broker-a only. */
function seeded(): RouteData {
  const data = new RouteData();
  for (const [cluster, name, addr] of [
    ['c1', 'broker-a', '10.0.0.1:10911'],
    ['c1', 'broker-b', '10.0.0.2:10911'],
    ['c2', 'broker-c', '10.0.0.3:10911'],
  ] as const) {
    addBroker(data, cluster, name, { 0: addr }).topicSyncAddr = addr;
  }
  const setup = new Changes([]);
  expect(registerTopic(data, 'T', [queue('broker-a'), queue('broker-b'), queue('broker-c')], setup)).toBe(true);
  expect(registerTopic(data, 'U', [queue('broker-a')], setup)).toBe(true);
  return data;
}

describe('admin writes', () => {
  it('REGISTER_TOPIC_IN_NAMESRV applies nothing when one broker name is unknown', () => {
    const data = seeded();
    const before = dumpData(data);
    const changes = new Changes([]);
    expect(registerTopic(data, 'V', [queue('broker-a'), queue('broker-x')], changes)).toBe(false);
    expect(registerTopic(data, 'V', [], changes)).toBe(false);
    expect(dumpData(data)).toEqual(before);
    expect(changes.topics.size).toBe(0);
  });

  it('marks the broker names it wrote, so their next registration is applied in full', () => {
    const data = seeded();
    expect(data.brokers.get('broker-a')?.topicSyncAddr).toBeUndefined();
    data.brokers.get('broker-a')!.topicSyncAddr = '10.0.0.1:10911';
    deleteTopic(data, 'U', undefined, new Changes([]));
    expect(data.brokers.get('broker-a')?.topicSyncAddr).toBeUndefined();
  });

  it('DELETE_TOPIC_IN_NAMESRV takes a topic from one cluster, or from everywhere', () => {
    const data = seeded();
    const changes = new Changes([]);
    expect(deleteTopic(data, 'T', 'c1', changes)).toBe(true);
    expect([...data.topics.get('T')!.keys()]).toEqual(['broker-c']);
    expect(data.topicsOf('broker-a').map((q) => q.topic)).toEqual(['U']);
    expect(deleteTopic(data, 'T', 'missing', new Changes([]))).toBe(false);
    expect(deleteTopic(data, 'T', undefined, changes)).toBe(true);
    expect(data.topics.has('T')).toBe(false);
    expect(data.topicsOf('broker-c')).toEqual([]);
    expect(deleteTopic(data, 'T', undefined, new Changes([]))).toBe(false);
    expect([...changes.topics]).toEqual(['T']);
  });

  it('sets write perms of one broker name, counting its topics and touching only those that changed', () => {
    const data = seeded();
    const wipe = new Changes([]);
    expect(setWritePerm(data, 'broker-a', (perm) => perm & ~PermName.PERM_WRITE, wipe)).toBe(2);
    expect([...wipe.topics].sort()).toEqual(['T', 'U']);
    expect(data.queueData('broker-a', data.topics.get('T')!.get('broker-a')!).perm).toBe(PermName.PERM_READ);
    expect(data.queueData('broker-b', data.topics.get('T')!.get('broker-b')!).perm).toBe(6);
    const again = new Changes([]);
    expect(setWritePerm(data, 'broker-a', (perm) => perm & ~PermName.PERM_WRITE, again)).toBe(2);
    expect(again.topics.size).toBe(0);
    expect(setWritePerm(data, 'broker-x', () => 6, new Changes([]))).toBe(0);
  });
});

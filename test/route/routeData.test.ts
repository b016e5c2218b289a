import { setOwnKey } from '../../src/util/ownKey.js';
import { describe, expect, it } from 'vitest';
import { Changes } from '../../src/route/routeChanges.js';
import { detached, RouteData } from '../../src/route/routeData.js';
import { addBroker, input, makeBody, newTable, tc } from './routeTableFixtures.js';

function topicNames(data: RouteData, brokerName: string): string[] {
  return data.topicsOf(brokerName).map((queues) => queues.topic);
}

describe('the route data and its per-broker index', () => {
  it('lists each topic of a broker name once, through losing and regaining its queues', () => {
    const data = new RouteData();
    const changes = new Changes([]);
    const code = data.codes.encode(8, 8, 6, 0);
    for (const topic of ['A', 'B', 'C']) data.putQueue(topic, 'broker-a', code, changes);
    data.putQueue('A', 'broker-b', code, changes);
    expect(topicNames(data, 'broker-a')).toEqual(['A', 'B', 'C']);
    expect([...changes.topics]).toEqual(['A', 'B', 'C']);

    data.dropQueue('B', data.topics.get('B')!, 'broker-a');
    expect(data.topics.has('B')).toBe(false);
    data.dropQueue('A', data.topics.get('A')!, 'broker-a');
    expect(data.topics.get('A')?.has('broker-b')).toBe(true);
    data.putQueue('A', 'broker-a', data.codes.encode(4, 4, 6, 0), changes);
    expect(topicNames(data, 'broker-a').sort()).toEqual(['A', 'C']);
    expect(topicNames(data, 'broker-b')).toEqual(['A']);

    // Setting the same code again is no change.
    const again = new Changes([]);
    data.putQueue('C', 'broker-a', code, again);
    expect(again.topics.size).toBe(0);

    expect(topicNames(data, 'broker-a').length).toBe(2);
    data.takeTopicsOf('broker-a');
    expect(topicNames(data, 'broker-a')).toEqual([]);
  });

  it('finds the broker names first registered under a cluster, and the topics of an address', () => {
    const data = new RouteData();
    addBroker(data, 'c1', 'broker-a', { 0: '10.0.0.1:10911', 1: '10.0.0.2:10911' });
    addBroker(data, 'c2', 'broker-b', { 0: '10.0.0.3:10911' });
    // broker-b also joined c1 later: still c2's broker name.
    data.clusters.get('c1')!.add('broker-b');
    expect([...data.brokersOfCluster('c1')].map((e) => e.brokerName)).toEqual(['broker-a']);
    expect([...data.brokersOfCluster('missing')]).toEqual([]);

    const setup = new Changes([]);
    data.putQueue('T', 'broker-a', data.codes.encode(8, 8, 6, 0), setup);
    data.putQueue('U', 'broker-b', data.codes.encode(8, 8, 6, 0), setup);
    const changes = new Changes([]);
    data.collectTopicsOfAddr('c1', '10.0.0.2:10911', changes);
    expect([...changes.topics]).toEqual(['T']);
  });

  it('keeps outside names as data in records, and copies long names off the text they came from', () => {
    const record: Record<string, number> = {};
    setOwnKey(record, '__proto__', 1);
    setOwnKey(record, 'constructor', 2);
    expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
    expect(Object.keys(record)).toEqual(['__proto__', 'constructor']);
    expect(record.__proto__).toBe(1);

    const body = '{"topicName":"a-rather-long-topic-name"}';
    const name = body.slice(14, 39);
    expect(detached(name)).toBe(name);
  });
});

describe('memory', () => {
  it('stores queue data compactly', () => {
    const table = newTable();
    const gc = (globalThis as { gc?: () => void }).gc;
    const names = Array.from({ length: 4000 }, (_, i) => `memory-topic-${i}`);
    const bodies = Array.from({ length: 20 }, (_, b) =>
      makeBody({
        topics: names.map((n) => tc(n, { readQueueNums: 8, writeQueueNums: 8 })),
        dataVersion: { counter: b, timestamp: b },
      }),
    );
    gc?.();
    const before = process.memoryUsage().heapUsed;
    bodies.forEach((body, b) =>
      table.registerBroker(
        input({ brokerName: `broker-${b}`, brokerAddr: `10.0.1.${b}:10911`, body, connectionId: b }),
      ),
    );
    gc?.();
    const perEntry = (process.memoryUsage().heapUsed - before) / (names.length * bodies.length);
    expect(table.stats().queueEntries).toBe(80_000);
    // Without --expose-gc garbage inflates this; it is a loose guard.
    expect(perEntry).toBeLessThan(gc ? 200 : 2000);
  });
});

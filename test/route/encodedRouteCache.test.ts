import { describe, expect, it } from 'vitest';
import { encodeTopicRouteData } from '../../src/protocol/fastjsonWriter.js';
import { EncodedRouteCache } from '../../src/route/encodedRouteCache.js';
import { type RegisterBrokerInput, type RouteChange } from '../../src/route/routeTable.js';
import { DV1, DV2, expectCacheCoherent, input, makeBody, newTable, tc, warm } from './routeTableFixtures.js';

describe('the encoded route cache', () => {
  it('returns the same buffer on a hit, equal to a fresh encoding', () => {
    const table = newTable();
    table.registerBroker(input({ body: makeBody({ topics: [tc('A'), tc('B')], dataVersion: DV1 }) }));
    const a = table.pickupTopicRoute('A', true)!;
    expect(table.pickupTopicRoute('A', true)).toBe(a);
    expect(a.equals(encodeTopicRouteData(table.pickupTopicRouteData('A')!, true))).toBe(true);
    expect(
      table.pickupTopicRoute('A', false)!.equals(encodeTopicRouteData(table.pickupTopicRouteData('A')!, false)),
    ).toBe(true);
    expect(table.pickupTopicRoute('missing', true)).toBeUndefined();
  });

  it('is invalidated by every kind of change that touches a topic', () => {
    const table = newTable({ deleteTopicWithBrokerRegistration: true });
    const topics = ['A', 'B', 'C'];
    const master = (extra: Partial<RegisterBrokerInput> & { body: Buffer }) => table.registerBroker(input(extra));
    const changed: string[][] = [];
    table.onChange((c) => changed.push(c.topics));

    const steps: Array<[string, () => void, string[]]> = [
      [
        'first registration',
        () => master({ body: makeBody({ topics: [tc('A'), tc('B')], dataVersion: DV1 }) }),
        ['A', 'B'],
      ],
      [
        'a new topic and a changed queue count',
        () =>
          master({ body: makeBody({ topics: [tc('A', { writeQueueNums: 8 }), tc('B'), tc('C')], dataVersion: DV2 }) }),
        ['A', 'C'],
      ],
      [
        'a slave joins (addresses change)',
        () =>
          master({
            brokerAddr: '10.0.0.2:1',
            brokerId: 1,
            connectionId: 2,
            enableActingMaster: true,
            body: makeBody({ topics: [tc('A'), tc('B')], dataVersion: DV1 }),
          }),
        ['A', 'B', 'C'],
      ],
      ['wipe write perm', () => table.wipeWritePermOfBroker('broker-a'), ['A', 'B', 'C']],
      ['add write perm', () => table.addWritePermOfBroker('broker-a'), ['A', 'B', 'C']],
      [
        'filter servers',
        () =>
          master({
            body: makeBody({
              topics: [tc('A', { writeQueueNums: 8 }), tc('B'), tc('C')],
              dataVersion: DV2,
              filterServerList: ['f:1'],
            }),
          }),
        ['A', 'B', 'C'],
      ],
      [
        'the master leaves (acting master, read-only)',
        () => table.removeBroker({ clusterName: 'c1', brokerAddr: '10.0.0.1:10911' }, 'expired'),
        ['A', 'B', 'C'],
      ],
      [
        'the master returns with zone name',
        () =>
          master({
            zoneName: 'z1',
            body: makeBody({ topics: [tc('A'), tc('B'), tc('C')], dataVersion: { ...DV2, counter: 3 } }),
          }),
        ['A', 'B', 'C'],
      ],
      [
        'registerTopic',
        () =>
          table.registerTopic('D', [
            { brokerName: 'broker-a', readQueueNums: 2, writeQueueNums: 2, perm: 6, topicSysFlag: 0 },
          ]),
        ['D'],
      ],
      ['deleteTopic in a cluster', () => table.deleteTopic('C', 'c1'), ['C']],
      ['deleteTopic', () => table.deleteTopic('B'), ['B']],
      [
        'registration drops a topic (deleteTopicWithBrokerRegistration)',
        () =>
          master({
            zoneName: 'z1',
            body: makeBody({ topics: [tc('A'), tc('B')], dataVersion: { ...DV2, counter: 4 } }),
          }),
        ['B', 'D'],
      ],
      ['acting-master option flips', () => table.updateOptions({ supportActingMaster: false }), ['A', 'B']],
      [
        'the slave leaves',
        () => table.removeBroker({ clusterName: 'c1', brokerAddr: '10.0.0.2:1' }, 'connectionClosed'),
        ['A', 'B'],
      ],
    ];
    for (const [what, step, expectedTopics] of steps) {
      warm(table, [...topics, 'D']);
      changed.length = 0;
      step();
      expect(new Set(changed.flat()), what).toEqual(new Set(expectedTopics));
      expectCacheCoherent(table);
    }
  });

  it('a fast-path refresh keeps cached routes and emits nothing', () => {
    const table = newTable();
    const body = makeBody({ topics: [tc('A'), tc('B')], dataVersion: DV1 });
    table.registerBroker(input({ body }));
    const cached = table.pickupTopicRoute('A', true);
    const changes: RouteChange[] = [];
    table.onChange((c) => changes.push(c));
    const result = table.registerBroker(input({ body, now: 2000 }));
    expect(result).toMatchObject({ ok: true, fastPath: true, topicsChanged: false, firstRegistration: false });
    expect(table.pickupTopicRoute('A', true)).toBe(cached);
    expect(changes).toEqual([]);
    expect(table.lookupBroker('c1', '10.0.0.1:10911')!.lastUpdateTimestamp).toBe(2000);
  });

  it('stays within its byte budget', () => {
    const table = newTable({ routeCacheMaxBytes: 2000 });
    const names = Array.from({ length: 50 }, (_, i) => `topic-${i}`);
    table.registerBroker(input({ body: makeBody({ topics: names.map((n) => tc(n)), dataVersion: DV1 }) }));
    for (const n of names) table.pickupTopicRoute(n, true);
    expect(table.stats().cachedRouteBytes).toBeLessThanOrEqual(2000);
    expectCacheCoherent(table);
  });
});

describe('EncodedRouteCache', () => {
  const SLAB = 64 * 1024;

  it('keeps the bytes of the text it is given, ASCII or UTF-8, and hands back the same buffer', () => {
    for (const maxBytes of [1024, 64 * SLAB]) {
      const cache = new EncodedRouteCache(maxBytes);
      const ascii = cache.put('a', '{"x":1}', true);
      const utf8 = cache.put('b', '{"x":"\u00e9\u4e2d"}', false);
      expect(ascii.toString('latin1')).toBe('{"x":1}');
      expect(utf8.toString('utf8')).toBe('{"x":"\u00e9\u4e2d"}');
      expect(cache.get('a')).toBe(ascii);
      expect(cache.get('b')).toBe(utf8);
      expect(cache.size).toBe(2);
    }
  });

  it('lets the oldest entries go to stay within its byte budget (exact buffers when small)', () => {
    const cache = new EncodedRouteCache(100);
    for (let i = 0; i < 10; i++) cache.put(`t${i}`, 'x'.repeat(30), true);
    expect(cache.totalBytes).toBeLessThanOrEqual(100);
    expect(cache.size).toBe(3);
    expect(cache.get('t6')).toBeUndefined();
    expect(cache.get('t9')?.length).toBe(30);
    // A text larger than the whole budget is encoded but not kept.
    expect(cache.put('huge', 'y'.repeat(200), true).length).toBe(200);
    expect(cache.get('huge')).toBeUndefined();
  });

  it('carves entries out of shared 64 KiB slabs and counts every slab held whole', () => {
    const cache = new EncodedRouteCache(64 * SLAB);
    const first = cache.put('a', 'x'.repeat(1000), true);
    const second = cache.put('b', 'y'.repeat(1000), true);
    expect(second.buffer).toBe(first.buffer);
    expect(first.buffer.byteLength).toBe(SLAB);
    expect(cache.totalBytes).toBe(SLAB);
    // Fill the slab: the next entry starts a second one.
    for (let i = 0; cache.totalBytes === SLAB; i++) cache.put(`fill${i}`, 'z'.repeat(4000), true);
    expect(cache.totalBytes).toBe(2 * SLAB);
    // The first slab is released with its last entry.
    for (const key of ['a', 'b']) cache.delete(key);
    for (let i = 0; cache.get(`fill${i}`) !== undefined && cache.get(`fill${i}`)!.buffer === first.buffer; i++)
      cache.delete(`fill${i}`);
    expect(cache.totalBytes).toBe(SLAB);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.totalBytes).toBe(0);
  });

  it('replaces an entry put again under the same key, and ignores deleting what it does not hold', () => {
    const cache = new EncodedRouteCache(1024);
    cache.put('a', 'one', true);
    const again = cache.put('a', 'three', true);
    expect(cache.get('a')).toBe(again);
    expect(cache.size).toBe(1);
    expect(cache.totalBytes).toBe(5);
    cache.delete('missing');
    expect(cache.size).toBe(1);
  });
});

import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { TopicQueueMappingInfo } from '../../src/protocol/types.js';
import { RouteTable, type RouteChange } from '../../src/route/routeTable.js';
import { routeFixture as fixture } from '../support/routeFixtures.js';
import { DV1, DV2, expectCacheCoherent, input, makeBody, newTable, tc, warm } from './routeTableFixtures.js';

describe('refused registrations change nothing', () => {
  function seeded(): RouteTable {
    const table = newTable();
    expect(table.registerBroker(input({ body: makeBody({ topics: [tc('A'), tc('B')], dataVersion: DV1 }) })).ok).toBe(
      true,
    );
    return table;
  }

  it('refuses a body whose CRC does not match', () => {
    const table = newTable();
    const body = fixture('register_broker.request.body.bin');
    const before = table.dump();
    const result = table.registerBroker(input({ body, bodyCrc32: 516797821 }));
    expect(result).toEqual({ ok: false, code: 1, remark: 'crc32 not match', reason: 'crc' });
    expect(table.dump()).toEqual(before);
    expect(table.registerBroker(input({ body, bodyCrc32: 516797820 })).ok).toBe(true);
    expect(table.registerBroker(input({ body: undefined, bodyCrc32: 5 })).ok).toBe(false);
  });

  it('refuses an undecodable body', () => {
    const table = seeded();
    const before = table.dump();
    const result = table.registerBroker(
      input({ brokerAddr: '10.0.0.2:1', brokerId: 1, body: Buffer.from('{"topicConfigSerializeWrapper":') }),
    );
    expect(result).toMatchObject({ ok: false, code: 1, reason: 'badBody' });
    expect(table.dump()).toEqual(before);
  });

  it('refuses a single topic before the first full registration (5.x), and accepts it after', () => {
    const table = seeded();
    const before = table.dump();
    // A new broker name: Java would already have created its BrokerData and cluster entry.
    const fresh = table.registerBroker(
      input({
        brokerName: 'broker-b',
        brokerAddr: '10.0.0.9:1',
        body: makeBody({ topics: [tc('X')], dataVersion: DV1 }),
      }),
    );
    expect(fresh).toEqual({
      ok: false,
      code: 1,
      remark: 'register broker failed',
      reason: 'singleTopicBeforeFirstRegistration',
    });
    // A new id in a known broker name.
    const slave = table.registerBroker(
      input({ brokerAddr: '10.0.0.2:1', brokerId: 1, body: makeBody({ topics: [tc('X')], dataVersion: DV1 }) }),
    );
    expect(slave.ok).toBe(false);
    expect(table.dump()).toEqual(before);
    // The registered master may send one topic (the broker's incremental registration).
    const incremental = table.registerBroker(input({ body: makeBody({ topics: [tc('C')], dataVersion: DV2 }) }));
    expect(incremental).toMatchObject({ ok: true, topicsChanged: true });
    expect(table.pickupTopicRouteData('C')).toBeDefined();
    expect(table.pickupTopicRouteData('A')).toBeDefined();
  });

  it('the golden 4.9.8 sequence: full, incremental single topic, periodic', () => {
    const table = new RouteTable({ supportActingMaster: false, deleteTopicWithBrokerRegistration: false });
    for (const [i, name] of [
      'register_broker',
      'register_broker_incremental_after_updateTopic',
      'register_broker_periodic_30s',
    ].entries()) {
      const header = JSON.parse(fixture(`${name}.request.header.json`).toString()) as {
        extFields: Record<string, string>;
        version: number;
      };
      const result = table.registerBroker(
        input({
          clusterName: header.extFields.clusterName!,
          brokerAddr: header.extFields.brokerAddr!,
          brokerName: header.extFields.brokerName!,
          haServerAddr: header.extFields.haServerAddr!,
          enableActingMaster: undefined,
          clientVersion: header.version,
          body: fixture(`${name}.request.body.bin`),
          bodyCrc32: Number(header.extFields.bodyCrc32),
          now: 1000 * (i + 1),
        }),
      );
      expect(result).toMatchObject({
        ok: true,
        haServerAddr: undefined,
        masterAddr: undefined,
        firstRegistration: i === 0,
      });
    }
    expect(table.getAllTopicList().topicList).toHaveLength(11);
    expect(table.liveBrokerView()).toEqual([
      expect.objectContaining({
        brokerAddr: '127.0.0.1:20911',
        topicCount: 11,
        dataVersion: { counter: 3, timestamp: 1795585730041 },
      }),
    ]);
  });

  it('ignores an older broker taking an id whose holder has a newer stateVersion', () => {
    const table = newTable();
    const newer = { counter: 1, stateVersion: 5, timestamp: 1 };
    expect(table.registerBroker(input({ body: makeBody({ topics: [tc('A'), tc('B')], dataVersion: newer }) })).ok).toBe(
      true,
    );
    const before = table.dump();
    const older = table.registerBroker(
      input({
        brokerAddr: '10.0.0.7:1',
        connectionId: 2,
        body: makeBody({ topics: [tc('A'), tc('B')], dataVersion: { ...newer, stateVersion: 3 } }),
      }),
    );
    // Java answers SUCCESS with no fields and keeps the current holder.
    expect(older).toEqual({ ok: false, code: 0, remark: '', reason: 'stateVersionConflict' });
    expect(table.dump()).toEqual(before);
    const newest = table.registerBroker(
      input({
        brokerAddr: '10.0.0.7:1',
        connectionId: 2,
        body: makeBody({ topics: [tc('A'), tc('B')], dataVersion: { ...newer, stateVersion: 6 } }),
      }),
    );
    expect(newest.ok).toBe(true);
    expect(table.pickupTopicRouteData('A')!.brokerDatas[0]!.brokerAddrs).toEqual({ '0': '10.0.0.7:1' });
  });

  it('registerTopic with an unknown broker name changes nothing', () => {
    const table = seeded();
    const before = table.dump();
    expect(
      table.registerTopic('T', [
        { brokerName: 'broker-a', readQueueNums: 1, writeQueueNums: 1, perm: 6, topicSysFlag: 0 },
        { brokerName: 'nope', readQueueNums: 1, writeQueueNums: 1, perm: 6, topicSysFlag: 0 },
      ]),
    ).toBe(false);
    expect(table.dump()).toEqual(before);
  });

  it('random and mutated bodies never throw, and a refused one never changes the table', () => {
    const table = seeded();
    warm(table, ['A', 'B']);
    const seeds = [
      fixture('register_broker.request.body.bin'),
      makeBody({ topics: [tc('A'), tc('B'), tc('C')], dataVersion: DV2, compressed: true }),
      makeBody({
        topics: [tc('A'), tc('B')],
        dataVersion: DV1,
        generation: '5.x',
        mappings: [
          { topic: 'A', scope: 's', totalQueues: 1, bname: 'broker-a', epoch: 1, dirty: false, currIdMap: { '0': 0 } },
        ],
      }),
    ];
    const mutated = fc
      .tuple(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(),
      )
      .map(([seed, edits, cut]) => {
        const copy = Buffer.from(seed);
        for (const [at, v] of edits) copy[at % copy.length] = v;
        return cut % 4 === 0 ? copy.subarray(0, cut % (copy.length + 1)) : copy;
      });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)),
          mutated,
        ),
        fc.boolean(),
        fc.constantFrom('10.0.0.1:10911', '10.0.0.5:1'),
        fc.constantFrom(0, 1, 2),
        fc.boolean(),
        (body, compressed, brokerAddr, brokerId, withCrc) => {
          const before = table.dump();
          const result = table.registerBroker(
            input({
              body,
              compressed,
              brokerAddr,
              brokerId,
              connectionId: 1,
              bodyCrc32: withCrc ? (crc32(body) & 0x7fffffff) ^ 1 : 0,
            }),
          );
          if (!result.ok) expect(table.dump()).toEqual(before);
          if (withCrc && body.length > 0) expect(result.ok).toBe(false);
          expectCacheCoherent(table);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('the re-registration fast path', () => {
  const topics = Array.from({ length: 2000 }, (_, i) => tc(`topic-${i}`));

  it('skips parsing an unchanged body, JSON or compressed, and parses a changed one', () => {
    for (const compressed of [false, true]) {
      const table = newTable();
      const body = makeBody({ topics, dataVersion: DV1, compressed });
      expect(table.registerBroker(input({ body, compressed }))).toMatchObject({
        ok: true,
        fastPath: false,
        firstRegistration: true,
      });
      expect(table.registerBroker(input({ body, compressed }))).toMatchObject({ ok: true, fastPath: true });
      const changed = makeBody({ topics: topics.slice(1), dataVersion: DV2, compressed });
      expect(table.registerBroker(input({ body: changed, compressed }))).toMatchObject({ ok: true, fastPath: false });
      expect(table.lookupBroker('c1', '10.0.0.1:10911')!.topicCount).toBe(1999);
    }
  });

  it('takes the fast path only for a byte-identical body: one broken after its DataVersion is parsed and refused', () => {
    const table = newTable();
    const body = makeBody({ topics: [tc('A'), tc('B')], dataVersion: DV1 });
    table.registerBroker(input({ body }));
    expect(table.registerBroker(input({ body }))).toMatchObject({ ok: true, fastPath: true });
    const before = table.dump();
    const prefix = body.toString().slice(0, body.toString().indexOf('"topicConfigTable"'));
    const tampered = Buffer.from(prefix + '"topicConfigTable":{ this is not JSON');
    expect(table.registerBroker(input({ body: tampered })).ok).toBe(false);
    expect(table.dump()).toEqual(before);
  });

  it('parses again after the name server changed the broker’s queues, as Java re-adds missing topics', () => {
    const table = newTable();
    const body = makeBody({ topics: [tc('A'), tc('B')], dataVersion: DV1 });
    table.registerBroker(input({ body }));
    table.deleteTopic('A');
    expect(table.pickupTopicRouteData('A')).toBeUndefined();
    expect(table.registerBroker(input({ body }))).toMatchObject({ ok: true, fastPath: false, topicsChanged: true });
    expect(table.pickupTopicRouteData('A')).toBeDefined();
    expect(table.registerBroker(input({ body }))).toMatchObject({ ok: true, fastPath: true });
  });

  it('slaves take it too, and a changed filter server list is applied', () => {
    const table = newTable();
    table.registerBroker(input({ body: makeBody({ topics: [tc('A'), tc('B')], dataVersion: DV1 }) }));
    const slave = (filterServerList: string[]) =>
      table.registerBroker(
        input({
          brokerAddr: '10.0.0.2:1',
          brokerId: 1,
          connectionId: 2,
          body: makeBody({ topics: [tc('A'), tc('B')], dataVersion: DV1, filterServerList }),
        }),
      );
    expect(slave([])).toMatchObject({
      ok: true,
      fastPath: false,
      masterAddr: '10.0.0.1:10911',
      haServerAddr: '10.0.0.1:10912',
    });
    expect(slave([])).toMatchObject({ ok: true, fastPath: true });
    // A different body with the same DataVersion is parsed again, and its filter servers apply.
    expect(slave(['f:1'])).toMatchObject({ ok: true, fastPath: false });
    expect(table.pickupTopicRouteData('A')!.filterServerTable).toEqual({ '10.0.0.2:1': ['f:1'] });
    expect(slave(['f:1'])).toMatchObject({ ok: true, fastPath: true });
    expect(slave([])).toMatchObject({ ok: true, fastPath: false });
    expect(table.pickupTopicRouteData('A')!.filterServerTable).toEqual({});
  });

  it('costs a small fraction of a full registration', () => {
    const big = Array.from({ length: 10_000 }, (_, i) => tc(`a-fairly-long-topic-name-${i}`));
    const body = makeBody({ topics: big, dataVersion: DV1 });
    const time = (fn: () => void, runs: number): number => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < runs; i++) fn();
      return Number(process.hrtime.bigint() - start) / runs;
    };
    const full = time(() => {
      const table = newTable();
      table.registerBroker(input({ body }));
    }, 5);
    const table = newTable();
    table.registerBroker(input({ body }));
    const fast = time(() => {
      table.registerBroker(input({ body }));
    }, 50);
    expect(fast * 10).toBeLessThan(full);
  });
});

describe('other registration outcomes', () => {
  it('reports a smaller broker id joining, when asked to', () => {
    const table = newTable({ notifyMinBrokerIdChanged: true });
    const events: RouteChange[] = [];
    table.onChange((c) => events.push(c));
    table.registerBroker(
      input({
        brokerAddr: 's:1',
        brokerId: 1,
        enableActingMaster: true,
        body: makeBody({ topics: [tc('A'), tc('B')], dataVersion: DV1 }),
      }),
    );
    const master = table.registerBroker(
      input({ enableActingMaster: true, body: makeBody({ topics: [tc('A'), tc('B')], dataVersion: DV1 }) }),
    );
    expect(master).toMatchObject({
      ok: true,
      minBrokerIdChange: {
        brokerName: 'broker-a',
        brokerAddrs: { '0': '10.0.0.1:10911', '1': 's:1' },
        minBrokerId: 0,
        minBrokerAddr: '10.0.0.1:10911',
        notifyAddrs: ['s:1'],
        haBrokerAddr: '10.0.0.1:10912',
      },
    });
    events.length = 0;
    table.removeBroker({ clusterName: 'c1', brokerAddr: '10.0.0.1:10911' }, 'expired');
    expect(events[0]!.minBrokerIdChanges).toEqual([
      {
        brokerName: 'broker-a',
        brokerAddrs: { '1': 's:1' },
        minBrokerId: 1,
        minBrokerAddr: 's:1',
        offlineBrokerAddr: '10.0.0.1:10911',
        notifyAddrs: ['s:1'],
      },
    ]);
  });

  it('passes static-topic mappings through and never deletes static topics by registration', () => {
    const table = newTable({ deleteTopicWithBrokerRegistration: true });
    const mapping: TopicQueueMappingInfo = {
      topic: 'S',
      scope: '__global__',
      totalQueues: 2,
      bname: 'broker-a',
      epoch: 9,
      dirty: false,
      currIdMap: { '0': 0, '1': 1 },
    };
    table.registerBroker(
      input({ body: makeBody({ topics: [tc('S'), tc('T')], dataVersion: DV1, mappings: [mapping] }) }),
    );
    expect(table.pickupTopicRouteData('S')!.topicQueueMappingByBroker).toEqual({ 'broker-a': mapping });
    expect(table.pickupTopicRoute('S', false)!.toString()).toContain(
      '"topicQueueMappingByBroker":{"broker-a":{"bname":"broker-a","currIdMap":{0:0,1:1}',
    );
    expect(table.pickupTopicRouteData('T')!.topicQueueMappingByBroker).toBeUndefined();
    // Mappings present: T is not deleted although the body no longer lists it.
    table.registerBroker(input({ body: makeBody({ topics: [tc('S')], dataVersion: DV2, mappings: [mapping] }) }));
    expect(table.pickupTopicRouteData('T')).toBeDefined();
  });

  it('keeps zone name and acting-master flag on the broker data', () => {
    const table = newTable();
    table.registerBroker(
      input({
        zoneName: 'zone-1',
        enableActingMaster: true,
        body: makeBody({ topics: [tc('A'), tc('B')], dataVersion: DV1 }),
      }),
    );
    expect(table.pickupTopicRouteData('A')!.brokerDatas[0]).toEqual({
      cluster: 'c1',
      brokerName: 'broker-a',
      brokerAddrs: { '0': '10.0.0.1:10911' },
      zoneName: 'zone-1',
      enableActingMaster: true,
    });
    expect(table.getBrokerMemberGroup('c1', 'broker-a')).toEqual({
      brokerAddrs: { '0': '10.0.0.1:10911' },
      brokerName: 'broker-a',
      cluster: 'c1',
    });
    expect(table.getBrokerMemberGroup('c1', 'nope')).toEqual({ brokerAddrs: {}, brokerName: 'nope', cluster: 'c1' });
  });

  it('accepts a registration without a body, as Java does', () => {
    const table = newTable();
    const result = table.registerBroker(input({ body: undefined }));
    expect(result).toMatchObject({ ok: true, firstRegistration: true, topicsChanged: false });
    expect(table.lookupBroker('c1', '10.0.0.1:10911')).toMatchObject({
      topicCount: 0,
      dataVersion: { counter: 0, stateVersion: 0, timestamp: 0 },
    });
    expect(table.getClusterInfoData().clusterAddrTable).toEqual({ c1: ['broker-a'] });
  });

  it('does not let odd names reach object prototypes', () => {
    const table = newTable();
    table.registerBroker(
      input({
        brokerName: '__proto__',
        clusterName: '__proto__',
        brokerAddr: '__proto__',
        body: makeBody({ topics: [tc('__proto__'), tc('B')], dataVersion: DV1, filterServerList: ['f'] }),
      }),
    );
    const route = table.pickupTopicRouteData('__proto__')!;
    expect(Object.keys(route.filterServerTable)).toEqual(['__proto__']);
    expect(Object.keys(table.getClusterInfoData().brokerAddrTable)).toEqual(['__proto__']);
    expect(Object.keys(table.dump().topics as object)).toEqual(['B', '__proto__']);
    expect(({} as Record<string, unknown>).brokerAddrs).toBeUndefined();
  });
});

import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeTopicRouteData } from '../../src/protocol/fastjsonWriter.js';
import { encodeRegisterBrokerBody } from '../../src/protocol/registerBody.js';
import {
  RouteTable,
  type RegisterBrokerInput,
  type RouteChange,
  type RouteTableOptions,
} from '../../src/route/routeTable.js';
import type { DataVersion, TopicConfig, TopicQueueMappingInfo } from '../../src/protocol/types.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/route/${name}`, import.meta.url));

function tc(name: string, extra: Partial<TopicConfig> = {}): TopicConfig {
  return {
    topicName: name,
    readQueueNums: 4,
    writeQueueNums: 4,
    perm: 6,
    topicFilterType: 'SINGLE_TAG',
    topicSysFlag: 0,
    order: false,
    ...extra,
  };
}

interface BodyOptions {
  topics: TopicConfig[];
  dataVersion: DataVersion;
  filterServerList?: string[] | null;
  mappings?: TopicQueueMappingInfo[];
  compressed?: boolean;
  generation?: '4.9' | '5.x';
}

function makeBody(o: BodyOptions): Buffer {
  return encodeRegisterBrokerBody(
    {
      topicConfigSerializeWrapper: {
        topicConfigTable: new Map(o.topics.map((t) => [t.topicName, t])),
        dataVersion: o.dataVersion,
        ...(o.mappings ? { topicQueueMappingInfoMap: new Map(o.mappings.map((m) => [m.topic!, m])) } : {}),
      },
      filterServerList: o.filterServerList === undefined ? [] : o.filterServerList,
    },
    { compressed: o.compressed ?? false, generation: o.generation ?? '5.x' },
  );
}

function input(overrides: Partial<RegisterBrokerInput> & { body: Buffer | undefined }): RegisterBrokerInput {
  return {
    clusterName: 'c1',
    brokerAddr: '10.0.0.1:10911',
    brokerName: 'broker-a',
    brokerId: 0,
    haServerAddr: '10.0.0.1:10912',
    enableActingMaster: false,
    connectionId: 1,
    now: 1000,
    clientVersion: 413,
    compressed: false,
    bodyCrc32: 0,
    ...overrides,
  };
}

const DV1: DataVersion = { counter: 1, stateVersion: 0, timestamp: 111 };
const DV2: DataVersion = { counter: 2, stateVersion: 0, timestamp: 222 };

function newTable(options: Partial<RouteTableOptions> = {}): RouteTable {
  return new RouteTable({ supportActingMaster: true, deleteTopicWithBrokerRegistration: false, ...options });
}

/** Every cached route equals a fresh encoding of the current table. */
function expectCacheCoherent(table: RouteTable): void {
  for (const topic of table.getAllTopicList().topicList) {
    for (const standard of [false, true]) {
      const cached = table.pickupTopicRoute(topic, standard);
      const data = table.pickupTopicRouteData(topic);
      if (!data) {
        expect(cached).toBeUndefined();
        continue;
      }
      expect(cached?.toString('utf8')).toBe(encodeTopicRouteData(data, standard).toString('utf8'));
    }
  }
}

function warm(table: RouteTable, topics: string[]): Map<string, Buffer | undefined> {
  const out = new Map<string, Buffer | undefined>();
  for (const t of topics) {
    out.set(t, table.pickupTopicRoute(t, true));
    table.pickupTopicRoute(t, false);
  }
  return out;
}

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

describe('generations fence stale removals', () => {
  it('keeps a generation per registration and bumps it on a new connection or a fresh start', () => {
    const table = newTable();
    const body = makeBody({ topics: [tc('A'), tc('B')], dataVersion: DV1 });
    const first = table.registerBroker(input({ body, connectionId: 7 }));
    const again = table.registerBroker(input({ body, connectionId: 7 }));
    expect(first.ok && again.ok).toBe(true);
    if (!first.ok || !again.ok) return;
    expect(again.generation).toBe(first.generation);

    const reconnected = table.registerBroker(input({ body, connectionId: 8 }));
    if (!reconnected.ok) throw new Error('refused');
    expect(reconnected.generation).toBeGreaterThan(first.generation);

    // The old connection's close and the old actor's expiry arrive late: no-ops.
    const before = table.dump();
    expect(
      table.removeBroker(
        { clusterName: 'c1', brokerAddr: '10.0.0.1:10911', generation: first.generation },
        'connectionClosed',
      ),
    ).toBe(false);
    expect(
      table.removeBroker({ clusterName: 'c1', brokerAddr: '10.0.0.1:10911', generation: first.generation }, 'expired'),
    ).toBe(false);
    expect(table.dump()).toEqual(before);
    expect(table.pickupTopicRouteData('A')).toBeDefined();

    expect(
      table.removeBroker(
        { clusterName: 'c1', brokerAddr: '10.0.0.1:10911', generation: reconnected.generation },
        'expired',
      ),
    ).toBe(true);
    expect(table.pickupTopicRouteData('A')).toBeUndefined();
    expect(
      table.removeBroker(
        { clusterName: 'c1', brokerAddr: '10.0.0.1:10911', generation: reconnected.generation },
        'expired',
      ),
    ).toBe(false);

    const afresh = table.registerBroker(input({ body, connectionId: 8 }));
    if (!afresh.ok) throw new Error('refused');
    expect(afresh.generation).toBeGreaterThan(reconnected.generation);
    expect(afresh.firstRegistration).toBe(true);
  });

  it('UNREGISTER_BROKER ignores generations', () => {
    const table = newTable();
    table.registerBroker(input({ body: makeBody({ topics: [tc('A'), tc('B')], dataVersion: DV1 }) }));
    expect(
      table.unregisterBroker({ clusterName: 'c1', brokerAddr: '10.0.0.1:10911', brokerName: 'broker-a', brokerId: 0 }),
    ).toBe(true);
    expect(table.dump()).toMatchObject({ topics: {}, brokers: {}, live: {}, clusters: {} });
    expect(
      table.unregisterBroker({ clusterName: 'c1', brokerAddr: '10.0.0.1:10911', brokerName: 'broker-a', brokerId: 0 }),
    ).toBe(false);
  });
});

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

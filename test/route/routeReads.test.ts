import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeTopicRouteData } from '../../src/protocol/fastjsonWriter.js';
import { Changes } from '../../src/route/routeChanges.js';
import { RouteData, type RouteSettings } from '../../src/route/routeData.js';
import {
  clusterInfoData,
  systemTopicList,
  topicRouteData,
  topicRouteText,
  topicsByCluster,
} from '../../src/route/routeReads.js';
import { addBroker } from './routeTableFixtures.js';

function settings(overrides: Partial<RouteSettings> = {}): RouteSettings {
  return {
    supportActingMaster: true,
    deleteTopicWithBrokerRegistration: false,
    notifyMinBrokerIdChanged: false,
    enableActingMasterField: 'whenTrue',
    routeCacheMaxBytes: 1024 * 1024,
    maxInflatedBytes: 1024 * 1024,
    ...overrides,
  };
}

const brokerArb = fc.record({
  cluster: fc.constantFrom('c0', 'c1'),
  ids: fc.subarray([0, 1, 2], { minLength: 1 }),
  enableActingMaster: fc.boolean(),
  zoneName: fc.option(fc.constantFrom('zone-a', 'zone-b'), { nil: undefined }),
});
const queueArb = fc.record({
  read: fc.integer({ min: 0, max: 16 }),
  write: fc.integer({ min: 0, max: 16 }),
  perm: fc.integer({ min: 0, max: 7 }),
  sysFlag: fc.integer({ min: 0, max: 3 }),
});
const tableArb = fc.record({
  brokers: fc.array(brokerArb, { minLength: 1, maxLength: 4 }),
  // Broker name indexes per topic; index 9 names a broker with no entry.
  topics: fc.array(fc.array(fc.tuple(fc.constantFrom(0, 1, 2, 3, 9), queueArb), { minLength: 1, maxLength: 4 }), {
    minLength: 1,
    maxLength: 5,
  }),
  filterServer: fc.boolean(),
  mapping: fc.boolean(),
  supportActingMaster: fc.boolean(),
  enableActingMasterField: fc.constantFrom('always' as const, 'whenTrue' as const),
});

type Table = typeof tableArb extends fc.Arbitrary<infer T> ? T : never;

function build(table: Table): RouteData {
  const data = new RouteData();
  table.brokers.forEach((b, i) => {
    const addrs: Record<number, string> = {};
    for (const id of b.ids) addrs[id] = `10.0.${i}.${id}:10911`;
    const entry = addBroker(data, b.cluster, `broker-${i}`, addrs);
    entry.enableActingMaster = b.enableActingMaster;
    entry.zoneName = b.zoneName;
  });
  const changes = new Changes([]);
  table.topics.forEach((queues, t) => {
    for (const [index, q] of queues)
      data.putQueue(`topic-${t}`, `broker-${index}`, data.codes.encode(q.read, q.write, q.perm, q.sysFlag), changes);
  });
  if (table.filterServer) {
    data.filterServers.set(table.brokers[0]!.cluster, new Map([['10.0.0.0:10911', ['10.0.0.0:30000']]]));
    data.filterServerEntries = 1;
  }
  if (table.mapping) {
    data.mappings.set(
      'topic-0',
      new Map([
        [
          'broker-0',
          {
            topic: 'topic-0',
            bname: 'broker-0',
            epoch: 1,
            totalQueues: 2,
            scope: '__global__',
            dirty: false,
            currIdMap: { '0': 0 },
          },
        ],
      ]),
    );
  }
  return data;
}

describe('route reads', () => {
  it('put together from cached fragments, a route reads exactly as the general encoder writes it', () => {
    fc.assert(
      fc.property(tableArb, (table) => {
        const data = build(table);
        const options = settings({
          supportActingMaster: table.supportActingMaster,
          enableActingMasterField: table.enableActingMasterField,
        });
        for (let pass = 0; pass < 2; pass++) {
          for (let t = 0; t <= table.topics.length; t++) {
            for (const standard of [false, true]) {
              const topic = `topic-${t}`;
              const route = topicRouteData(data, options, topic);
              const expected = route ? writeTopicRouteData(route, standard) : undefined;
              expect(topicRouteText(data, options, topic, standard)).toBe(expected);
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('shows a read-only slave as the acting master of a broker name without one', () => {
    const data = new RouteData();
    addBroker(data, 'c1', 'broker-a', { 1: '10.0.0.2:10911', 2: '10.0.0.3:10911' }).enableActingMaster = true;
    const changes = new Changes([]);
    data.putQueue('T', 'broker-a', data.codes.encode(8, 8, 4, 0), changes);
    expect(topicRouteData(data, settings(), 'T')?.brokerDatas[0]?.brokerAddrs).toEqual({
      '0': '10.0.0.2:10911',
      '2': '10.0.0.3:10911',
    });
    expect(topicRouteData(data, settings({ supportActingMaster: false }), 'T')?.brokerDatas[0]?.brokerAddrs).toEqual({
      '1': '10.0.0.2:10911',
      '2': '10.0.0.3:10911',
    });
    // While its queues are writable it is not standing in.
    data.putQueue('W', 'broker-a', data.codes.encode(8, 8, 6, 0), changes);
    expect(topicRouteData(data, settings(), 'W')?.brokerDatas[0]?.brokerAddrs).toEqual({
      '1': '10.0.0.2:10911',
      '2': '10.0.0.3:10911',
    });
  });

  it('lists clusters, broker names and topics', () => {
    const data = new RouteData();
    addBroker(data, 'c2', 'broker-b', { 1: '10.0.0.4:10911', 0: '10.0.0.3:10911' });
    addBroker(data, 'c1', 'broker-a', { 0: '10.0.0.1:10911' });
    const changes = new Changes([]);
    data.putQueue('T', 'broker-a', data.codes.encode(8, 8, 6, 0), changes);
    data.putQueue('U', 'broker-b', data.codes.encode(8, 8, 6, 0), changes);
    const info = clusterInfoData(data, settings());
    expect(Object.keys(info.brokerAddrTable)).toEqual(['broker-a', 'broker-b']);
    expect(info.clusterAddrTable).toEqual({ c1: ['broker-a'], c2: ['broker-b'] });
    expect(systemTopicList(data)).toEqual({
      brokerAddr: '10.0.0.3:10911',
      topicList: ['c2', 'broker-b', 'c1', 'broker-a'],
    });
    expect(topicsByCluster(data, 'c1')).toEqual({ topicList: ['T'] });
    expect(topicsByCluster(data, 'missing')).toEqual({ topicList: [] });
  });
});

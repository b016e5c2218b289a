import { describe, expect, it } from 'vitest';
import {
  encodeBrokerMemberGroupBody,
  encodeClusterInfo,
  encodeDataVersion,
  encodeFastjson,
  encodeTopicList,
  encodeTopicRouteData,
  intKeyed,
  quote,
  writeIntKeyMap,
} from '../../src/protocol/fastjsonWriter.js';
import { RouteTable } from '../../src/route/routeTable.js';
import type { TopicRouteData } from '../../src/protocol/types.js';
import { routeFixture as fixture } from '../support/routeFixtures.js';

function registerGolden(table: RouteTable, name: string, connectionId = 1, now = 1000): void {
  const header = JSON.parse(fixture(`${name}.header.json`).toString('utf8')) as {
    extFields: Record<string, string>;
    version: number;
  };
  const f = header.extFields;
  const result = table.registerBroker({
    clusterName: f.clusterName!,
    brokerAddr: f.brokerAddr!,
    brokerName: f.brokerName!,
    brokerId: Number(f.brokerId),
    haServerAddr: f.haServerAddr!,
    // 4.9.8 brokers send no enableActingMaster header.
    enableActingMaster: undefined,
    connectionId,
    now,
    clientVersion: header.version,
    body: fixture(`${name}.body.bin`),
    compressed: f.compressed === 'true',
    bodyCrc32: Number(f.bodyCrc32),
  });
  expect(result.ok).toBe(true);
}

describe('golden bodies from a Java 4.9.8 name server', () => {
  it('GET_ROUTEINFO_BY_TOPIC (standard JSON for a 4.9.8 client) is byte-identical', () => {
    const table = new RouteTable({ supportActingMaster: false, deleteTopicWithBrokerRegistration: false });
    registerGolden(table, 'register_broker.request');
    registerGolden(table, 'register_broker_incremental_after_updateTopic.request');
    const golden = fixture('get_routeinfo_by_topic.response.body.bin');
    // The request came with version 409 >= V4_9_4: standard JSON.
    expect(table.pickupTopicRoute('TopicTest', true)!.toString('utf8')).toBe(golden.toString('utf8'));
    expect(table.pickupTopicRoute('TopicTest', true)!.equals(golden)).toBe(true);
    expect(encodeTopicRouteData(table.pickupTopicRouteData('TopicTest')!, true).equals(golden)).toBe(true);
    // The fastjson form differs only in the bare broker id.
    expect(table.pickupTopicRoute('TopicTest', false)!.toString()).toBe(golden.toString().replace('{"0":', '{0:'));
  });

  it('GET_BROKER_CLUSTER_INFO (fastjson style, bare integer keys) is byte-identical', () => {
    const table = new RouteTable({ supportActingMaster: false, deleteTopicWithBrokerRegistration: false });
    registerGolden(table, 'register_broker.request');
    registerGolden(table, 'register_broker_incremental_after_updateTopic.request');
    registerGolden(table, 'register_broker_periodic_30s.request');
    const golden = fixture('get_broker_cluster_info.response.body.bin');
    expect(table.getClusterInfo(false).toString('utf8')).toBe(golden.toString('utf8'));
    expect(encodeClusterInfo(table.getClusterInfoData()).equals(golden)).toBe(true);
    expect(table.getClusterInfo(true).toString()).toBe(golden.toString().replace('{0:', '{"0":'));
  });

  it('5.x style writes enableActingMaster when asked to', () => {
    const table = new RouteTable({
      supportActingMaster: false,
      deleteTopicWithBrokerRegistration: false,
      enableActingMasterField: 'always',
    });
    registerGolden(table, 'register_broker.request');
    expect(table.pickupTopicRoute('TBW102', true)!.toString()).toContain(
      '"cluster":"DefaultCluster","enableActingMaster":false}',
    );
  });
});

describe('string escaping', () => {
  const sample = 'a/b<>"\\\n\t\b\f\r\u0001\u000b\u001f\u007f\u0085\u00a0\u00e9\u2028\u2029\u4e2d';

  it('fastjson default escapes controls, quote, backslash, U+007F..U+009F and U+2028/9', () => {
    expect(quote(sample, false)).toBe(
      '"a/b<>\\"\\\\\\n\\t\\b\\f\\r\\u0001\\u000B\\u001F\\u007F\\u0085\u00a0\u00e9\\u2028\\u2029\u4e2d"',
    );
  });

  it('BrowserCompatible also escapes / and everything from U+007F up', () => {
    expect(quote(sample, true)).toBe(
      '"a\\/b<>\\"\\\\\\n\\t\\b\\f\\r\\u0001\\u000B\\u001F\\u007F\\u0085\\u00A0\\u00E9\\u2028\\u2029\\u4E2D"',
    );
  });

  it('leaves plain strings alone', () => {
    expect(quote('127.0.0.1:10911', true)).toBe('"127.0.0.1:10911"');
    expect(quote('', false)).toBe('""');
  });

  it('escaped output parses back to the same string', () => {
    for (const standard of [false, true]) expect(JSON.parse(quote(sample, standard))).toBe(sample);
  });
});

describe('maps, beans and numbers', () => {
  it('writes integer keys bare in fastjson style and quoted in standard style, sorted numerically', () => {
    const addrs = { '10': 'x', '2': 'y', '-1': 'z', '0': 'm' };
    expect(writeIntKeyMap(addrs, false, (v) => quote(v, false))).toBe('{-1:"z",0:"m",2:"y",10:"x"}');
    expect(writeIntKeyMap(addrs, true, (v) => quote(v, true))).toBe('{"-1":"z","0":"m","2":"y","10":"x"}');
  });

  it('sorts bean fields and leaves null fields and null map values out', () => {
    const value = {
      zeta: 1,
      alpha: null,
      beta: [1, null, 'x'],
      gamma: new Map([
        ['b', 1],
        ['a', null],
        ['c', 2],
      ]),
      delta: intKeyed({ '3': true, '1': false }),
    };
    expect(encodeFastjson(value).toString()).toBe(
      '{"beta":[1,null,"x"],"delta":{1:false,3:true},"gamma":{"b":1,"c":2},"zeta":1}',
    );
    expect(encodeFastjson(value, 'standard').toString()).toBe(
      '{"beta":[1,null,"x"],"delta":{"1":false,"3":true},"gamma":{"b":1,"c":2},"zeta":1}',
    );
  });

  it('quotes longs beyond 2^53 only in standard style', () => {
    expect(encodeFastjson({ epoch: 2 ** 60, small: 5 }, 'standard').toString()).toBe(
      '{"epoch":"1152921504606846976","small":5}',
    );
    expect(encodeFastjson({ epoch: 2 ** 60 }).toString()).toBe('{"epoch":1152921504606846976}');
    expect(encodeFastjson({ big: 12345678901234567890n }, 'standard').toString()).toBe(
      '{"big":"12345678901234567890"}',
    );
  });

  it('writes the other bodies in fastjson field order', () => {
    expect(encodeTopicList({ topicList: ['a', 'b'] }).toString()).toBe('{"topicList":["a","b"]}');
    expect(encodeTopicList({ brokerAddr: '1.1.1.1:1', topicList: [] }).toString()).toBe(
      '{"brokerAddr":"1.1.1.1:1","topicList":[]}',
    );
    expect(encodeDataVersion({ counter: 2, timestamp: 9 }).toString()).toBe('{"counter":2,"timestamp":9}');
    expect(encodeDataVersion({ counter: 2, stateVersion: 0, timestamp: 9 }).toString()).toBe(
      '{"counter":2,"stateVersion":0,"timestamp":9}',
    );
    expect(
      encodeBrokerMemberGroupBody({
        brokerAddrs: { '1': 'b:1', '0': 'a:1' },
        brokerName: 'bn',
        cluster: 'c',
      }).toString(),
    ).toBe('{"brokerMemberGroup":{"brokerAddrs":{0:"a:1",1:"b:1"},"brokerName":"bn","cluster":"c"}}');
  });

  it('writes a full route with order conf, filter servers and static-topic mappings', () => {
    const data: TopicRouteData = {
      orderTopicConf: 'broker-a:4',
      queueDatas: [{ brokerName: 'broker-a', readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0 }],
      brokerDatas: [
        {
          cluster: 'c',
          brokerName: 'broker-a',
          brokerAddrs: { '1': 'h:2', '0': 'h:1' },
          zoneName: 'z',
          enableActingMaster: true,
        },
      ],
      filterServerTable: { 'h:1': ['f:1'] },
      topicQueueMappingByBroker: {
        'broker-a': {
          topic: 't',
          scope: '__global__',
          totalQueues: 2,
          bname: 'broker-a',
          epoch: 7,
          dirty: false,
          currIdMap: { '1': 1, '0': 0 },
        },
      },
    };
    expect(encodeTopicRouteData(data, false).toString()).toBe(
      '{"brokerDatas":[{"brokerAddrs":{0:"h:1",1:"h:2"},"brokerName":"broker-a","cluster":"c","enableActingMaster":true,"zoneName":"z"}],' +
        '"filterServerTable":{"h:1":["f:1"]},"orderTopicConf":"broker-a:4",' +
        '"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}],' +
        '"topicQueueMappingByBroker":{"broker-a":{"bname":"broker-a","currIdMap":{0:0,1:1},"dirty":false,"epoch":7,"scope":"__global__","topic":"t","totalQueues":2}}}',
    );
  });
});

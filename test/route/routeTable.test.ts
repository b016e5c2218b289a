/**
 * The behaviours RocketMQ's RouteInfoManager tests pin down (RouteInfoManagerTest,
 * RouteInfoManagerNewTest, RouteInfoManagerBrokerRegisterTest,
 * RouteInfoManagerBrokerPermTest, RouteInfoManagerStaticRegisterTest), as
 * scenarios against RouteTable.
 *
 * One difference in how scenarios are driven: the simulated broker bumps its
 * DataVersion whenever its topic set changes, as a real broker does. Some Java
 * tests re-register a changed topic set under the same DataVersion; the route
 * table treats an unchanged DataVersion as "nothing changed" (that is what lets
 * periodic re-registrations skip parsing their topics).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { encodeRegisterBrokerBody } from '../../src/protocol/registerBody.js';
import { parseFastjsonText } from '../../src/protocol/fastjsonParser.js';
import { RouteTable, type RegisterBrokerResult } from '../../src/route/routeTable.js';
import { PermName, isWriteable, type DataVersion, type TopicConfig } from '../../src/protocol/types.js';
import { topicConfig as defaultTopicConfig } from '../support/broker.js';
import { newTable } from './routeTableFixtures.js';

const DEFAULT_CLUSTER = 'Default_Cluster';
const DEFAULT_BROKER = 'Default_Broker';
const PREFIX = '127.0.0.1:';
const DEFAULT_ADDR = PREFIX + '10911';

let nextConnection = 1;

/** A broker as the Java tests' BrokerBasicInfo describes one, registering like a real broker. */
class Broker {
  dataVersion: DataVersion = { counter: 1, timestamp: 1_700_000_000_000 };
  connectionId = nextConnection++;
  private lastTopics: string | undefined;

  constructor(
    public clusterName: string,
    public brokerName: string,
    public brokerAddr: string,
    public brokerId: number,
    public haAddr: string,
    public enableActingMaster: boolean | undefined,
  ) {}

  static master(): Broker {
    return new Broker(DEFAULT_CLUSTER, DEFAULT_BROKER, DEFAULT_ADDR, 0, PREFIX + '20911', true);
  }

  static slave(): Broker {
    return new Broker(DEFAULT_CLUSTER, DEFAULT_BROKER, PREFIX + '30911', 1, PREFIX + '40911', true);
  }

  with(
    changes: Partial<
      Pick<Broker, 'clusterName' | 'brokerName' | 'brokerAddr' | 'brokerId' | 'haAddr' | 'enableActingMaster'>
    >,
  ): this {
    Object.assign(this, changes);
    return this;
  }

  nextVersion(): this {
    this.dataVersion = { counter: this.dataVersion.counter + 1, timestamp: this.dataVersion.timestamp + 1 };
    return this;
  }

  register(table: RouteTable, topics: TopicConfig[], now = 0): RegisterBrokerResult {
    const key = JSON.stringify(topics);
    if (this.lastTopics !== undefined && this.lastTopics !== key) this.nextVersion();
    this.lastTopics = key;
    const body = encodeRegisterBrokerBody(
      {
        topicConfigSerializeWrapper: {
          topicConfigTable: new Map(topics.map((t) => [t.topicName, t])),
          dataVersion: this.dataVersion,
        },
        filterServerList: [],
      },
      { compressed: false, generation: '5.x' },
    );
    return table.registerBroker({
      clusterName: this.clusterName,
      brokerAddr: this.brokerAddr,
      brokerName: this.brokerName,
      brokerId: this.brokerId,
      haServerAddr: this.haAddr,
      zoneName: undefined,
      enableActingMaster: this.enableActingMaster,
      connectionId: this.connectionId,
      now,
      clientVersion: 413,
      body,
      compressed: false,
      bodyCrc32: 0,
    });
  }

  unregister(table: RouteTable): boolean {
    return table.unregisterBroker({
      clusterName: this.clusterName,
      brokerAddr: this.brokerAddr,
      brokerName: this.brokerName,
      brokerId: this.brokerId,
    });
  }
}

function topicConfig(name: string, queues = 8, order = false): TopicConfig {
  return defaultTopicConfig(name, { readQueueNums: queues, writeQueueNums: queues, order });
}

/** registerBrokerWithNormalTopic: a default "baseTopic" plus the named topics. */
function normalTopics(...names: string[]): TopicConfig[] {
  return [topicConfig('baseTopic', 16), ...names.map((n) => topicConfig(n))];
}

function registerNormal(table: RouteTable, broker: Broker, ...names: string[]): RegisterBrokerResult {
  const result = broker.register(table, normalTopics(...names));
  expect(result.ok).toBe(true);
  return result;
}

function addrsOf(table: RouteTable, topic: string, index = 0): Record<string, string> {
  return table.pickupTopicRouteData(topic)!.brokerDatas[index]!.brokerAddrs;
}

describe('RouteInfoManagerNewTest behaviours (supportActingMaster)', () => {
  let table: RouteTable;
  beforeEach(() => {
    table = newTable();
  });

  it('cluster info lists every cluster, broker name and address', () => {
    registerNormal(table, Broker.master(), 'TestTopic');
    registerNormal(
      table,
      Broker.master().with({ clusterName: 'AnotherCluster', brokerName: 'AnotherBroker', brokerAddr: PREFIX + 30911 }),
      'TestTopic1',
    );
    const parsed = parseFastjsonText(table.getClusterInfo().toString('utf8'));
    expect(parsed.ok).toBe(true);
    const info = (
      parsed as {
        value: {
          brokerAddrTable: Record<string, { brokerAddrs: Record<string, string> }>;
          clusterAddrTable: Record<string, string[]>;
        };
      }
    ).value;
    expect(Object.keys(info.clusterAddrTable)).toEqual(expect.arrayContaining([DEFAULT_CLUSTER, 'AnotherCluster']));
    expect(Object.keys(info.brokerAddrTable)).toEqual(expect.arrayContaining([DEFAULT_BROKER, 'AnotherBroker']));
    expect([
      info.brokerAddrTable[DEFAULT_BROKER]!.brokerAddrs['0'],
      info.brokerAddrTable.AnotherBroker!.brokerAddrs['0'],
    ]).toEqual([DEFAULT_ADDR, PREFIX + 30911]);
  });

  it('deletes a topic everywhere, or from one cluster only', () => {
    registerNormal(table, Broker.master(), 'TestTopic');
    table.deleteTopic('TestTopic');
    expect(table.pickupTopicRouteData('TestTopic')).toBeUndefined();

    const master = Broker.master();
    master.nextVersion();
    registerNormal(table, master, 'TestTopic');
    registerNormal(
      table,
      Broker.master().with({ clusterName: 'AnotherCluster', brokerName: 'AnotherBroker' }),
      'TestTopic',
    );
    expect(table.pickupTopicRouteData('TestTopic')!.brokerDatas).toHaveLength(2);
    table.deleteTopic('TestTopic', DEFAULT_CLUSTER);
    const route = table.pickupTopicRouteData('TestTopic')!;
    expect(route.brokerDatas).toHaveLength(1);
    expect(route.brokerDatas[0]!.brokerName).toBe('AnotherBroker');
  });

  it('lists all topics', () => {
    expect(table.getAllTopicList().topicList).toEqual([]);
    registerNormal(table, Broker.master(), 'TestTopic', 'TestTopic1', 'TestTopic2');
    expect(table.getAllTopicList().topicList).toEqual(
      expect.arrayContaining(['TestTopic', 'TestTopic1', 'TestTopic2', 'baseTopic']),
    );
  });

  it("answers a slave with its live master's HA address", () => {
    const master = registerNormal(table, Broker.master(), 'TestTopic');
    expect(master).toMatchObject({ haServerAddr: undefined, masterAddr: undefined });
    const slave = registerNormal(
      table,
      Broker.master().with({ brokerId: 1, brokerAddr: PREFIX + 30911, haAddr: PREFIX + 40911 }),
      'TestTopic',
    );
    expect(slave).toMatchObject({ haServerAddr: PREFIX + 20911, masterAddr: DEFAULT_ADDR });
  });

  it('unregistering the only broker removes its topics, by request or by removal', () => {
    registerNormal(table, Broker.master(), 'TestTopic', 'TestTopic1', 'TestTopic2');
    Broker.master().unregister(table);
    for (const t of ['TestTopic', 'TestTopic1', 'TestTopic2']) expect(table.pickupTopicRouteData(t)).toBeUndefined();

    registerNormal(table, Broker.master(), 'TestTopic', 'TestTopic1', 'TestTopic2');
    expect(table.removeBroker({ clusterName: DEFAULT_CLUSTER, brokerAddr: DEFAULT_ADDR }, 'unregister')).toBe(true);
    for (const t of ['TestTopic', 'TestTopic1', 'TestTopic2']) expect(table.pickupTopicRouteData(t)).toBeUndefined();
    expect(table.dump()).toMatchObject({ clusters: {}, brokers: {}, live: {}, topics: {} });
  });

  it('a slave joins its broker name', () => {
    registerNormal(table, Broker.master(), 'TestTopic');
    expect(Object.keys(addrsOf(table, 'TestTopic'))).toEqual(['0']);
    registerNormal(table, Broker.slave(), 'TestTopic');
    expect(addrsOf(table, 'TestTopic')).toEqual({ '0': DEFAULT_ADDR, '1': PREFIX + 30911 });
  });

  it("a master's new topic is routed to the whole broker name", () => {
    const master = Broker.master();
    registerNormal(table, master, 'TestTopic');
    registerNormal(table, Broker.slave(), 'TestTopic');
    registerNormal(table, master, 'TestTopic', 'TestTopic1');
    expect(addrsOf(table, 'TestTopic1')).toEqual({ '0': DEFAULT_ADDR, '1': PREFIX + 30911 });
  });

  it('switches roles: slave to master, old master to slave', () => {
    const master = Broker.master().with({ enableActingMaster: false });
    const slave = Broker.slave().with({ enableActingMaster: false });
    registerNormal(table, master, 'TestTopic');
    registerNormal(table, slave, 'TestTopic');
    master.unregister(table);
    expect(addrsOf(table, 'TestTopic')).toEqual({ '1': slave.brokerAddr });

    slave.with({ brokerId: 0 }).nextVersion();
    registerNormal(table, slave, 'TestTopic');
    expect(addrsOf(table, 'TestTopic')).toEqual({ '0': slave.brokerAddr });

    master.with({ brokerId: 1 }).nextVersion();
    registerNormal(table, master, 'TestTopic');
    expect(addrsOf(table, 'TestTopic')).toEqual({ '0': PREFIX + 30911, '1': DEFAULT_ADDR });
  });

  it('switches roles when the master connection closes', () => {
    const master = Broker.master().with({ enableActingMaster: false });
    const slave = Broker.slave().with({ enableActingMaster: false });
    const m = registerNormal(table, master, 'TestTopic');
    registerNormal(table, slave, 'TestTopic');
    expect(
      table.removeBroker(
        { clusterName: DEFAULT_CLUSTER, brokerAddr: master.brokerAddr, generation: m.ok ? m.generation : -1 },
        'connectionClosed',
      ),
    ).toBe(true);
    expect(addrsOf(table, 'TestTopic')).toEqual({ '1': slave.brokerAddr });
    slave.with({ brokerId: 0 }).nextVersion();
    registerNormal(table, slave, 'TestTopic');
    expect(addrsOf(table, 'TestTopic')).toEqual({ '0': slave.brokerAddr });
    master.with({ brokerId: 1 }).nextVersion();
    registerNormal(table, master, 'TestTopic');
    expect(addrsOf(table, 'TestTopic')).toEqual({ '0': slave.brokerAddr, '1': master.brokerAddr });
  });

  it('unregistering a slave leaves the master', () => {
    registerNormal(table, Broker.master(), 'TestTopic');
    const slave = Broker.slave();
    registerNormal(table, slave, 'TestTopic');
    slave.unregister(table);
    expect(table.pickupTopicRouteData('TestTopic')!.brokerDatas).toHaveLength(1);
    expect(addrsOf(table, 'TestTopic')).toEqual({ '0': DEFAULT_ADDR });

    registerNormal(table, Broker.master(), 'TestTopic');
    registerNormal(table, slave, 'TestTopic');
    expect(table.removeBroker({ clusterName: DEFAULT_CLUSTER, brokerAddr: slave.brokerAddr }, 'unregister')).toBe(true);
    expect(addrsOf(table, 'TestTopic')).toEqual({ '0': DEFAULT_ADDR });
  });

  it('with acting master, the slave stands in read-only once the master unregisters', () => {
    registerNormal(table, Broker.master(), 'TestTopic');
    const slave = Broker.slave();
    registerNormal(table, slave, 'TestTopic');
    Broker.master().unregister(table);
    const route = table.pickupTopicRouteData('TestTopic')!;
    expect(route.brokerDatas).toHaveLength(1);
    expect(route.brokerDatas[0]!.brokerAddrs).toEqual({ '0': slave.brokerAddr });
    expect(route.queueDatas).toHaveLength(1);
    expect(route.queueDatas[0]!.perm).toBe(PermName.PERM_READ);
  });

  it('without acting master (old brokers), the slave stays a slave and queues keep their perm', () => {
    registerNormal(table, Broker.master().with({ enableActingMaster: false }), 'TestTopic');
    registerNormal(table, Broker.slave().with({ enableActingMaster: false }), 'TestTopic');
    Broker.master().unregister(table);
    const route = table.pickupTopicRouteData('TestTopic')!;
    expect(route.brokerDatas[0]!.brokerAddrs['0']).toBeUndefined();
    expect(route.queueDatas[0]!.perm).toBe(PermName.PERM_READ | PermName.PERM_WRITE);
  });

  it('removes several brokers one after another', () => {
    const master1 = Broker.master();
    const master2 = Broker.master().with({ brokerName: DEFAULT_BROKER + 1, brokerAddr: DEFAULT_ADDR + 9 });
    registerNormal(table, master1, 'TestTopic1');
    registerNormal(table, master2, 'TestTopic2');
    table.removeBroker({ clusterName: DEFAULT_CLUSTER, brokerAddr: master1.brokerAddr }, 'unregister');
    table.removeBroker({ clusterName: DEFAULT_CLUSTER, brokerAddr: master2.brokerAddr }, 'unregister');
    expect(table.pickupTopicRouteData('TestTopic1')).toBeUndefined();
    expect(table.pickupTopicRouteData('TestTopic2')).toBeUndefined();
  });

  it('answers QUERY_DATA_VERSION against the registered DataVersion', () => {
    const master = Broker.master();
    registerNormal(table, master, 'TestTopic');
    const current = table.queryDataVersion({
      clusterName: DEFAULT_CLUSTER,
      brokerAddr: DEFAULT_ADDR,
      dataVersion: master.dataVersion,
    });
    expect(current).toMatchObject({ changed: false, known: true, current: master.dataVersion });
    expect(
      table.queryDataVersion({
        clusterName: DEFAULT_CLUSTER,
        brokerAddr: DEFAULT_ADDR,
        dataVersion: { ...master.dataVersion, timestamp: master.dataVersion.timestamp + 1000 },
      }).changed,
    ).toBe(true);
    expect(
      table.queryDataVersion({
        clusterName: DEFAULT_CLUSTER,
        brokerAddr: DEFAULT_ADDR,
        dataVersion: { ...master.dataVersion, counter: master.dataVersion.counter + 1 },
      }).changed,
    ).toBe(true);
    expect(
      table.queryDataVersion({ clusterName: DEFAULT_CLUSTER, brokerAddr: DEFAULT_ADDR, dataVersion: undefined })
        .changed,
    ).toBe(true);
    expect(
      table.queryDataVersion({ clusterName: DEFAULT_CLUSTER, brokerAddr: 'nobody:1', dataVersion: master.dataVersion }),
    ).toEqual({ changed: true, known: false });
  });

  it('wipes the write permission of a broker name', () => {
    registerNormal(table, Broker.master(), 'TestTopic');
    expect(table.pickupTopicRouteData('TestTopic')!.queueDatas[0]!.perm).toBe(6);
    expect(table.wipeWritePermOfBroker(DEFAULT_BROKER)).toBe(2);
    expect(table.pickupTopicRouteData('TestTopic')!.queueDatas[0]!.perm).toBe(4);
  });

  it('picks up a route with one and then two broker names', () => {
    registerNormal(table, Broker.master(), 'TestTopic');
    let data = table.pickupTopicRouteData('TestTopic')!;
    expect(data.brokerDatas).toHaveLength(1);
    expect(data.brokerDatas[0]!.brokerName).toBe(DEFAULT_BROKER);
    expect(data.brokerDatas[0]!.brokerAddrs['0']).toBe(DEFAULT_ADDR);
    expect(data.queueDatas).toEqual([
      { brokerName: DEFAULT_BROKER, readQueueNums: 8, writeQueueNums: 8, perm: 6, topicSysFlag: 0 },
    ]);

    registerNormal(table, Broker.master().with({ brokerName: 'AnotherBroker' }), 'TestTopic');
    data = table.pickupTopicRouteData('TestTopic')!;
    expect(data.brokerDatas.map((b) => b.brokerName).sort()).toEqual(['AnotherBroker', DEFAULT_BROKER]);
    expect(data.queueDatas.map((q) => q.brokerName).sort()).toEqual(['AnotherBroker', DEFAULT_BROKER]);
  });

  it('write permission follows the master: gone with it, back with it', () => {
    registerNormal(table, Broker.master(), 'TestTopic');
    registerNormal(table, Broker.slave(), 'TestTopic');
    let route = table.pickupTopicRouteData('TestTopic')!;
    expect(Object.keys(route.brokerDatas[0]!.brokerAddrs)).toHaveLength(2);
    expect(isWriteable(route.queueDatas[0]!.perm)).toBe(true);

    table.removeBroker({ clusterName: DEFAULT_CLUSTER, brokerAddr: DEFAULT_ADDR }, 'expired');
    route = table.pickupTopicRouteData('TestTopic')!;
    expect(Object.keys(route.brokerDatas[0]!.brokerAddrs)).toHaveLength(1);
    expect(isWriteable(route.queueDatas[0]!.perm)).toBe(false);

    registerNormal(table, Broker.master(), 'TestTopic');
    route = table.pickupTopicRouteData('TestTopic')!;
    expect(Object.keys(route.brokerDatas[0]!.brokerAddrs)).toHaveLength(2);
    expect(isWriteable(route.queueDatas[0]!.perm)).toBe(true);
  });

  function orderTopics(queues: number, ...names: string[]): TopicConfig[] {
    return [topicConfig('baseTopic', queues === 1 ? 1 : 16, true), ...names.map((n) => topicConfig(n, queues, true))];
  }

  it('partition-order topics get an acting master', () => {
    const topic = 'PartitionOrderTopicTest';
    const reg = (b: Broker): void => {
      expect(b.register(table, orderTopics(8, topic)).ok).toBe(true);
    };
    // A slave alone: it is the prime slave and publishes read-only queues.
    reg(Broker.slave());
    let route = table.pickupTopicRouteData(topic)!;
    expect(route.brokerDatas[0]!.brokerAddrs).toEqual({ '0': Broker.slave().brokerAddr });
    expect(isWriteable(route.queueDatas[0]!.perm)).toBe(false);
    table.removeBroker({ clusterName: DEFAULT_CLUSTER, brokerAddr: Broker.slave().brokerAddr }, 'unregister');

    // Master and slave, then the master goes.
    reg(Broker.slave());
    reg(Broker.master());
    table.removeBroker({ clusterName: DEFAULT_CLUSTER, brokerAddr: DEFAULT_ADDR }, 'unregister');
    route = table.pickupTopicRouteData(topic)!;
    expect(route.brokerDatas[0]!.brokerAddrs).toEqual({ '0': Broker.slave().brokerAddr });
    expect(isWriteable(route.queueDatas[0]!.perm)).toBe(false);
    table.removeBroker({ clusterName: DEFAULT_CLUSTER, brokerAddr: Broker.slave().brokerAddr }, 'unregister');

    // Two broker names; only one loses its master.
    reg(Broker.slave());
    reg(Broker.master());
    const master1 = Broker.master().with({ brokerName: DEFAULT_BROKER + '_ANOTHER' });
    const slave1 = Broker.slave().with({ brokerName: DEFAULT_BROKER + '_ANOTHER' });
    reg(master1);
    reg(slave1);
    route = table.pickupTopicRouteData(topic)!;
    expect(route.brokerDatas).toHaveLength(2);
    expect(route.queueDatas).toHaveLength(2);

    table.removeBroker({ clusterName: DEFAULT_CLUSTER, brokerAddr: DEFAULT_ADDR }, 'unregister');
    route = table.pickupTopicRouteData(topic)!;
    expect(route.brokerDatas).toHaveLength(2);
    expect(route.queueDatas).toHaveLength(2);
    for (const bd of route.brokerDatas) {
      const ids = Object.keys(bd.brokerAddrs);
      if (ids.length === 1) {
        expect(bd.brokerAddrs).toEqual({ '0': Broker.slave().brokerAddr });
      } else {
        expect(bd.brokerAddrs).toEqual({ '0': master1.brokerAddr, '1': slave1.brokerAddr });
      }
    }
  });

  it('global-order topics get an acting master', () => {
    const topic = 'GlobalOrderTopicTest';
    expect(Broker.slave().register(table, orderTopics(1, topic)).ok).toBe(true);
    let route = table.pickupTopicRouteData(topic)!;
    expect(route.brokerDatas[0]!.brokerAddrs).toEqual({ '0': Broker.slave().brokerAddr });
    expect(isWriteable(route.queueDatas[0]!.perm)).toBe(false);
    table.removeBroker({ clusterName: DEFAULT_CLUSTER, brokerAddr: Broker.slave().brokerAddr }, 'unregister');

    expect(Broker.slave().register(table, orderTopics(1, topic)).ok).toBe(true);
    expect(Broker.master().register(table, orderTopics(1, topic)).ok).toBe(true);
    table.removeBroker({ clusterName: DEFAULT_CLUSTER, brokerAddr: DEFAULT_ADDR }, 'unregister');
    route = table.pickupTopicRouteData(topic)!;
    expect(route.brokerDatas[0]!.brokerAddrs).toEqual({ '0': Broker.slave().brokerAddr });
    expect(isWriteable(route.queueDatas[0]!.perm)).toBe(false);
  });

  it('a slave registering alone publishes read-only queues; the master brings writes back', () => {
    const topic = 'TestTopic';
    registerNormal(table, Broker.slave(), topic);
    expect(isWriteable(table.pickupTopicRouteData(topic)!.queueDatas[0]!.perm)).toBe(false);
    table.removeBroker({ clusterName: DEFAULT_CLUSTER, brokerAddr: Broker.slave().brokerAddr }, 'unregister');

    registerNormal(table, Broker.master(), topic);
    registerNormal(table, Broker.slave(), topic);
    expect(isWriteable(table.pickupTopicRouteData(topic)!.queueDatas[0]!.perm)).toBe(true);
    table.removeBroker({ clusterName: DEFAULT_CLUSTER, brokerAddr: DEFAULT_ADDR }, 'unregister');
    expect(isWriteable(table.pickupTopicRouteData(topic)!.queueDatas[0]!.perm)).toBe(false);
    registerNormal(table, Broker.master(), topic);
    expect(isWriteable(table.pickupTopicRouteData(topic)!.queueDatas[0]!.perm)).toBe(true);
  });

  it('a closed connection removes its broker; the last one takes the topic with it', () => {
    const only = Broker.master();
    registerNormal(table, only, 'TestTopic', 'TestTopic1');
    table.removeBroker({ clusterName: DEFAULT_CLUSTER, brokerAddr: DEFAULT_ADDR }, 'connectionClosed');
    expect(table.pickupTopicRouteData('TestTopic')).toBeUndefined();
    expect(table.pickupTopicRouteData('TestTopic1')).toBeUndefined();

    const master = Broker.master().with({ enableActingMaster: false });
    const slave = Broker.slave().with({ enableActingMaster: false });
    registerNormal(table, master, 'TestTopic');
    registerNormal(table, slave, 'TestTopic');
    expect(addrsOf(table, 'TestTopic')).toEqual({ '0': master.brokerAddr, '1': slave.brokerAddr });
    table.removeBroker({ clusterName: DEFAULT_CLUSTER, brokerAddr: master.brokerAddr }, 'connectionClosed');
    expect(addrsOf(table, 'TestTopic')).toEqual({ '1': slave.brokerAddr });
    table.removeBroker({ clusterName: DEFAULT_CLUSTER, brokerAddr: slave.brokerAddr }, 'connectionClosed');
    expect(table.pickupTopicRouteData('TestTopic')).toBeUndefined();
  });

  it('keeps topics a broker stops listing, unless deleteTopicWithBrokerRegistration', () => {
    registerNormal(table, Broker.master(), 'TestTopic', 'TestTopic1');
    registerNormal(table, Broker.master(), 'TestTopic1');
    expect(table.pickupTopicRouteData('TestTopic')).toBeDefined();
    expect(table.pickupTopicRouteData('TestTopic1')).toBeDefined();

    const deleting = newTable({ deleteTopicWithBrokerRegistration: true });
    const master = Broker.master();
    registerNormal(deleting, master, 'TestTopic', 'TestTopic1');
    registerNormal(deleting, master, 'TestTopic1');
    expect(deleting.pickupTopicRouteData('TestTopic')).toBeUndefined();
    expect(deleting.pickupTopicRouteData('TestTopic1')).toBeDefined();
  });

  it('deleteTopicWithBrokerRegistration removes only the registering broker name', () => {
    const deleting = newTable({ deleteTopicWithBrokerRegistration: true });
    const master1 = Broker.master();
    const master2 = Broker.master().with({ brokerName: DEFAULT_BROKER + 1, brokerAddr: DEFAULT_ADDR + 9 });
    registerNormal(deleting, master1, 'TestTopic', 'TestTopic1');
    registerNormal(deleting, master2, 'TestTopic', 'TestTopic1');
    expect(deleting.pickupTopicRouteData('TestTopic')!.brokerDatas).toHaveLength(2);

    registerNormal(deleting, master1, 'TestTopic1');
    expect(deleting.pickupTopicRouteData('TestTopic')!.brokerDatas.map((b) => b.brokerName)).toEqual([
      master2.brokerName,
    ]);
    expect(deleting.pickupTopicRouteData('TestTopic1')!.brokerDatas).toHaveLength(2);

    registerNormal(deleting, master2, 'TestTopic1');
    expect(deleting.pickupTopicRouteData('TestTopic')).toBeUndefined();
    expect(deleting.pickupTopicRouteData('TestTopic1')!.brokerDatas).toHaveLength(2);
  });

  it('single-topic registration (REGISTER_TOPIC_IN_NAMESRV) needs a registered broker name', () => {
    const deleting = newTable({ deleteTopicWithBrokerRegistration: true });
    const master = Broker.master();
    const single = (topic: string): boolean =>
      deleting.registerTopic(topic, [
        { brokerName: master.brokerName, readQueueNums: 8, writeQueueNums: 8, perm: 6, topicSysFlag: 0 },
      ]);

    expect(single('TestTopic')).toBe(false);
    expect(deleting.pickupTopicRouteData('TestTopic')).toBeUndefined();

    registerNormal(deleting, master, 'TestTopic');
    expect(single('TestTopic1')).toBe(true);
    expect(deleting.pickupTopicRouteData('TestTopic1')).toBeDefined();

    registerNormal(deleting, master, 'TestTopic', 'TestTopic1');
    expect(deleting.pickupTopicRouteData('TestTopic1')).toBeDefined();

    registerNormal(deleting, master, 'TestTopic');
    expect(deleting.pickupTopicRouteData('TestTopic')).toBeDefined();
    expect(deleting.pickupTopicRouteData('TestTopic1')).toBeUndefined();

    expect(single('TestTopic1')).toBe(true);
    // Even an unchanged DataVersion now re-applies the registration, so the
    // namesrv-side topic goes (Java runs the deletion on every registration).
    registerNormal(deleting, master, 'TestTopic');
    expect(deleting.pickupTopicRouteData('TestTopic1')).toBeUndefined();

    expect(single('TestTopic1')).toBe(true);
    master.unregister(deleting);
    expect(deleting.pickupTopicRouteData('TestTopic')).toBeUndefined();
    expect(deleting.pickupTopicRouteData('TestTopic1')).toBeUndefined();
  });
});

describe('RouteInfoManagerTest behaviours (defaults)', () => {
  let table: RouteTable;
  const unit = (n: string): TopicConfig => ({ ...topicConfig(n, 16), perm: 6 });
  beforeEach(() => {
    table = new RouteTable({ supportActingMaster: false, deleteTopicWithBrokerRegistration: false });
    const b = new Broker('default-cluster', 'default-broker', '127.0.0.1:10911', 1234, '127.0.0.1:1001', undefined);
    b.dataVersion = { counter: 10, timestamp: 100 };
    expect(b.register(table, [unit('unit-test0'), unit('unit-test1')]).ok).toBe(true);
  });

  it('keeps a DataVersion per (cluster, address)', () => {
    expect(
      table.queryDataVersion({
        clusterName: 'default-cluster',
        brokerAddr: '127.0.0.1:10911',
        dataVersion: { counter: 10, timestamp: 100 },
      }).changed,
    ).toBe(false);

    const other = new Broker(
      'default-cluster-1',
      'default-broker-1',
      '127.0.0.1:10911',
      1234,
      '127.0.0.1:1001',
      undefined,
    );
    other.dataVersion = { counter: 20, timestamp: 200 };
    expect(other.register(table, [unit('unit-test-0'), unit('unit-test-1')]).ok).toBe(true);
    expect(
      table.queryDataVersion({
        clusterName: 'default-cluster',
        brokerAddr: '127.0.0.1:10911',
        dataVersion: other.dataVersion,
      }).changed,
    ).toBe(true);
    expect(
      table.queryDataVersion({
        clusterName: 'default-cluster-1',
        brokerAddr: '127.0.0.1:10911',
        dataVersion: other.dataVersion,
      }).changed,
    ).toBe(false);

    other.unregister(table);
    expect(
      table.queryDataVersion({ clusterName: 'default-cluster', brokerAddr: '127.0.0.1:10911', dataVersion: undefined })
        .known,
    ).toBe(true);
    expect(
      table.queryDataVersion({
        clusterName: 'default-cluster-1',
        brokerAddr: '127.0.0.1:10911',
        dataVersion: undefined,
      }).known,
    ).toBe(false);
  });

  it('an old-version slave (no enableActingMaster header) publishes no topics', () => {
    // brokerId 1234 without a master: not a prime slave, so no queue data.
    expect(table.getAllTopicList().topicList).toEqual([]);
    expect(table.pickupTopicRouteData('unit_test')).toBeUndefined();
  });

  it('counts the topics whose write permission it wipes or adds', () => {
    const master = new Broker('c', 'broker-a', 'a:1', 0, 'a:2', undefined);
    // Two topics: one alone would be a single-topic registration before the first full one.
    expect(
      master.register(table, [
        { ...topicConfig('topic-a'), perm: PermName.PERM_READ | PermName.PERM_WRITE },
        topicConfig('topic-b'),
      ]).ok,
    ).toBe(true);
    table.deleteTopic('topic-b');
    expect(table.wipeWritePermOfBroker('broker-a')).toBe(1);
    expect(table.pickupTopicRouteData('topic-a')!.queueDatas[0]!.perm).toBe(PermName.PERM_READ);
    expect(table.addWritePermOfBroker('broker-a')).toBe(1);
    expect(table.pickupTopicRouteData('topic-a')!.queueDatas[0]!.perm).toBe(PermName.PERM_READ | PermName.PERM_WRITE);
    expect(table.wipeWritePermOfBroker('no-such-broker')).toBe(0);
  });

  it('answers every topic list', () => {
    expect(table.getSystemTopicList()).toEqual({
      brokerAddr: '127.0.0.1:10911',
      topicList: ['default-cluster', 'default-broker'],
    });
    expect(table.getTopicsByCluster('default-cluster')).toEqual({ topicList: [] });
    expect(table.getTopicsByCluster('no-such-cluster')).toEqual({ topicList: [] });
    expect(table.getUnitTopics()).toEqual({ topicList: [] });
    expect(table.getHasUnitSubTopicList()).toEqual({ topicList: [] });
    expect(table.getHasUnitSubUnUnitTopicList()).toEqual({ topicList: [] });
  });
});

/** RouteInfoManagerTestBase.registerCluster: names x ids, each broker registering the same topics. */
function registerCluster(
  table: RouteTable,
  cluster: string,
  names: number,
  perName: number,
  topics: number,
): { topics: TopicConfig[]; names: string[] } {
  const configs = Array.from({ length: topics }, (_, i) => topicConfig(`topic-${i}`));
  const brokerNames: string[] = [];
  for (let n = 0; n < names; n++) {
    const brokerName = `broker-${n}`;
    brokerNames.push(brokerName);
    for (let id = 0; id < perName; id++) {
      const addr = `${cluster}-${brokerName}:${id}`;
      // These Java tests use the overload without enableActingMaster: old-version brokers.
      expect(new Broker(cluster, brokerName, addr, id, addr, undefined).register(table, configs).ok).toBe(true);
    }
  }
  return { topics: configs, names: brokerNames };
}

describe('RouteInfoManagerBrokerRegisterTest / BrokerPermTest / StaticRegisterTest behaviours', () => {
  let table: RouteTable;
  let cluster: { topics: TopicConfig[]; names: string[] };
  beforeEach(() => {
    table = new RouteTable({ supportActingMaster: false, deleteTopicWithBrokerRegistration: false });
    cluster = registerCluster(table, 'cluster', 3, 3, 10);
  });

  it('a slave address registering as master replaces the master address', () => {
    const origin = table.pickupTopicRouteData('topic-0')!.brokerDatas.find((b) => b.brokerName === 'broker-0')!;
    expect(origin.brokerAddrs['0']).toBe('cluster-broker-0:0');
    const promoted = new Broker('cluster', 'broker-0', 'cluster-broker-0:1', 0, 'cluster-broker-0:1', undefined);
    promoted.dataVersion = { counter: 5, timestamp: 5 };
    expect(promoted.register(table, cluster.topics).ok).toBe(true);
    const now = table.pickupTopicRouteData('topic-0')!.brokerDatas.find((b) => b.brokerName === 'broker-0')!;
    expect(now.brokerAddrs['0']).toBe('cluster-broker-0:1');
    expect(now.brokerAddrs['1']).toBeUndefined();
  });

  it('unregistering one id removes only that address', () => {
    table.unregisterBroker({
      clusterName: 'cluster',
      brokerAddr: 'cluster-broker-0:2',
      brokerName: 'broker-0',
      brokerId: 2,
    });
    const addrs = table
      .pickupTopicRouteData('topic-0')!
      .brokerDatas.find((b) => b.brokerName === 'broker-0')!.brokerAddrs;
    expect(addrs).toEqual({ '0': 'cluster-broker-0:0', '1': 'cluster-broker-0:1' });
  });

  it('wipe and add write permission count topics per broker name', () => {
    expect(table.wipeWritePermOfBroker('broker-0')).toBe(10);
    expect(table.pickupTopicRouteData('topic-0')!.queueDatas.find((q) => q.brokerName === 'broker-0')!.perm).toBe(
      PermName.PERM_READ,
    );
    expect(table.addWritePermOfBroker('broker-0')).toBe(10);
    expect(table.pickupTopicRouteData('topic-0')!.queueDatas.find((q) => q.brokerName === 'broker-0')!.perm).toBe(6);
  });

  it('cluster info, topic lists and routes describe the registered cluster', () => {
    expect(table.getClusterInfoData().clusterAddrTable).toEqual({ cluster: cluster.names });
    expect(new Set(table.getAllTopicList().topicList)).toEqual(new Set(cluster.topics.map((t) => t.topicName)));
    expect(new Set(table.getTopicsByCluster('cluster').topicList)).toEqual(
      new Set(cluster.topics.map((t) => t.topicName)),
    );

    const route = table.pickupTopicRouteData('topic-0')!;
    const expected = cluster.names.map((name) => ({
      cluster: 'cluster',
      brokerName: name,
      brokerAddrs: { '0': `cluster-${name}:0`, '1': `cluster-${name}:1`, '2': `cluster-${name}:2` },
    }));
    expect([...route.brokerDatas].sort((a, b) => a.brokerName.localeCompare(b.brokerName))).toEqual(expected);
    for (const q of route.queueDatas)
      expect(q).toMatchObject({ readQueueNums: 8, writeQueueNums: 8, perm: 6, topicSysFlag: 0 });
    expect(new Set(route.queueDatas.map((q) => q.brokerName))).toEqual(new Set(cluster.names));

    table.deleteTopic('topic-0');
    expect(table.pickupTopicRouteData('topic-0')).toBeUndefined();
    expect(table.getSystemTopicList().topicList).toEqual(['cluster', ...cluster.names]);
    expect(table.getSystemTopicList().brokerAddr).toBe('cluster-broker-0:0');
  });

  it('finds unit topics by the sysFlag of their first queue', () => {
    const b = new Broker('cluster', 'broker-0', 'cluster-broker-0:0', 0, 'x', undefined);
    b.dataVersion = { counter: 99, timestamp: 99 };
    const flagged = [
      { ...topicConfig('unit'), topicSysFlag: 1 },
      { ...topicConfig('unitSub'), topicSysFlag: 2 },
      { ...topicConfig('both'), topicSysFlag: 3 },
      ...cluster.topics,
    ];
    expect(b.register(table, flagged).ok).toBe(true);
    expect(table.getUnitTopics().topicList.sort()).toEqual(['both', 'unit']);
    expect(table.getHasUnitSubTopicList().topicList.sort()).toEqual(['both', 'unitSub']);
    expect(table.getHasUnitSubUnUnitTopicList().topicList).toEqual(['unitSub']);
  });
});

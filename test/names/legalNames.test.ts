/**
 * Every legal name is data in the wire formats and the route table: the
 * register-body decoder (each body form, the cheap prefix peek and the
 * worker's job), the fastjson reader and writers, the remoting header codecs,
 * and the route table's reads, admin operations and removals. Names come from
 * RocketMQ's whole topic alphabet, always with Object.prototype's own names.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand } from '../../src/protocol/frameCodec.js';
import { createRequest, SerializeType, type RemotingCommand } from '../../src/remoting/command.js';
import { RequestCode } from '../../src/remoting/requestCode.js';
import { encodeFastjson, writeClusterInfo, writeTopicRouteData } from '../../src/protocol/fastjsonWriter.js';
import { parseFastjsonText } from '../../src/protocol/fastjsonParser.js';
import { decodeRegisterBrokerBody, encodeRegisterBrokerBody } from '../../src/protocol/registerBody.js';
import { peekRegisterBody } from '../../src/protocol/registerBodyPeek.js';
import { runRegisterJob } from '../../src/route/registerJob.js';
import { RouteTable, type RegisterBrokerInput } from '../../src/route/routeTable.js';
import type { ClusterInfo, TopicConfig } from '../../src/protocol/types.js';
import {
  CORE_PROTOTYPE_NAMES,
  isCompressed,
  legalName,
  nameSet,
  own,
  ownKeys,
  PROTOTYPE_NAMES,
  registerBody,
  registerHeader,
  scenario,
  SEED,
  sorted,
  topicConfigOf,
  type BrokerPlan,
} from './names.js';

const RUNS = { seed: SEED, numRuns: 8 };

/** A record with these own keys (defined, so "__proto__" is a key like the others). */
function recordOf<V>(entries: Iterable<[string, V]>): Record<string, V> {
  return Object.fromEntries(entries);
}

describe('register bodies with legal names', () => {
  it('decode to exactly the topics and mappings sent, in every body form', () => {
    fc.assert(
      fc.property(scenario(40000), (s) => {
        for (const broker of s.brokers) {
          const body = registerBody(broker);
          const decoded = decodeRegisterBrokerBody(body, isCompressed(broker.format));
          if (!decoded.ok) throw new Error(`${broker.format}: ${decoded.error}`);
          const wrapper = decoded.value.topicConfigSerializeWrapper;
          expect(sorted(wrapper.topicConfigTable.keys()), broker.format).toEqual(sorted(broker.topics.keys()));
          for (const [name, tc] of wrapper.topicConfigTable) {
            expect(tc.topicName).toBe(name);
            expect(tc.readQueueNums).toBe(broker.topics.get(name)!.readQueueNums);
          }
          expect(sorted(wrapper.topicQueueMappingInfoMap?.keys() ?? []), broker.format).toEqual(
            sorted(broker.mappings.keys()),
          );
          for (const info of wrapper.topicQueueMappingInfoMap?.values() ?? []) {
            expect(info.bname).toBe(broker.brokerName);
            expect(ownKeys(info.currIdMap)).toEqual(['0']);
          }
        }
      }),
      RUNS,
    );
  });

  it("decode on the worker's job function as on the event loop, and peek their DataVersion", () => {
    fc.assert(
      fc.property(scenario(40000), (s) => {
        for (const broker of s.brokers) {
          const body = registerBody(broker);
          const header = registerHeader(broker, body);
          const result = runRegisterJob({
            body: new Uint8Array(body),
            compressed: isCompressed(broker.format),
            bodyCrc32: Number(header.bodyCrc32),
            clientVersion: 479,
            now: 0,
            maxInflatedBytes: 1 << 24,
            skipDecodeIfVersion: undefined,
          });
          expect(result.crcOk).toBe(true);
          if (!result.decoded?.ok) throw new Error(`${broker.format}: ${JSON.stringify(result.decoded)}`);
          const topics = result.decoded.value.topics;
          expect(topics.names).toEqual([...broker.topics.keys()]);
          expect(topics.keys).toBeUndefined();
          expect(sorted(result.decoded.value.mappings?.keys() ?? [])).toEqual(sorted(broker.mappings.keys()));
          if (broker.format !== 'json') {
            const peek = peekRegisterBody(body, { compressed: isCompressed(broker.format) });
            expect(peek?.dataVersion).toMatchObject(broker.dataVersion);
          }
        }
      }),
      RUNS,
    );
  });

  it('keep attribute names and topic names apart from Object.prototype', () => {
    fc.assert(
      fc.property(nameSet({ core: true, extra: { min: 1, max: 4 } }), fc.boolean(), (names, compressed) => {
        // No spaces in the values: the compressed form separates fields with spaces (Java then drops the attributes).
        const attributes = recordOf(names.map((name): [string, string] => [name, `v-${name}`]));
        const table = new Map<string, TopicConfig>(
          names.map((name, i) => [name, { ...topicConfigOf(name, i), attributes }]),
        );
        const body = encodeRegisterBrokerBody(
          {
            topicConfigSerializeWrapper: { topicConfigTable: table, dataVersion: { counter: 1, timestamp: 2 } },
            filterServerList: [],
          },
          { compressed, generation: '5.x' },
        );
        const decoded = decodeRegisterBrokerBody(body, compressed);
        if (!decoded.ok) throw new Error(decoded.error);
        for (const [name, tc] of decoded.value.topicConfigSerializeWrapper.topicConfigTable) {
          expect(tc.topicName).toBe(name);
          expect(ownKeys(tc.attributes)).toEqual(sorted(names));
          for (const key of names) expect(own(tc.attributes, key)).toBe(`v-${key}`);
        }
      }),
      RUNS,
    );
  });
});

describe('JSON with legal names as keys', () => {
  it('reads fastjson text (bare integer keys) with every name as an own key', () => {
    fc.assert(
      fc.property(nameSet({ core: true, extra: { min: 0, max: 5 } }), (names) => {
        // `{0:...}` is not JSON: this takes the lenient reader.
        const text =
          '{' + names.map((name, i) => `${JSON.stringify(name)}:{${i}:${JSON.stringify(name)}}`).join(',') + '}';
        const parsed = parseFastjsonText(text);
        if (!parsed.ok) throw new Error(parsed.error);
        expect(Object.getPrototypeOf(parsed.value)).toBe(Object.prototype);
        expect(ownKeys(parsed.value)).toEqual(sorted(names));
        names.forEach((name, i) => expect(own(own(parsed.value, name), String(i))).toBe(name));
      }),
      RUNS,
    );
  });

  it('writes cluster info, routes and any value keyed by names as fastjson does, both styles', () => {
    fc.assert(
      fc.property(fc.uniqueArray(legalName, { minLength: 1, maxLength: 6 }), (extra) => {
        const names = [...new Set([...CORE_PROTOTYPE_NAMES, ...extra])];
        const info: ClusterInfo = {
          brokerAddrTable: recordOf(
            names.map((name): [string, ClusterInfo['brokerAddrTable'][string]] => [
              name,
              { cluster: names[0]!, brokerName: name, brokerAddrs: { 0: '127.0.0.1:10911' } },
            ]),
          ),
          clusterAddrTable: recordOf([[names[0]!, sorted(names)]]),
        };
        for (const standard of [false, true]) {
          const parsed = parseFastjsonText(writeClusterInfo(info, standard));
          if (!parsed.ok) throw new Error(parsed.error);
          const value = parsed.value as ClusterInfo;
          expect(ownKeys(value.brokerAddrTable)).toEqual(sorted(names));
          for (const name of names) expect(own(value.brokerAddrTable, name).brokerName).toBe(name);
          expect(ownKeys(value.clusterAddrTable)).toEqual([names[0]]);

          const route = writeTopicRouteData(
            {
              queueDatas: [],
              brokerDatas: [],
              filterServerTable: recordOf(names.map((name): [string, string[]] => [name, [name]])),
              topicQueueMappingByBroker: recordOf(
                names.map((name) => [name, { bname: name, totalQueues: 1, epoch: 0, dirty: false, currIdMap: {} }]),
              ),
            },
            standard,
          );
          const routeValue = JSON.parse(route);
          expect(ownKeys(routeValue.filterServerTable)).toEqual(sorted(names));
          expect(ownKeys(routeValue.topicQueueMappingByBroker)).toEqual(sorted(names));

          const any = JSON.parse(
            encodeFastjson(new Map(names.map((name) => [name, name])), standard ? 'standard' : 'fastjson').toString(),
          );
          expect(ownKeys(any)).toEqual(sorted(names));
        }
      }),
      RUNS,
    );
  });
});

describe('remoting headers carrying legal names', () => {
  function roundTrip(command: RemotingCommand): RemotingCommand {
    const decoded = decodeCommand(encodeCommand(command).subarray(4));
    if (!decoded.ok) throw new Error(decoded.error);
    return decoded.command;
  }

  /** The same header as JSON.parse reads it: indented, so neither fast reader takes it. */
  function indentedJsonFrame(command: RemotingCommand): Buffer {
    const header = Buffer.from(
      JSON.stringify(
        {
          code: command.code,
          extFields: command.extFields,
          flag: 0,
          language: 'JAVA',
          opaque: 1,
          serializeTypeCurrentRPC: 'JSON',
          version: command.version,
        },
        null,
        1,
      ),
    );
    const word = Buffer.alloc(4);
    word.writeInt32BE(header.length);
    return Buffer.concat([word, header]);
  }

  it('keep names as ext field values and as ext field keys, in every header reader', () => {
    fc.assert(
      fc.property(nameSet({ core: true, extra: { min: 0, max: 4 } }), (names) => {
        const asValues = { topic: names[0]!, clusterName: names[1]!, brokerName: names[2]! };
        const asKeys = recordOf(names.map((name): [string, string] => [name, name]));
        for (const extFields of [asValues, asKeys]) {
          const expected = sorted(Object.keys(extFields));
          const variants: RemotingCommand[] = [
            // The Java client's exact layout, the general scanner (another language), binary.
            createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, extFields),
            createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, extFields, null, { language: 'GO', remark: 'r' }),
            createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, extFields, null, {
              serializeType: SerializeType.ROCKETMQ,
            }),
          ];
          const decoded = variants.map(roundTrip);
          const parsed = decodeCommand(indentedJsonFrame(variants[0]!));
          if (!parsed.ok) throw new Error(parsed.error);
          decoded.push(parsed.command);
          for (const command of decoded) {
            expect(ownKeys(command.extFields)).toEqual(expected);
            for (const key of expected) expect(own(command.extFields, key)).toBe(own(extFields, key));
          }
        }
      }),
      RUNS,
    );
  });
});

describe('the route table with legal names', () => {
  function inputOf(broker: BrokerPlan, connectionId: number): RegisterBrokerInput {
    const body = registerBody(broker);
    const header = registerHeader(broker, body);
    return {
      clusterName: broker.clusterName,
      brokerAddr: broker.brokerAddr,
      brokerName: broker.brokerName,
      brokerId: 0,
      haServerAddr: header.haServerAddr!,
      connectionId,
      now: 0,
      clientVersion: 479,
      body,
      compressed: isCompressed(broker.format),
      bodyCrc32: Number(header.bodyCrc32),
    };
  }

  it('serves, dumps, changes permissions, deletes and removes them like any name', () => {
    fc.assert(
      fc.property(scenario(41000), (s) => {
        const table = new RouteTable({ supportActingMaster: false, deleteTopicWithBrokerRegistration: false });
        s.brokers.forEach((broker, i) => expect(table.registerBroker(inputOf(broker, i + 1)).ok).toBe(true));
        const brokerNames = sorted(s.brokers.map((b) => b.brokerName));
        const clusterNames = sorted(new Set(s.brokers.map((b) => b.clusterName)));

        const info = table.getClusterInfoData();
        expect(ownKeys(info.brokerAddrTable)).toEqual(brokerNames);
        expect(ownKeys(info.clusterAddrTable)).toEqual(clusterNames);
        const dump = table.dump() as Record<string, object>;
        expect(ownKeys(dump.brokers)).toEqual(brokerNames);
        expect(ownKeys(dump.clusters)).toEqual(clusterNames);
        expect(ownKeys(dump.topics)).toEqual(sorted(s.topics));
        for (const topic of s.topics) {
          const serving = s.brokers.filter((b) => b.topics.has(topic)).map((b) => b.brokerName);
          expect(ownKeys(own(dump.topics, topic))).toEqual(sorted(serving));
          const data = table.pickupTopicRouteData(topic)!;
          expect(sorted(data.queueDatas.map((q) => q.brokerName))).toEqual(sorted(serving));
          const mappedBy = s.brokers.filter((b) => b.mappings.has(topic)).map((b) => b.brokerName);
          if (mappedBy.length > 0) expect(ownKeys(data.topicQueueMappingByBroker)).toEqual(sorted(mappedBy));
        }

        for (const broker of s.brokers) {
          expect(table.wipeWritePermOfBroker(broker.brokerName)).toBe(broker.topics.size);
          expect(table.addWritePermOfBroker(broker.brokerName)).toBe(broker.topics.size);
          const group = table.getBrokerMemberGroup(broker.clusterName, broker.brokerName);
          expect(group.brokerAddrs).toEqual({ 0: broker.brokerAddr });
        }
        for (const name of PROTOTYPE_NAMES.filter((n) => !brokerNames.includes(n))) {
          expect(table.wipeWritePermOfBroker(name)).toBe(0);
          expect(table.getBrokerMemberGroup('c', name).brokerAddrs).toEqual({});
        }
        for (const cluster of PROTOTYPE_NAMES.filter((n) => !clusterNames.includes(n)))
          expect(table.getTopicsByCluster(cluster).topicList).toEqual([]);

        // REGISTER_TOPIC_IN_NAMESRV onto every broker name, then DELETE_TOPIC_IN_NAMESRV per cluster.
        const [topic] = s.topics;
        const everyBroker = s.brokers.map((b) => ({
          brokerName: b.brokerName,
          readQueueNums: 2,
          writeQueueNums: 2,
          perm: 6,
          topicSysFlag: 0,
        }));
        expect(table.registerTopic(topic!, everyBroker)).toBe(true);
        expect(sorted(table.pickupTopicRouteData(topic!)!.queueDatas.map((q) => q.brokerName))).toEqual(brokerNames);
        for (const cluster of clusterNames) table.deleteTopic(topic!, cluster);
        expect(table.pickupTopicRouteData(topic!)).toBeUndefined();

        s.brokers.forEach((broker, i) =>
          expect(
            table.removeBroker(
              { clusterName: broker.clusterName, brokerAddr: broker.brokerAddr },
              i % 2 ? 'expired' : 'connectionClosed',
            ),
          ).toBe(true),
        );
        expect(table.getClusterInfoData()).toEqual({ brokerAddrTable: {}, clusterAddrTable: {} });
        expect(table.getAllTopicList().topicList).toEqual([]);
        table.close();
      }),
      { seed: SEED, numRuns: 6 },
    );
  });

  it('applies every body form decoded on a worker thread (compiled table)', async () => {
    const url = new URL('../../dist/src/route/routeTable.js', import.meta.url);
    const { RouteTable: CompiledRouteTable } = (await import(url.href)) as { RouteTable: typeof RouteTable };
    // Every body off the event loop: from one byte on. One table (and worker) for all runs.
    const table = new CompiledRouteTable({
      supportActingMaster: false,
      deleteTopicWithBrokerRegistration: false,
      registerBodyWorkers: 1,
      asyncDecodeMinBytes: 1,
    });
    try {
      await fc.assert(
        fc.asyncProperty(scenario(42000), async (s) => {
          const submitted = s.brokers.map((broker, i) => table.submitRegistration(inputOf(broker, i + 1)));
          // A promise: queued for a worker, not decoded on the event loop.
          const queued = submitted.filter((result) => result instanceof Promise);
          expect(queued).toHaveLength(s.brokers.length);
          for (const result of await Promise.all(queued)) expect(result).toMatchObject({ ok: true });
          expect(ownKeys(table.getClusterInfoData().brokerAddrTable)).toEqual(
            sorted(s.brokers.map((b) => b.brokerName)),
          );
          expect(sorted(table.getAllTopicList().topicList)).toEqual(sorted(s.topics));
          for (const topic of s.topics) {
            const route = JSON.parse(table.pickupTopicRoute(topic, true)!.toString());
            const serving = s.brokers.filter((b) => b.topics.has(topic)).map((b) => b.brokerName);
            expect(sorted(route.queueDatas.map((q: { brokerName: string }) => q.brokerName))).toEqual(sorted(serving));
          }
          for (const broker of s.brokers)
            table.removeBroker({ clusterName: broker.clusterName, brokerAddr: broker.brokerAddr }, 'expired');
          expect(table.getAllTopicList().topicList).toEqual([]);
        }),
        { seed: SEED, numRuns: 4 },
      );
    } finally {
      table.close();
    }
  });
});

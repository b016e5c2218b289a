/**
 * Every legal name is data in the admin tool's output: cluster, route, topic
 * and KV listings, as tables and as JSON, with names from RocketMQ's topic
 * alphabet and always Object.prototype's own names among them. Names are
 * passed as `--option=value`, the form that keeps a name starting with "-" a value.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runAdmin } from '../../src/cli/admin.js';
import type { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { topicConfig } from '../support/broker.js';
import { startTestServer } from '../support/harness.js';
import { capture } from '../cli/support.js';
import {
  CORE_PROTOTYPE_NAMES,
  own,
  ownKeys,
  PROTOTYPE_NAMES,
  registerBody,
  registerHeader,
  scenario,
  SEED,
  sorted,
  type BrokerPlan,
} from './names.js';

async function admin(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const c = capture();
  const code = await runAdmin(argv, {}, c.io);
  return { code, out: c.stdout(), err: c.stderr() };
}

async function register(client: RemotingClient, broker: BrokerPlan): Promise<void> {
  const body = registerBody(broker);
  const response = await client.invoke(RequestCode.REGISTER_BROKER, registerHeader(broker, body), body);
  expect({ code: response.code, remark: response.remark }).toEqual({ code: ResponseCode.SUCCESS, remark: null });
}

/** A table's rows as cells (names never hold spaces), header and blank last line dropped. */
function rowsOf(table: string): string[][] {
  return table
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((line) => line.split(/\s{2,}/));
}

describe('legal names in the admin tool', () => {
  it('lists clusters, routes, topics and the clusters of a topic by any legal name', async () => {
    await fc.assert(
      fc.asyncProperty(scenario(34000), async (s) => {
        const t = await startTestServer();
        try {
          const n = `--namesrvAddr=127.0.0.1:${t.server.remotingPort}`;
          const client = await t.client();
          for (const broker of s.brokers) await register(client, broker);
          const clusters = sorted(new Set(s.brokers.map((b) => b.clusterName)));

          const table = await admin(['clusterList', n]);
          expect(table.err).toBe('');
          expect(rowsOf(table.out)).toEqual(
            [...s.brokers]
              .sort((a, b) =>
                a.clusterName === b.clusterName
                  ? a.brokerName < b.brokerName
                    ? -1
                    : 1
                  : a.clusterName < b.clusterName
                    ? -1
                    : 1,
              )
              .map((b) => [b.clusterName, b.brokerName, '0', b.brokerAddr]),
          );
          const json = JSON.parse((await admin(['clusterList', n, '--json'])).out);
          expect(ownKeys(json.brokerAddrTable)).toEqual(sorted(s.brokers.map((b) => b.brokerName)));
          expect(ownKeys(json.clusterAddrTable)).toEqual(clusters);

          for (const cluster of clusters) {
            const inCluster = sorted(s.brokers.filter((b) => b.clusterName === cluster).map((b) => b.brokerName));
            const one = await admin(['clusterList', n, `--clusterName=${cluster}`, '--json']);
            expect(one.code).toBe(0);
            const shown = JSON.parse(one.out);
            expect(ownKeys(shown.brokerAddrTable), `clusterList -c ${cluster}`).toEqual(inCluster);
            for (const name of inCluster) expect(own(shown.brokerAddrTable, name).brokerName).toBe(name);
            expect(ownKeys(shown.clusterAddrTable)).toEqual([cluster]);
            const rows = rowsOf((await admin(['clusterList', n, `--clusterName=${cluster}`])).out);
            expect(rows.map((row) => row[1])).toEqual(inCluster);
          }
          // A cluster that does not exist lists nothing, whatever Object.prototype holds under its name.
          for (const cluster of CORE_PROTOTYPE_NAMES.filter((name) => !clusters.includes(name))) {
            const none = await admin(['clusterList', n, `--clusterName=${cluster}`]);
            expect({ code: none.code, err: none.err, rows: rowsOf(none.out) }).toEqual({ code: 0, err: '', rows: [] });
            const noneJson = await admin(['clusterList', n, `--clusterName=${cluster}`, '--json']);
            expect(JSON.parse(noneJson.out)).toEqual({ brokerAddrTable: {}, clusterAddrTable: {} });
          }

          for (const topic of CORE_PROTOTYPE_NAMES) {
            const routeJson = JSON.parse((await admin(['topicRoute', n, `--topic=${topic}`, '--json'])).out);
            expect(sorted(routeJson.queueDatas.map((q: { brokerName: string }) => q.brokerName))).toEqual(
              sorted(s.brokers.filter((b) => b.topics.has(topic)).map((b) => b.brokerName)),
            );
          }
          const listed = await admin(['topicList', n]);
          expect(listed.out.trimEnd().split('\n').sort()).toEqual(sorted(s.topics));
          for (const topic of s.topics) {
            const serving = s.brokers.filter((b) => b.topics.has(topic));
            const route = await admin(['topicRoute', n, `--topic=${topic}`]);
            expect(route.code).toBe(0);
            expect(
              rowsOf(route.out)
                .slice(0, -1)
                .map((row) => row[1]),
            ).toEqual(sorted(serving.map((b) => b.brokerName)));
            const topicClusters = await admin(['topicClusterList', n, `--topic=${topic}`]);
            expect(topicClusters.out.trimEnd().split('\n')).toEqual(sorted(new Set(serving.map((b) => b.clusterName))));
          }
        } finally {
          await t.stop();
        }
      }),
      { seed: SEED, numRuns: 2 },
    );
  });

  it('puts, lists and reads KV entries named by prototype names, and wipes write permission by broker name', async () => {
    const t = await startTestServer();
    try {
      const n = `--namesrvAddr=127.0.0.1:${t.server.remotingPort}`;
      for (const key of PROTOTYPE_NAMES) {
        const put = await admin(['kv', 'put', n, '--namespace=__proto__', `--key=${key}`, `--value=v-${key}`]);
        expect(put.code).toBe(0);
      }
      const listed = await admin(['kv', 'list', n, '--namespace=__proto__']);
      expect(rowsOf(listed.out)).toEqual(sorted(PROTOTYPE_NAMES).map((key) => [key, `v-${key}`]));
      const json = JSON.parse((await admin(['kv', 'list', n, '--namespace=__proto__', '--json'])).out);
      expect(ownKeys(json.table)).toEqual(sorted(PROTOTYPE_NAMES));
      const one = await admin(['kv', 'get', n, '--namespace=__proto__', '--key=constructor']);
      expect(one.out).toBe('v-constructor\n');

      const client = await t.client();
      const broker: BrokerPlan = {
        clusterName: 'toString',
        brokerName: 'hasOwnProperty',
        brokerAddr: '127.0.0.1:35911',
        format: 'fastjson-4.9',
        topics: new Map(CORE_PROTOTYPE_NAMES.map((name) => [name, topicConfig(name)])),
        mappings: new Map(),
        dataVersion: { counter: 1, timestamp: 1 },
      };
      await register(client, broker);
      const wiped = await admin(['wipeWritePerm', n, '--brokerName=hasOwnProperty', '--json']);
      expect(JSON.parse(wiped.out).results[0]).toMatchObject({ ok: true, wipeTopicCount: CORE_PROTOTYPE_NAMES.length });
      const none = await admin(['wipeWritePerm', n, '--brokerName=valueOf', '--json']);
      expect(JSON.parse(none.out).results[0]).toMatchObject({ ok: true, wipeTopicCount: 0 });
      const deleted = await admin(['deleteTopic', n, '--topic=__proto__', '--clusterName=toString']);
      expect(deleted.code).toBe(0);
      expect((await client.invoke(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: '__proto__' })).code).toBe(
        ResponseCode.TOPIC_NOT_EXIST,
      );
    } finally {
      await t.stop();
    }
  });

  it('calls a command or an option named like a prototype property unknown', async () => {
    for (const name of PROTOTYPE_NAMES) {
      const answer = await admin([name]);
      expect({ code: answer.code, err: answer.err.split('\n')[0] }).toEqual({
        code: 2,
        err: `xnamesrv admin: unknown command ${JSON.stringify(name)}`,
      });
    }
    for (const name of PROTOTYPE_NAMES) {
      const answer = await admin(['topicList', `--${name}=x`]);
      expect({ code: answer.code, err: answer.err.split('\n')[0] }).toEqual({
        code: 2,
        err: expect.stringContaining(`unknown option --${name}`),
      });
    }
  });
});

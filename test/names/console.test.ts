/**
 * Every legal name is data in the console page's model: the per-name-server
 * state rebuilt from the stream, the brokers table rows and their filter,
 * route diffs and the transition log, with cluster, broker and topic names
 * from RocketMQ's topic alphabet (`|` included, the separator of a broker
 * key) and always Object.prototype's own names among them.
 */
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fewNames, SEED, sorted } from './names.js';

const pageDir = fileURLToPath(new URL('../../src/console/page/', import.meta.url));
const page = (path: string): Promise<any> => import(pathToFileURL(join(pageDir, path)).href);

interface Broker {
  clusterName: string;
  brokerName: string;
  brokerAddr: string;
  brokerKey: string;
}

/** Brokers named from the alphabet: cluster x broker name pairs, each at its own address. */
const brokersArb = fc.tuple(fewNames(1, 3), fewNames(2, 4)).map(([clusters, names]) =>
  names.map((brokerName, i): Broker => {
    const clusterName = clusters[i % clusters.length]!;
    const brokerAddr = `10.0.0.${i + 1}:10911`;
    return { clusterName, brokerName, brokerAddr, brokerKey: `${clusterName}|${brokerAddr}` };
  }),
);

function snapshotOf(b: Broker, generation = 1) {
  return {
    brokerKey: b.brokerKey,
    clusterName: b.clusterName,
    brokerName: b.brokerName,
    brokerAddr: b.brokerAddr,
    brokerId: 0,
    state: 'registered',
    generation,
    lastRefresh: 1000,
    heartbeatTimeoutMillis: 120000,
    dataVersion: { counter: 1, timestamp: 1 },
    topicCount: 2,
  };
}

let seq = 0;
function transitionOf(b: Broker, to: string, withContext = true) {
  return {
    type: 'transition',
    seq: ++seq,
    at: 2000 + seq,
    actorId: b.brokerKey,
    machine: 'broker',
    from: 'registered',
    to,
    tags: to === 'registered' ? ['live'] : [],
    event: to === 'registered' ? 'REGISTER' : 'UNREGISTER',
    ...(withContext
      ? {
          context: {
            clusterName: b.clusterName,
            brokerName: b.brokerName,
            brokerAddr: b.brokerAddr,
            brokerId: 0,
            generation: 2,
          },
        }
      : {}),
  };
}

function recorder() {
  const changed: string[] = [];
  return {
    changed,
    listener: { brokersChanged: (keys: Iterable<string>) => changed.push(...keys), lifecycleChanged: () => undefined },
  };
}

describe('the console model with legal names', () => {
  it('keeps every broker by its key, from snapshots and from transitions with or without context', async () => {
    const { NameServerState } = await page('model/nameServerState.js');
    fc.assert(
      fc.property(brokersArb, (brokers) => {
        const { changed, listener } = recorder();
        const state = new NameServerState('ns1:9876', listener);
        const [unknown, ...known] = brokers;
        state.applySnapshot({ lifecycle: null, server: null, brokers: known.map((b) => snapshotOf(b)) });
        expect(sorted(state.brokers.keys())).toEqual(sorted(known.map((b) => b.brokerKey)));

        // A broker the snapshot did not have, first seen by a transition without context
        // (an older server): its key is all there is to go by.
        state.applyTransition(transitionOf(unknown!, 'registered', false));
        const record = state.brokers.get(unknown!.brokerKey);
        expect(record).toMatchObject({ clusterName: unknown!.clusterName, brokerAddr: unknown!.brokerAddr });

        for (const b of known) {
          expect(state.applyTransition(transitionOf(b, 'registered'))).toBe(true);
          expect(state.brokers.get(b.brokerKey)).toMatchObject({
            brokerName: b.brokerName,
            clusterName: b.clusterName,
            generation: 2,
            state: 'registered',
          });
        }
        state.applyBrokerDetails(brokers.map((b) => ({ ...snapshotOf(b, 2), topicCount: 5 })));
        for (const b of known) expect(state.brokers.get(b.brokerKey).topicCount).toBe(5);
        state.recordPastTransitions(known.map((b) => ({ ...transitionOf(b, 'registered'), seq: 0 })));
        for (const b of known) expect(state.brokers.get(b.brokerKey).history[0].seq).toBe(0);

        for (const b of brokers) state.applyTransition(transitionOf(b, 'unregistered'));
        for (const b of brokers) expect(state.brokers.get(b.brokerKey).state).toBe('unregistered');
        state.sweepGone(Date.now() + 61_000);
        expect(state.brokers.size).toBe(0);
        expect(new Set(changed)).toEqual(new Set(brokers.map((b) => b.brokerKey)));
      }),
      { seed: SEED, numRuns: 25 },
    );
  });

  it('builds broker rows, filters them by name and flags divergence naming the name servers', async () => {
    const { brokerRow, rowPasses } = await page('model/brokerRows.js');
    const { NameServerState } = await page('model/nameServerState.js');
    fc.assert(
      fc.property(brokersArb, fewNames(2, 2), (brokers, nameServers) => {
        const states = nameServers.map((address, i) => {
          const state = new NameServerState(address, recorder().listener);
          // The second name server misses the first broker.
          state.applySnapshot({
            lifecycle: null,
            server: null,
            brokers: brokers.filter((_, j) => i === 0 || j > 0).map((b) => snapshotOf(b)),
          });
          return { address, connected: true, brokers: state.brokers };
        });
        brokers.forEach((b, j) => {
          const row = brokerRow(b.brokerKey, states);
          expect(row.key).toBe(b.brokerKey);
          expect(row.detail).toMatchObject({ brokerName: b.brokerName, clusterName: b.clusterName });
          expect(row.detailFrom).toBe(nameServers[0]);
          expect(row.cells.map((cell: { nameServer: string }) => cell.nameServer)).toEqual(nameServers);
          if (j === 0) expect(row.divergence).toEqual([`live on ${nameServers[0]}; absent on ${nameServers[1]}`]);
          else expect(row.divergence).toEqual([]);
          for (const text of [b.brokerName, b.clusterName, b.brokerAddr])
            expect(rowPasses(row, { text, show: 'all' })).toBe(true);
        });
        for (const name of ['__proto__', 'constructor', 'toString']) {
          if (!brokers.some((b) => b.brokerKey === name)) expect(brokerRow(name, states)).toBeNull();
        }
      }),
      { seed: SEED, numRuns: 25 },
    );
  });

  it('diffs routes per broker name', async () => {
    const { diffRoutes, routeRows } = await page('model/routeDiff.js');
    const routeOf = (brokers: Broker[], queues: number) => ({
      brokerDatas: brokers.map((b) => ({
        brokerName: b.brokerName,
        cluster: b.clusterName,
        brokerAddrs: { 0: b.brokerAddr },
      })),
      queueDatas: brokers.map((b) => ({
        brokerName: b.brokerName,
        readQueueNums: queues,
        writeQueueNums: queues,
        perm: 6,
        topicSysFlag: 0,
      })),
      filterServerTable: {},
    });
    fc.assert(
      fc.property(brokersArb, (brokers) => {
        const [gone, changed, ...same] = brokers;
        const added = { ...gone!, brokerName: `${gone!.brokerName}-new` };
        fc.pre(!brokers.some((b) => b.brokerName === added.brokerName));
        const before = routeOf([gone!, changed!, ...same], 4);
        const after = { ...routeOf([changed!, ...same, added], 4) };
        after.queueDatas[0]!.writeQueueNums = 8;
        expect(routeRows(before).map((row: { brokerName: string }) => row.brokerName)).toEqual(
          [gone!, changed!, ...same].map((b) => b.brokerName).sort((a, b) => a.localeCompare(b)),
        );
        const byName = new Map(
          diffRoutes(before, after).map((c: { row: { brokerName: string } }) => [c.row.brokerName, c]),
        );
        expect(byName.size).toBe(brokers.length + 1);
        expect(byName.get(gone!.brokerName)).toMatchObject({ status: 'removed' });
        expect(byName.get(added.brokerName)).toMatchObject({ status: 'added' });
        expect(byName.get(changed!.brokerName)).toMatchObject({
          status: 'changed',
          fields: new Set(['writeQueueNums']),
        });
        for (const b of same) expect(byName.get(b.brokerName)).toMatchObject({ status: 'same' });
      }),
      { seed: SEED, numRuns: 25 },
    );
  });

  it('filters the transition log by any actor name', async () => {
    const { TransitionLog } = await page('model/transitionLog.js');
    fc.assert(
      fc.property(brokersArb, (brokers) => {
        const log = new TransitionLog(100);
        for (const b of brokers) log.add({ kind: 'transition', ...transitionOf(b, 'registered') });
        for (const b of brokers) {
          log.setFilter({ machine: 'broker', actor: b.brokerKey, event: '' });
          const shown = Array.from({ length: log.length }, (_, i) => log.newestFirst(i).actorId);
          expect(shown).toContain(b.brokerKey);
          for (const actorId of shown) expect(actorId.toLowerCase()).toContain(b.brokerKey.toLowerCase());
        }
      }),
      { seed: SEED, numRuns: 25 },
    );
  });
});

/**
 * Figure 6: a real NameServer (composition root, broker actors) on a
 * SimulatedClock, in a process of its own. 10,000 brokers register at the
 * same simulated instant; a tenth of them have a shorter heartbeat timeout, so
 * they all expire at once when the clock moves past it. Timed: from the clock
 * step until every one of them is out of the route table and every route
 * change has been published to listeners.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedClock } from 'xstate';
import type { ServerClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { NameServer } from '../../src/nameServer.js';
import { createRequest } from '../../src/remoting/command.js';
import { RequestCode } from '../../src/remoting/requestCode.js';
import type { RemotingConnection } from '../../src/remoting/server.js';
import { RouteTable } from '../../src/route/routeTable.js';
import { serveParent } from '../lib/rpc.js';
import { brokers, registerRequest, type Topology } from '../lib/topology.js';

const SHORT_TIMEOUT_MS = 30_000;
const LONG_TIMEOUT_MS = 120_000;

function gcNow(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
}

serveParent({
  async run(args: {
    clusters: number;
    brokersPerCluster: number;
    topicsPerBroker: number;
    replication: number;
    expireEvery: number;
  }) {
    const topology: Topology = {
      clusters: args.clusters,
      brokersPerCluster: args.brokersPerCluster,
      topicsPerBroker: args.topicsPerBroker,
      replication: args.replication,
      topicPrefix: 'ExpTopic_',
    };
    const list = brokers(topology);
    const expiring = (i: number) => i % args.expireEvery === 0;
    const requests = list.map((b, i) => {
      const r = registerRequest(topology, b, { counter: 1 });
      return {
        ...r,
        extFields: { ...r.extFields, heartbeatTimeoutMillis: String(expiring(i) ? SHORT_TIMEOUT_MS : LONG_TIMEOUT_MS) },
      };
    });

    const dataDir = mkdtempSync(join(tmpdir(), 'xnamesrv-bench-expiry-'));
    const loaded = loadConfig({
      argv: ['--data-dir', dataDir, '--listenPort', '0', '--httpPort', '0', '--bindAddress', '127.0.0.1'],
      env: {},
      homeDir: dataDir,
    });
    if (!loaded.ok) throw new Error(loaded.errors.join('; '));
    const clock = new SimulatedClock() as SimulatedClock & ServerClock;
    clock.set(Date.UTC(2026, 0, 1));
    const server = await NameServer.start({ config: loaded.config, logger: silentLogger(), clock });
    try {
      const t0 = performance.now();
      for (let i = 0; i < list.length; i++) {
        const conn: RemotingConnection = {
          id: server.allocateLocalConnectionId(),
          remoteAddress: list[i]!.brokerAddr,
          closed: false,
          send: () => true,
          close: () => undefined,
        };
        const response = await server.invokeProcessor(
          createRequest(RequestCode.REGISTER_BROKER, requests[i]!.extFields, requests[i]!.body),
          conn,
        );
        if (response.code !== 0) throw new Error(`registration ${i} failed: ${response.code} ${response.remark}`);
      }
      const registerMs = performance.now() - t0;
      const before = server.routes.stats();

      let changes = 0;
      let changedTopics = 0;
      let lastChangeAt = 0;
      server.routes.onChange((c) => {
        if (c.cause !== 'expired') return;
        changes++;
        changedTopics += c.topics.length;
        lastChangeAt = performance.now();
      });
      let expired = 0;
      server.transitions.onTransition((t) => {
        if (t.machine === 'broker' && t.to === 'expired') expired++;
      });
      const expectRemoved = list.filter((_, i) => expiring(i)).length;
      gcNow();
      const s0 = performance.now();
      clock.increment(SHORT_TIMEOUT_MS + 1);
      const syncMs = performance.now() - s0;
      // Whatever did not happen inside the clock step (nothing, today) is waited for.
      while (changes < expectRemoved && performance.now() - s0 < 60_000) await new Promise((r) => setImmediate(r));
      const totalMs = (lastChangeAt || performance.now()) - s0;
      const after = server.routes.stats();

      // Reference, same process: the route table alone removing the same brokers.
      const table = new RouteTable({ supportActingMaster: false, deleteTopicWithBrokerRegistration: false });
      list.forEach((b, i) =>
        table.registerBroker({
          clusterName: b.clusterName,
          brokerAddr: b.brokerAddr,
          brokerName: b.brokerName,
          brokerId: 0,
          haServerAddr: b.haServerAddr,
          connectionId: i + 1,
          now: 1,
          clientVersion: 409,
          body: requests[i]!.body,
          compressed: false,
          bodyCrc32: 0,
        }),
      );
      let tableChanges = 0;
      table.onChange(() => tableChanges++);
      gcNow();
      const r0 = performance.now();
      list.forEach((b, i) => {
        if (expiring(i)) table.removeBroker({ clusterName: b.clusterName, brokerAddr: b.brokerAddr }, 'expired');
      });
      const tableMs = performance.now() - r0;
      return {
        brokers: list.length,
        expiring: expectRemoved,
        registerMs,
        before,
        after,
        removedBrokers: before.liveBrokers - after.liveBrokers,
        expiredTransitions: expired,
        routeChanges: changes,
        changedTopics,
        syncMs,
        totalMs,
        tableOnlyMs: tableMs,
        tableChanges,
      };
    } finally {
      await server.close('bench done');
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
  exit() {
    setImmediate(() => process.exit(0));
    return null;
  },
});

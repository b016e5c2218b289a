import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RemotingClient } from '../../src/remoting/client.js';
import { ResponseCode } from '../../src/remoting/requestCode.js';
import { parseFastjsonText } from '../../src/protocol/fastjsonParser.js';
import { BrokerSimulator, type BrokerSimulatorOptions, type SimEvent } from '../../src/sim/simulator.js';
import { startTestServer, type TestServer } from '../support/harness.js';
import { clusterInfo, getRoute } from '../support/broker.js';
import { CLOSED_ADDR, waitForServer } from '../cli/support.js';

let t: TestServer;
let client: RemotingClient;
let sims: BrokerSimulator[];

beforeEach(async () => {
  t = await startTestServer();
  client = await t.client();
  sims = [];
});

afterEach(async () => {
  await Promise.all(sims.map((s) => s.stop({ unregister: false })));
  await t.stop();
});

function simulator(options: Partial<BrokerSimulatorOptions> = {}): BrokerSimulator {
  const sim = new BrokerSimulator({
    nameServers: [`127.0.0.1:${t.server.remotingPort}`],
    clusters: 1,
    brokers: 2,
    replicas: 1,
    topics: 2,
    queues: 4,
    timer: t.clock,
    ...options,
  });
  sims.push(sim);
  return sim;
}

/** Moves the shared simulated clock and waits for what the simulator's timers started. */
async function advance(sim: BrokerSimulator, ms: number): Promise<void> {
  t.clock.increment(ms);
  await sim.idle();
}

const json = (body: Buffer | null | undefined) => {
  const parsed = parseFastjsonText(body!.toString('utf8'));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value as any;
};

const liveAddrs = () =>
  t.server
    .brokerSnapshots()
    .map((b) => b.brokerAddr)
    .sort();

describe('BrokerSimulator', () => {
  it('registers clusters x brokers x replicas with their topics; slaves learn their master', async () => {
    const sim = simulator({ clusters: 2, brokers: 2, replicas: 2, topics: 3 });
    const report = await sim.start();
    expect(report.registrations).toEqual({ sent: 8, acknowledged: 8, failed: 0 });
    expect(report.brokers.running).toBe(8);

    const info = await clusterInfo(client);
    expect(info.clusterAddrTable).toEqual({
      'SimCluster-0': ['broker-0-0', 'broker-0-1'],
      'SimCluster-1': ['broker-1-0', 'broker-1-1'],
    });
    expect(info.brokerAddrTable['broker-1-1']).toEqual({
      brokerAddrs: { '0': '127.0.0.1:20923', '1': '127.0.0.1:20925' },
      brokerName: 'broker-1-1',
      cluster: 'SimCluster-1',
    });
    expect(t.server.brokerSnapshots()).toHaveLength(8);

    const route = json((await getRoute(client, 'SimTopic-2')).body);
    expect(route.brokerDatas.map((b: { brokerName: string }) => b.brokerName).sort()).toEqual([
      'broker-0-0',
      'broker-0-1',
      'broker-1-0',
      'broker-1-1',
    ]);
    expect(route.queueDatas[0]).toMatchObject({ readQueueNums: 4, writeQueueNums: 4, perm: 6 });
    // Like real brokers, each also registers its cluster and broker name topics.
    expect((await getRoute(client, 'SimCluster-1')).code).toBe(ResponseCode.SUCCESS);
    expect(json((await getRoute(client, 'broker-0-1')).body).brokerDatas).toHaveLength(1);

    const slave = sim.brokers().find((b) => b.brokerName === 'broker-0-1' && b.brokerId === 1)!;
    expect(slave.masterAddr).toBe('127.0.0.1:20915');
    expect(slave.brokerAddr).toBe('127.0.0.1:20917');
  });

  it('re-registers every interval, which keeps brokers alive past the 120 s expiry', async () => {
    const sim = simulator();
    const rounds: number[] = [];
    sim.onEvent((e: SimEvent) => {
      if (e.type === 'round') rounds.push(e.report.elapsedMs);
    });
    await sim.start();
    for (let i = 0; i < 6; i++) await advance(sim, 30_000);
    expect(rounds).toEqual([0, 30_000, 60_000, 90_000, 120_000, 150_000, 180_000]);
    expect(liveAddrs()).toEqual(['127.0.0.1:20911', '127.0.0.1:20913']);
    expect(t.server.brokerSnapshots().every((b) => b.lastRefresh === t.clock.now())).toBe(true);
  });

  it('a clock jump of several intervals runs one round, not a burst', async () => {
    const sim = simulator();
    await sim.start();
    await advance(sim, 100_000);
    const seen: number[] = [];
    sim.onEvent((e) => e.type === 'round' && seen.push(e.report.elapsedMs));
    await advance(sim, 20_000);
    expect(seen).toEqual([120_000]);
  });

  it('crash drops the connections and the name server removes the broker', async () => {
    const sim = simulator({ replicas: 2 });
    await sim.start();
    const report = await sim.crash('broker-0-1');
    expect(report.instances).toEqual(['broker-0-1/0@127.0.0.1:20915', 'broker-0-1/1@127.0.0.1:20917']);
    await waitForServer(t, () => liveAddrs().length === 2);
    expect(liveAddrs()).toEqual(['127.0.0.1:20911', '127.0.0.1:20913']);
    expect((await clusterInfo(client)).clusterAddrTable).toEqual({ 'SimCluster-0': ['broker-0-0'] });
    // A crashed broker sends nothing more.
    await advance(sim, 30_000);
    expect(liveAddrs()).toEqual(['127.0.0.1:20911', '127.0.0.1:20913']);
    expect(sim.brokers().filter((b) => b.state === 'crashed')).toHaveLength(2);
  });

  it('a partitioned broker keeps its socket, stops refreshing and expires after heartbeatTimeoutMillis', async () => {
    const sim = simulator();
    await sim.start();
    await sim.partition('broker-0-1/0');
    for (let i = 0; i < 3; i++) await advance(sim, 30_000);
    expect(liveAddrs()).toEqual(['127.0.0.1:20911', '127.0.0.1:20913']);
    await advance(sim, 30_000); // 120 s since its last registration
    await waitForServer(t, () => liveAddrs().length === 1);
    expect(liveAddrs()).toEqual(['127.0.0.1:20911']);
    expect(sim.brokers().find((b) => b.brokerName === 'broker-0-1')!.state).toBe('partitioned');
  });

  it('restart reconnects and registers afresh, also after a crash', async () => {
    const sim = simulator({ brokers: 1 });
    await sim.start();
    expect(t.server.brokerSnapshots().map((b) => b.generation)).toEqual([1]);
    await sim.crash('broker-0-0');
    await waitForServer(t, () => liveAddrs().length === 0);
    const report = await sim.restart('broker-0-0');
    expect(report.registrations).toEqual({ sent: 1, acknowledged: 1, failed: 0 });
    expect(liveAddrs()).toEqual(['127.0.0.1:20911']);
    // A restart of a running broker: a new connection and a new generation.
    const before = t.server.brokerSnapshots()[0]!.generation;
    await sim.restart('127.0.0.1:20911');
    await waitForServer(t, () => t.server.brokerSnapshots()[0]?.generation === before + 1);
    expect(t.server.brokerSnapshots().map((b) => b.state)).toEqual(['registered']);
  });

  it('bump adds a topic with a new DataVersion and the route follows at once', async () => {
    const sim = simulator();
    await sim.start();
    expect((await getRoute(client, 'SimBump-broker-0-0-1')).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    const report = await sim.bump('broker-0-0');
    expect(report.registrations).toEqual({ sent: 1, acknowledged: 1, failed: 0 });
    const route = json((await getRoute(client, 'SimBump-broker-0-0-1')).body);
    expect(route.brokerDatas.map((b: { brokerName: string }) => b.brokerName)).toEqual(['broker-0-0']);
    const snapshot = t.server.brokerSnapshots().find((b) => b.brokerName === 'broker-0-0')!;
    expect(snapshot.dataVersion.counter).toBe(2);
    expect(snapshot.topicCount).toBe(5);
  });

  it('runs the fault schedule on its timer', async () => {
    const sim = simulator({
      faults: [
        { kind: 'bump', target: 'broker-0-1', atSeconds: 10 },
        { kind: 'crash', target: 'broker-0-0', atSeconds: 20 },
      ],
    });
    const faults: string[] = [];
    sim.onEvent((e) => e.type === 'fault' && faults.push(`${e.report.kind}@${e.report.elapsedMs}`));
    await sim.start();
    await advance(sim, 10_000);
    expect((await getRoute(client, 'SimBump-broker-0-1-1')).code).toBe(ResponseCode.SUCCESS);
    await advance(sim, 10_000);
    await waitForServer(t, () => liveAddrs().length === 1);
    expect(faults).toEqual(['bump@10000', 'crash@20000']);
    expect(liveAddrs()).toEqual(['127.0.0.1:20913']);
  });

  it('heartbeat mode: BROKER_HEARTBEAT keeps brokers alive between registrations, silence expires them', async () => {
    const sim = simulator({
      heartbeat: true,
      heartbeatIntervalMs: 1_000,
      heartbeatTimeoutMillis: 5_000,
      intervalMs: 30_000,
    });
    await sim.start();
    expect(t.server.brokerSnapshots().map((b) => b.heartbeatTimeoutMillis)).toEqual([5_000, 5_000]);
    for (let i = 0; i < 20; i++) await advance(sim, 1_000);
    expect(liveAddrs()).toHaveLength(2);
    await sim.partition('broker-0-0');
    for (let i = 0; i < 5; i++) await advance(sim, 1_000);
    await waitForServer(t, () => liveAddrs().length === 1);
    expect(liveAddrs()).toEqual(['127.0.0.1:20913']);
    const summary = await sim.stop();
    expect(summary.heartbeats.sent).toBe(45);
    expect(summary.heartbeats.acknowledged).toBe(45);
  });

  it.each([
    ['compressed 5.x', { compressed: true }],
    ['JSON 4.9', { brokerVersion: '4.9' as const }],
    ['compressed 4.9', { compressed: true, brokerVersion: '4.9' as const }],
  ])('registers with %s bodies', async (_name, options) => {
    const sim = simulator(options);
    expect((await sim.start()).registrations).toEqual({ sent: 2, acknowledged: 2, failed: 0 });
    expect(json((await getRoute(client, 'SimTopic-1')).body).brokerDatas).toHaveLength(2);
  });

  it('registers with every name server and counts failures for unreachable ones', async () => {
    const second = await startTestServer();
    try {
      const sim = simulator({
        nameServers: [`127.0.0.1:${t.server.remotingPort}`, `127.0.0.1:${second.server.remotingPort}`, CLOSED_ADDR],
      });
      const report = await sim.start();
      expect(report.registrations).toEqual({ sent: 6, acknowledged: 4, failed: 2 });
      expect(report.errors).toEqual([`${CLOSED_ADDR}: connection refused (127.0.0.1:1)`]);
      expect(second.server.brokerSnapshots()).toHaveLength(2);
      await sim.stop();
      expect(second.server.brokerSnapshots()).toHaveLength(0);
    } finally {
      await second.stop();
    }
  });

  it('stop() unregisters every running broker and closes its connections', async () => {
    const sim = simulator({ replicas: 2 });
    await sim.start();
    await sim.crash('broker-0-0/1');
    const summary = await sim.stop();
    expect(summary.unregistrations).toEqual({ sent: 3, acknowledged: 3, failed: 0 });
    expect(summary.brokers).toMatchObject({ stopped: 3, crashed: 1 });
    await waitForServer(t, () => liveAddrs().length === 0);
    expect((await clusterInfo(client)).clusterAddrTable).toEqual({});
    // Timers are gone: moving the clock sends nothing.
    await advance(sim, 60_000);
    expect(liveAddrs()).toEqual([]);
  });

  it('step() and heartbeat() work without start(), and arm no timer', async () => {
    const sim = simulator({ heartbeat: true });
    expect((await sim.step()).registrations).toEqual({ sent: 2, acknowledged: 2, failed: 0 });
    expect(await sim.heartbeat()).toEqual({ sent: 2, acknowledged: 2, failed: 0 });
    const seen: SimEvent[] = [];
    sim.onEvent((e) => seen.push(e));
    await advance(sim, 60_000);
    expect(seen).toEqual([]);
    expect((await sim.step()).round).toBe(2);
  });

  it('refuses targets and settings that cannot work', () => {
    expect(() => simulator({ faults: [{ kind: 'crash', target: 'nobody', atSeconds: 1 }] })).toThrow(
      'no simulated broker is called that',
    );
    expect(() => simulator({ clusters: 0 })).toThrow('clusters must be a positive integer');
    expect(() => simulator({ heartbeat: true, brokerVersion: '4.9' })).toThrow('needs brokerVersion 5.x');
    expect(() => simulator({ nameServers: ['nohost'] })).toThrow('bad name server address');
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSimulator } from '../../src/cli/sim.js';
import type { BrokerSimulator } from '../../src/sim/simulator.js';
import { startTestServer, type TestServer } from '../support/harness.js';
import { clusterInfo } from '../support/broker.js';
import { capture, waitForServer } from '../cli/support.js';

let t: TestServer;
let addr: string;

beforeEach(async () => {
  t = await startTestServer();
  addr = `127.0.0.1:${t.server.remotingPort}`;
});

afterEach(async () => {
  await t.stop();
});

/** Runs the CLI on the test server's clock; resolves with the running simulator and the exit code promise. */
async function startCli(argv: string[], stop = new AbortController()) {
  const c = capture(stop.signal);
  let started!: (sim: BrokerSimulator) => void;
  const simReady = new Promise<BrokerSimulator>((resolve) => (started = resolve));
  const exit = runSimulator(argv, {}, { ...c.io, timer: t.clock, onStarted: started });
  const sim = await Promise.race([
    simReady,
    exit.then((code) => Promise.reject(new Error(`exited ${code}: ${c.stderr()}`))),
  ]);
  return { c, sim, exit, stop };
}

describe('xnamesrv sim', () => {
  it('registers, prints progress per interval, and on SIGINT unregisters every broker and exits 0', async () => {
    const { c, sim, exit, stop } = await startCli([
      '-n',
      addr,
      '--clusters',
      '2',
      '--brokers',
      '1',
      '--replicas',
      '2',
      '--topics',
      '1',
    ]);
    expect(t.server.brokerSnapshots()).toHaveLength(4);
    expect(Object.keys((await clusterInfo(await t.client())).clusterAddrTable).sort()).toEqual([
      'SimCluster-0',
      'SimCluster-1',
    ]);
    t.clock.increment(30_000);
    await sim.idle();
    stop.abort('SIGINT');
    expect(await exit).toBe(0);
    await waitForServer(t, () => t.server.brokerSnapshots().length === 0);
    expect(c.stderr().split('\n')).toEqual([
      `[sim] 4 broker instance(s) (2 cluster(s) x 1 broker name(s) x 2 replica(s), 3 topics each) registering with ${addr} every 30s`,
      '[sim +0s] round 1: registrations sent 4, acknowledged 4, failed 0; brokers running 4',
      '[sim +30s] round 2: registrations sent 4, acknowledged 4, failed 0; brokers running 4',
      '[sim] stopped after 30s (SIGINT): 2 round(s); registrations sent 8, acknowledged 8, failed 0; unregistered 4/4',
      '',
    ]);
    expect(c.stdout()).toBe('');
  });

  it('stops after --duration and reports scheduled faults and heartbeats', async () => {
    const { c, sim, exit } = await startCli([
      '-n',
      addr,
      '--duration',
      '60',
      '--crash',
      'broker-0-1@25',
      '--heartbeat',
      '--heartbeatInterval',
      '7',
      '--heartbeatTimeout',
      '30',
    ]);
    // Small steps, each settled before the next: a heartbeat must reach the server before its timeout fires.
    const step = async (ms: number) => {
      t.clock.increment(ms);
      await sim.idle();
    };
    await step(10_000); // heartbeat at 7 s
    await step(10_000); // 14 s
    await step(1_000); // 21 s
    await step(4_000); // crash at 25 s
    await waitForServer(t, () => t.server.brokerSnapshots().length === 1);
    await step(3_000); // 28 s: one broker left
    await step(2_000); // round 2 at 30 s
    await step(10_000);
    await step(10_000);
    t.clock.increment(10_000); // 60 s: round 3 and the end
    expect(await exit).toBe(0);
    const lines = c.stderr().split('\n');
    expect(lines[0]).toContain(', heartbeat every 7s');
    expect(lines).toContain('[sim +25s] crash broker-0-1: broker-0-1/0@127.0.0.1:20913');
    expect(lines).toContain(
      '[sim +30s] round 2: registrations sent 1, acknowledged 1, failed 0; heartbeats sent 7, acknowledged 7, failed 0; brokers running 1, crashed 1',
    );
    expect(lines.at(-2)).toMatch(
      /^\[sim\] stopped after 60s \(duration 60s reached\): 3 round\(s\); .*unregistered 1\/1; 1 fault\(s\) injected$/,
    );
    expect(t.server.brokerSnapshots()).toHaveLength(0);
  });

  it('keeps running when a name server is down and says why registrations fail', async () => {
    const { c, exit, stop } = await startCli(['-n', `${addr};127.0.0.1:1`, '--brokers', '1']);
    expect(c.stderr()).toContain(
      '[sim +0s] round 1: registrations sent 2, acknowledged 1, failed 1; brokers running 1; errors: 127.0.0.1:1: connection refused (127.0.0.1:1)',
    );
    stop.abort('SIGTERM');
    expect(await exit).toBe(0);
    expect(c.stderr()).toContain('(SIGTERM)');
  });

  it.each([
    [['--clusters', '0'], '--clusters: must be between 1 and 1000, got 0'],
    [['--brokers', 'many'], '--brokers: expected a whole number, got "many"'],
    [['--interval', '-5'], '--interval: expected a number of seconds, got "-5"'],
    [['--crash', 'broker-0-0'], '--crash "broker-0-0": expected <broker>@<seconds>'],
    [['--partition', 'broker-0-0@soon'], '"soon" is not a number of seconds'],
    [['--restart', 'broker-9-9@5'], '--restart broker-9-9: no simulated broker is called that'],
    [['--heartbeat', '--brokerVersion', '4.9'], '--heartbeat needs --brokerVersion 5.x'],
    [['--heartbeatInterval', '5'], 'only apply with --heartbeat'],
    [['-n', 'nowhere'], 'bad name server address "nowhere" is not host:port'],
    [['--bogus'], 'unknown option --bogus'],
    [['extra'], 'unexpected argument "extra"'],
  ])('%j -> exit 2 with a one-line reason', async (argv, message) => {
    const c = capture();
    expect(await runSimulator(argv, {}, { ...c.io, timer: t.clock })).toBe(2);
    const [first, second] = c.stderr().split('\n');
    expect(first).toMatch(/^xnamesrv sim: /);
    expect(first).toContain(message);
    expect(second).toBe("Run 'xnamesrv sim --help' for usage.");
    expect(t.server.brokerSnapshots()).toHaveLength(0);
  });

  it('--help describes the options', async () => {
    const c = capture();
    expect(await runSimulator(['--help'], {}, c.io)).toBe(0);
    for (const flag of [
      '--clusters',
      '--brokers',
      '--replicas',
      '--topics',
      '--queues',
      '--interval',
      '--heartbeat',
      '--compressed',
      '--duration',
      '--crash',
      '--partition',
      '--restart',
      '--bump',
    ]) {
      expect(c.stdout()).toContain(flag);
    }
  });
});

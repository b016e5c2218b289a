import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { writeFileAtomic } from '../../src/util/atomicFile.js';
import { GatewayClient } from '../gateway/support.js';
import { getRoute, registerBroker } from '../support/broker.js';
import { until } from '../support/wait.js';
import { localServerArgs, startCli } from '../support/spawnedCli.js';
import { startObservedServer } from './support.js';

/**
 * Graceful shutdown under load: the requests a name server has read are
 * answered, the KV store is flushed, gateway clients are closed with 1001,
 * and the command exits 0 on SIGTERM.
 */

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

describe('graceful shutdown', () => {
  it('answers writes still waiting for the disk, flushes them, and closes gateway clients with 1001', async () => {
    // Each write waits until the test lets it reach the disk: the stop arrives while they are in flight.
    const gates: Array<() => void> = [];
    const writer = async (path: string, data: string) => {
      await new Promise<void>((resolve) => gates.push(resolve));
      await writeFileAtomic(path, data);
    };
    const t = await startObservedServer({}, { kvWriteFile: writer });
    let stopped = false;
    cleanups.push(async () => {
      if (!stopped) await t.stop();
    });
    const client = await t.client();
    await registerBroker(client, {
      brokerName: 'broker-a',
      brokerAddr: '127.0.0.1:20911',
      topics: { TopicA: {}, 'broker-a': {} },
    });
    const { client: ws } = await t.open();
    const { client: ws2 } = await t.open({ query: { topics: 'TopicA' } });

    const writes = Array.from({ length: 5 }, (_, i) =>
      client.invoke(RequestCode.PUT_KV_CONFIG, { namespace: 'ns', key: `k${i}`, value: `v${i}` }, null, 10_000),
    );
    await until(
      () => gates.length === 1 && t.server.inFlight.total() === 5,
      'five writes in flight, the first at the disk',
    );
    const closing = t.server.close('test: stop under load');
    await until(() => t.server.lifecycleState() === 'stopping', 'stopping');
    // Gateway clients are told first, with 1001.
    expect((await ws.closed).code).toBe(1001);
    expect((await ws2.closed).code).toBe(1001);
    // Release the disk one write at a time; every answer still comes.
    let released = 0;
    while (released < 5) {
      await until(() => gates.length > released, `write ${released} at the disk`);
      gates[released++]!();
    }
    const answers = await Promise.all(writes);
    expect(answers.map((a) => a.code)).toEqual([0, 0, 0, 0, 0]);
    await closing;
    stopped = true;
    expect(t.server.lifecycleState()).toBe('stopped');
    const stored = JSON.parse(await readFile(t.server.config.get().kvConfigPath, 'utf8'));
    expect(stored).toEqual({ configTable: { ns: { k0: 'v0', k1: 'v1', k2: 'v2', k3: 'v3', k4: 'v4' } } });
    await until(() => client.closed, 'the remoting connection closed after its answers');
    await rm(t.dataDir, { recursive: true, force: true });
  });

  it('on SIGTERM under load: answers what it read, flushes KV, closes gateway clients with 1001, exits 0', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'xnamesrv-shutdown-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const server = await startCli(localServerArgs(dataDir));
    cleanups.push(async () => void server.child.kill('SIGKILL'));

    const broker = await RemotingClient.connect({ host: '127.0.0.1', port: server.remotingPort });
    await registerBroker(broker, {
      brokerName: 'broker-a',
      brokerAddr: '127.0.0.1:20911',
      topics: { TopicA: {}, 'broker-a': {} },
    });
    const gateways = await Promise.all(
      Array.from({ length: 5 }, () => GatewayClient.open(server.httpPort, { query: { topics: 'TopicA' } })),
    );
    const writer = await RemotingClient.connect({ host: '127.0.0.1', port: server.remotingPort });
    const reader = await RemotingClient.connect({ host: '127.0.0.1', port: server.remotingPort });

    type Outcome = { kind: 'answered'; code: number } | { kind: 'cut' };
    const outcomes: Array<Promise<Outcome>> = [];
    const track = (p: Promise<{ code: number }>) =>
      outcomes.push(
        p.then(
          (r) => ({ kind: 'answered' as const, code: r.code }),
          () => ({ kind: 'cut' as const }),
        ),
      );
    let signalled = false;
    const puts = new Map<string, Promise<Outcome>>();
    // 200 writes and 200 reads pipelined; SIGTERM once the first write is acknowledged, with the rest still coming.
    for (let i = 0; i < 200; i++) {
      const put = writer.invoke(
        RequestCode.PUT_KV_CONFIG,
        { namespace: 'ns', key: `k${i}`, value: `v${i}` },
        null,
        10_000,
      );
      track(put);
      puts.set(`k${i}`, outcomes[outcomes.length - 1]!);
      track(getRoute(reader, 'TopicA'));
      if (i === 0) {
        void put.then(() => {
          signalled = true;
          server.child.kill('SIGTERM');
        });
      }
    }
    const exit = await server.exited;
    expect(signalled).toBe(true);
    expect(exit).toEqual({ code: 0, signal: null });
    for (const { client } of gateways) expect((await client.closed).code).toBe(1001);

    const results = await Promise.all(outcomes);
    const answered = results.filter((r): r is { kind: 'answered'; code: number } => r.kind === 'answered');
    // Nothing was refused on the way down: every answer that came is a success.
    expect(
      answered.every((r) => r.code === ResponseCode.SUCCESS),
      JSON.stringify(answered.filter((r) => r.code !== 0).slice(0, 3)),
    ).toBe(true);
    expect(answered.length).toBeGreaterThan(1);
    // Every acknowledged write is in the file.
    const stored = JSON.parse(await readFile(join(dataDir, 'kvConfig.json'), 'utf8')).configTable.ns as Record<
      string,
      string
    >;
    let acknowledged = 0;
    for (const [key, outcome] of puts) {
      const result = await outcome;
      if (result.kind === 'answered') {
        acknowledged++;
        expect(stored[key], key).toBe(key.replace('k', 'v'));
      }
    }
    expect(acknowledged).toBeGreaterThan(0);
    expect(server.stderr()).not.toMatch(/"level":(50|60)/);
    await Promise.all([broker.close(), writer.close(), reader.close()].map((p) => p.catch(() => undefined)));
  });
});

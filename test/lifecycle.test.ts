import { createServer } from 'node:net';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '../src/config/load.js';
import { NameServer, NameServerStartError } from '../src/nameServer.js';
import { silentLogger } from '../src/logging.js';
import { RequestCode, ResponseCode } from '../src/remoting/requestCode.js';
import { startTestServer, type TestServer } from './support/harness.js';
import { clusterInfo, getRoute, registerBroker } from './support/broker.js';
import { until } from './support/wait.js';

// Like a real broker, each registers its own name as a topic besides the
// business topics (a first registration carrying one topic is refused).
const brokerA = { brokerName: 'broker-a', brokerAddr: '127.0.0.1:20911', topics: { TopicTest: {}, 'broker-a': {} } };

let current: TestServer | undefined;
afterEach(async () => {
  await current?.stop();
  current = undefined;
});

async function start(settings: Record<string, string | number | boolean | string[]> = {}) {
  current = await startTestServer(settings);
  return current;
}

describe('name server lifecycle over the wire', () => {
  it('serves at once without needWaitForService', async () => {
    const t = await start();
    expect(t.server.lifecycleState()).toBe('ready');
    const client = await t.client();
    const miss = await getRoute(client, 'TopicTest');
    expect(miss.code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    expect(miss.remark).toBe(
      'No topic route info in name server for the topic: TopicTest\nSee http://rocketmq.apache.org/docs/faq/ for further details.',
    );
    expect((await t.http('/livez')).status).toBe(200);
    const ready = await t.http('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ state: 'ready', servingRoutes: true, degraded: false });
  });

  it('refuses route reads while waiting, accepts brokers and KV meanwhile, then serves (issue 9182 regression)', async () => {
    const t = await start({ needWaitForService: true });
    expect(t.server.lifecycleState()).toBe('waiting');
    const client = await t.client();
    const early = await getRoute(client, 'TopicTest');
    expect(early.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(early.remark).toBe('name server not ready');
    expect((await registerBroker(client, brokerA)).code).toBe(ResponseCode.SUCCESS);
    expect((await client.invoke(RequestCode.PUT_KV_CONFIG, { namespace: 'ns', key: 'k', value: 'v' })).code).toBe(
      ResponseCode.SUCCESS,
    );
    expect(Object.keys((await clusterInfo(client)).brokerAddrTable)).toEqual(['broker-a']);
    const waiting = await t.http('/readyz');
    expect(waiting.status).toBe(503);
    expect(waiting.body).toMatchObject({ state: 'waiting', detail: 'waiting.holding', servingRoutes: false });
    expect((await t.http('/livez')).status).toBe(200);

    t.clock.increment(44_999);
    expect((await getRoute(client, 'TopicTest')).remark).toBe('name server not ready');
    t.clock.increment(1);
    expect(t.server.lifecycleState()).toBe('ready');
    // 5.1.1 stopped checking after the first good read and answered "not ready" forever after.
    for (let i = 0; i < 5; i++) {
      const read = await getRoute(client, 'TopicTest');
      expect(read.code).toBe(ResponseCode.SUCCESS);
      t.clock.increment(30_000);
      expect((await registerBroker(client, brokerA)).code).toBe(ResponseCode.SUCCESS);
    }
    expect((await t.http('/readyz')).status).toBe(200);
  });

  it('holds for waitForBrokers after the minimum wait and becomes ready on the registration that meets it', async () => {
    const t = await start({ needWaitForService: true, waitForBrokers: 2 });
    const client = await t.client();
    await registerBroker(client, brokerA);
    t.clock.increment(45_000);
    expect(t.server.lifecycleState()).toBe('waiting');
    const probe = await t.http('/readyz');
    expect(probe.body.waitTarget.missing).toEqual(['1 more live broker(s) (have 1 of 2)']);
    expect(probe.body.detail).toBe('waiting.targetPending');
    await registerBroker(client, { ...brokerA, brokerName: 'broker-b', brokerAddr: '127.0.0.1:30911' });
    expect(t.server.lifecycleState()).toBe('ready');
  });

  it('times out and serves what is registered with waitTimeoutAction=serve, flagged degraded, then becomes ready', async () => {
    const t = await start({
      needWaitForService: true,
      waitForBrokerNames: ['DefaultCluster/broker-a'],
      waitTimeoutSeconds: 60,
    });
    const client = await t.client();
    // A slave of broker-a does not count as its live master; broker-b serves TopicTest.
    await registerBroker(client, { ...brokerA, brokerId: 1, brokerAddr: '127.0.0.1:20921' });
    await registerBroker(client, {
      ...brokerA,
      brokerName: 'broker-b',
      brokerAddr: '127.0.0.1:30911',
      topics: { TopicTest: {}, 'broker-b': {} },
    });
    t.clock.increment(60_000);
    expect(t.server.lifecycleState()).toBe('timedOut');
    const probe = await t.http('/readyz');
    expect(probe.status).toBe(200);
    expect(probe.body).toMatchObject({
      state: 'timedOut',
      detail: 'timedOut.serving',
      tags: ['live', 'ready', 'servingRoutes', 'degraded'],
      routesRefused: null,
      degraded: true,
      degradedReasons: [
        'wait for service timed out after 60 s (waitTimeoutAction=serve): serving the routes of the 2 live broker(s) registered; missing live master for DefaultCluster/broker-a',
      ],
      waitTarget: { met: false, missing: ['live master for DefaultCluster/broker-a'] },
    });
    expect((await t.http('/metrics')).text).toContain('xnamesrv_lifecycle_tag{tag="degraded"} 1');
    expect((await getRoute(client, 'TopicTest')).code).toBe(ResponseCode.SUCCESS);
    await registerBroker(client, brokerA);
    expect(t.server.lifecycleState()).toBe('ready');
    expect((await t.http('/readyz')).body.degraded).toBe(false);
  });

  it('keeps refusing after the timeout with waitTimeoutAction=refuse until the target is met', async () => {
    const t = await start({
      needWaitForService: true,
      waitForBrokers: 1,
      waitTimeoutSeconds: 50,
      waitTimeoutAction: 'refuse',
    });
    const client = await t.client();
    t.clock.increment(50_000);
    expect(t.server.lifecycleState()).toBe('timedOut');
    // Every surface says what the chart decided: refusing, why, and not degraded (nothing is served).
    const refusing = await t.http('/readyz');
    expect(refusing.status).toBe(503);
    expect(refusing.body).toMatchObject({
      state: 'timedOut',
      detail: 'timedOut.refusing',
      tags: ['live'],
      servingRoutes: false,
      routesRefused:
        'wait for service timed out after 50 s and waitTimeoutAction=refuse; missing 1 more live broker(s) (have 0 of 1)',
      degraded: false,
      degradedReasons: [],
      waitTimeoutAction: 'refuse',
    });
    expect((await t.http('/livez')).body).toMatchObject({
      detail: 'timedOut.refusing',
      degradedReasons: [],
      servingRoutes: false,
    });
    // The wait's two timers, on the server's clock, for countdowns.
    const wait = refusing.body.wait;
    expect(Date.parse(wait.holdingEndsAt) - Date.parse(wait.startedAt)).toBe(45_000);
    expect(Date.parse(wait.timeoutAt) - Date.parse(wait.startedAt)).toBe(50_000);
    expect(Date.parse(wait.timeoutAt)).toBe(t.clock.now());
    const metrics = (await t.http('/metrics')).text;
    expect(metrics).toContain('xnamesrv_lifecycle_state{state="timedOut"} 1');
    for (const [tag, value] of [
      ['live', 1],
      ['ready', 0],
      ['servingRoutes', 0],
      ['degraded', 0],
    ])
      expect(metrics).toContain(`xnamesrv_lifecycle_tag{tag="${tag}"} ${value}`);
    expect((await getRoute(client, 'TopicTest')).remark).toBe('name server not ready');
    await registerBroker(client, brokerA);
    expect(t.server.lifecycleState()).toBe('ready');
    expect((await getRoute(client, 'TopicTest')).code).toBe(ResponseCode.SUCCESS);
  });

  it('expires a broker that stops refreshing and drops a broker whose connection closes', async () => {
    const t = await start();
    const client = await t.client();
    await registerBroker(client, { ...brokerA, heartbeatTimeoutMillis: 10_000 });
    const other = await t.client();
    await registerBroker(other, {
      ...brokerA,
      brokerName: 'broker-b',
      brokerAddr: '127.0.0.1:30911',
      topics: { Other: {}, 'broker-b': {} },
    });
    t.clock.increment(9_999);
    expect((await getRoute(client, 'TopicTest')).code).toBe(ResponseCode.SUCCESS);
    t.clock.increment(1);
    expect((await getRoute(client, 'TopicTest')).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    await other.close();
    await until(async () => (await getRoute(client, 'Other')).code === ResponseCode.TOPIC_NOT_EXIST, 'Other is gone');
    expect((await clusterInfo(client)).brokerAddrTable).toEqual({});
    expect(t.server.lifecycleState()).toBe('ready');
  });

  it('fails to start when the remoting port is taken, with the reason', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const dataDir = await mkdtemp(join(tmpdir(), 'xnamesrv-test-'));
    try {
      const loaded = loadConfig({
        argv: ['--data-dir', dataDir, '--listenPort', String(port), '--httpPort', '0', '--bindAddress', '127.0.0.1'],
        env: {},
        homeDir: dataDir,
      });
      if (!loaded.ok) throw new Error(loaded.errors.join());
      await expect(NameServer.start({ config: loaded.config, logger: silentLogger() })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      blocker.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses to start on a corrupt KV file, naming it, and leaves the file alone', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'xnamesrv-test-'));
    const kvPath = join(dataDir, 'kvConfig.json');
    await writeFile(kvPath, '{"configTable": {"ns": ');
    try {
      const loaded = loadConfig({
        argv: ['--data-dir', dataDir, '--listenPort', '0', '--httpPort', '0', '--bindAddress', '127.0.0.1'],
        env: {},
        homeDir: dataDir,
      });
      if (!loaded.ok) throw new Error(loaded.errors.join());
      const failure = NameServer.start({ config: loaded.config, logger: silentLogger() });
      await expect(failure).rejects.toBeInstanceOf(NameServerStartError);
      await expect(failure).rejects.toThrow(kvPath);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('logs every lifecycle transition with from, to and cause, and the missing target on timeout', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    current = await startTestServer(
      { needWaitForService: true, waitForBrokers: 1, waitTimeoutSeconds: 60 },
      { logger },
    );
    current.clock.increment(60_000);
    const transitions = lines.filter((l) => typeof l.to === 'string').map((l) => [l.from, l.to, l.cause]);
    expect(transitions).toEqual([
      [null, 'starting', 'xstate.init'],
      ['starting', 'waiting.holding', 'xstate.done.actor.0.nameServer.starting'],
      ['waiting.holding', 'waiting.targetPending', 'xstate.after.waitForService.nameServer.waiting.holding'],
      ['waiting.targetPending', 'timedOut.serving', 'xstate.after.waitTimeout.nameServer.waiting'],
    ]);
    const timedOut = lines.find((l) => l.to === 'timedOut.serving')!;
    expect(timedOut.tags).toEqual(['degraded', 'live', 'ready', 'servingRoutes']);
    expect(timedOut.level).toBe(40);
    expect(timedOut.missing).toEqual(['1 more live broker(s) (have 0 of 1)']);
  });

  it('stops gracefully: stopping then stopped, listeners closed', async () => {
    const t = await start();
    const client = await t.client();
    const states: string[] = [];
    t.server.transitions.onTransition((tr) => {
      if (tr.machine === 'nameServer') states.push(`${tr.from}->${tr.to}:${tr.event}`);
    });
    await t.server.close('test stop');
    expect(states).toEqual([
      'ready->stopping.serving:STOP',
      'stopping.serving->stopped:xstate.done.actor.0.nameServer.stopping',
    ]);
    expect(t.server.lifecycle()).toMatchObject({ state: 'stopped', reason: 'test stop' });
    await until(() => client.closed, 'the client saw the close');
    current = undefined;
  });
});

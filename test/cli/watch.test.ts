import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { parseAddressList } from '../../src/admin/address.js';
import { defaultGatewayUrl, formatGatewayMessage } from '../../src/admin/watch.js';
import { runAdmin } from '../../src/cli/admin.js';
import { startTestServer, type TestServer } from '../support/harness.js';
import { registerBroker } from '../support/broker.js';
import { capture } from './support.js';

const brokerA = { brokerName: 'broker-a', brokerAddr: '127.0.0.1:20911', topics: { TopicTest: {}, 'broker-a': {} } };

let t: TestServer | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

function gatewayOf(server: TestServer): string {
  return `ws://127.0.0.1:${server.server.httpPort}/ws`;
}

describe('admin watch against the gateway', () => {
  it('prints the snapshot, broker transitions and waiting -> ready, one line each, until stopped', async () => {
    t = await startTestServer({ needWaitForService: true, waitForBrokers: 1, waitSecondsForService: 10 });
    const stop = new AbortController();
    const c = capture(stop.signal);
    const done = runAdmin(['watch', '--gateway', gatewayOf(t)], {}, c.io);
    await c.until(/connected to xnamesrv .*state waiting/);
    expect(c.stdout()).toContain(
      '0 live broker(s), routes refused: waiting 10 s (waitSecondsForService) for brokers to register; missing 1 more live broker(s) (have 0 of 1)',
    );

    await registerBroker(await t.client(), brokerA);
    await c.until(/broker DefaultCluster\/broker-a\/0 127\.0\.0\.1:20911 {2}\(new\) -> registered/);
    t.clock.increment(10_000);
    await c.until(/nameServer {2}waiting\.\S+ -> ready {2}\(\S+\) {2}\[live,ready,servingRoutes\]/);

    stop.abort('SIGINT');
    expect(await done).toBe(0);
    const lines = c.stdout().trimEnd().split('\n');
    expect(lines.every((line) => /^\d{4}-\d\d-\d\dT/.test(line))).toBe(true);
    expect(c.stderr()).toBe('');
  });

  it('--json prints each message as received; --count stops after n messages', async () => {
    t = await startTestServer();
    await registerBroker(await t.client(), brokerA);
    const c = capture();
    expect(await runAdmin(['watch', '--gateway', gatewayOf(t), '--json', '--count', '1'], {}, c.io)).toBe(0);
    const messages = c
      .stdout()
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      type: 'hello',
      brokers: [expect.objectContaining({ brokerName: 'broker-a', state: 'registered' })],
    });
  });

  it('--topic adds route changes', async () => {
    t = await startTestServer();
    const stop = new AbortController();
    const c = capture(stop.signal);
    const done = runAdmin(['watch', '--gateway', gatewayOf(t), '-t', 'TopicTest'], {}, c.io);
    await c.until(/connected to xnamesrv/);
    await registerBroker(await t.client(), brokerA);
    await c.until(/route TopicTest {2}\(\w+\) {2}broker-a\[0\] r4\/w4\/perm6/);
    stop.abort();
    expect(await done).toBe(0);
  });

  it('--changes hides refreshes', async () => {
    t = await startTestServer();
    const stop = new AbortController();
    const c = capture(stop.signal);
    const done = runAdmin(['watch', '--gateway', gatewayOf(t), '--changes'], {}, c.io);
    await c.until(/connected to xnamesrv/);
    const client = await t.client();
    await registerBroker(client, brokerA);
    await registerBroker(client, brokerA);
    await registerBroker(client, { ...brokerA, brokerName: 'broker-b', brokerAddr: '127.0.0.1:20931' });
    await c.until(/broker-b\/0 127\.0\.0\.1:20931 {2}\(new\) -> registered/);
    stop.abort();
    expect(await done).toBe(0);
    expect(c.stdout()).toContain('broker-a/0 127.0.0.1:20911  (new) -> registered');
    expect(c.stdout()).not.toContain('registered -> registered');
  });

  it('says when the connection is lost and keeps trying until stopped', async () => {
    t = await startTestServer();
    const stop = new AbortController();
    const c = capture(stop.signal);
    const done = runAdmin(['watch', '--gateway', gatewayOf(t)], {}, c.io);
    await c.until(/connected to xnamesrv/);
    await t.stop();
    t = undefined;
    await c.until(/gateway connection lost \(.+\); reconnecting/, 'stderr');
    stop.abort();
    expect(await done).toBe(0);
  });

  it('an unreachable or refusing gateway is exit 2 with the reason', async () => {
    const unreachable = capture();
    expect(await runAdmin(['watch', '--gateway', 'ws://127.0.0.1:1/ws'], {}, unreachable.io)).toBe(2);
    expect(unreachable.stderr()).toBe(
      'xnamesrv admin: cannot reach the gateway at ws://127.0.0.1:1/ws (connection refused)\n',
    );

    t = await startTestServer();
    const refused = capture();
    expect(await runAdmin(['watch', '--gateway', gatewayOf(t), '--streams', 'nonsense'], {}, refused.io)).toBe(2);
    expect(refused.stderr()).toMatch(
      /^xnamesrv admin: gateway ws:\/\/127\.0\.0\.1:\d+\/ws refused the connection: HTTP 400: unknown stream "nonsense"/,
    );
  });
});

it('reconnects after a drop and resumes after the last sequence number it saw', async () => {
  const urls: string[] = [];
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  const server = { name: 'xnamesrv', version: '0.1.0', instanceId: 'i-1' };
  const lifecycle = {
    state: 'ready',
    detail: 'ready',
    since: Date.UTC(2026, 0, 1),
    waitTarget: { met: true, liveBrokers: 0, missing: [] },
  };
  const transition = (seq: number, to: string) =>
    JSON.stringify({
      type: 'transition',
      seq,
      at: Date.UTC(2026, 0, 1, 0, 0, seq),
      actorId: 'nameServer',
      machine: 'nameServer',
      from: 'x',
      to,
      event: 'E',
      context: {},
    });
  wss.on('connection', (ws, request) => {
    urls.push(request.url ?? '');
    if (urls.length === 1) {
      ws.send(JSON.stringify({ type: 'hello', seq: 5, server, lifecycle, brokers: [] }));
      ws.send(transition(6, 'six'));
      ws.send(JSON.stringify({ type: 'route', seq: 6, at: 0, topic: 'T', cause: 'register', route: null }));
      setImmediate(() => ws.terminate());
    } else {
      ws.send(JSON.stringify({ type: 'hello', seq: 8, server, lifecycle, brokers: [] }));
      ws.send(JSON.stringify({ type: 'route', seq: 6, at: 0, topic: 'T', cause: 'register', route: null }));
      ws.send(transition(7, 'seven'));
      ws.send(transition(8, 'eight'));
      ws.send(
        JSON.stringify({ type: 'response', id: null, op: 'resume', result: { seq: 8, replayed: 2, reset: false } }),
      );
    }
  });
  try {
    const c = capture();
    const port = (wss.address() as AddressInfo).port;
    expect(
      await runAdmin(['watch', '--gateway', `ws://127.0.0.1:${port}/ws`, '-t', 'T', '--count', '6'], {}, c.io),
    ).toBe(0);
    expect(urls[1]).toBe('/ws?topics=T&streams=lifecycle%2Cbrokers%2Croutes&lastSeq=6&instanceId=i-1');
    const lines = c.stdout().trimEnd().split('\n');
    expect(lines.map((l) => l.replace(/^\S+ {2}/, ''))).toEqual([
      'connected to xnamesrv 0.1.0, state ready, 0 live broker(s)',
      'nameServer  x -> six  (E)',
      'route T  (register)  no route',
      'connected to xnamesrv 0.1.0, state ready, 0 live broker(s)',
      // The replayed route of seq 6 was already shown.
      'nameServer  x -> seven  (E)',
      'nameServer  x -> eight  (E)',
    ]);
    expect(c.stderr()).toMatch(/^xnamesrv admin watch: gateway connection lost \(.+\); reconnecting\n$/);
  } finally {
    await new Promise((resolve) => wss.close(resolve));
  }
});

it('defaults the gateway to port 9877 on the host of the first -n address', () => {
  const addrs = (text: string) => {
    const parsed = parseAddressList(text);
    if (!parsed.ok) throw new Error(parsed.error);
    return parsed.addrs;
  };
  expect(defaultGatewayUrl(addrs('10.0.0.5:9876;10.0.0.6:9876'))).toBe('ws://10.0.0.5:9877/ws');
  expect(defaultGatewayUrl(addrs('[::1]:9876'))).toBe('ws://[::1]:9877/ws');
});

describe('formatGatewayMessage', () => {
  it('formats transitions, routes, errors and unknown messages on one line each', () => {
    const at = Date.UTC(2026, 0, 1);
    expect(
      formatGatewayMessage({
        type: 'transition',
        seq: 3,
        at,
        actorId: 'nameServer',
        machine: 'nameServer',
        from: 'waiting.targetPending',
        to: 'ready',
        tags: ['live', 'ready', 'servingRoutes'],
        event: 'BROKER.LIVE',
        context: { liveBrokers: 2 },
      }),
    ).toBe(
      '2026-01-01T00:00:00.000Z  nameServer  waiting.targetPending -> ready  (BROKER.LIVE)  [live,ready,servingRoutes]  liveBrokers=2\n',
    );
    expect(
      formatGatewayMessage({
        type: 'hello',
        server: { name: 'xnamesrv', version: '0.1.0' },
        lifecycle: {
          state: 'timedOut',
          detail: 'timedOut.refusing',
          since: at,
          routesRefused: 'wait for service timed out after 50 s and waitTimeoutAction=refuse',
          degraded: [],
          waitTarget: { missing: ['x'] },
        },
        brokers: [],
      }),
    ).toBe(
      '2026-01-01T00:00:00.000Z  connected to xnamesrv 0.1.0, state timedOut (timedOut.refusing), 0 live broker(s), routes refused: wait for service timed out after 50 s and waitTimeoutAction=refuse\n',
    );
    expect(
      formatGatewayMessage({
        type: 'transition',
        at,
        machine: 'broker',
        from: 'registered',
        to: 'expired',
        event: 'xstate.after.heartbeatTimeout',
        context: { clusterName: 'C', brokerName: 'b', brokerAddr: '1.2.3.4:5', brokerId: 1, generation: 2 },
      }),
    ).toBe(
      '2026-01-01T00:00:00.000Z  broker C/b/1 1.2.3.4:5  registered -> expired  (xstate.after.heartbeatTimeout)  generation=2\n',
    );
    expect(formatGatewayMessage({ type: 'route', at, topic: 'T', cause: 'unregister', route: null })).toBe(
      '2026-01-01T00:00:00.000Z  route T  (unregister)  no route\n',
    );
    expect(formatGatewayMessage({ type: 'error', code: 'bad_request', message: 'nope' })).toBe(
      '-  gateway error bad_request: nope\n',
    );
    expect(formatGatewayMessage({ type: 'response', id: null, op: 'resume', result: {} })).toBe('');
    expect(formatGatewayMessage({ type: 'novel', at, x: 1 })).toBe(
      '2026-01-01T00:00:00.000Z  novel  {"type":"novel","at":1767225600000,"x":1}\n',
    );
  });
});

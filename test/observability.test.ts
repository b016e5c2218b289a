import { wsMessageText } from '../src/util/wsText.js';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { createWebSocketReceiver } from '@statelyai/inspect';
import { createMachine } from 'xstate';
import { startTestServer, type TestServer } from './support/harness.js';
import { getRoute, registerBroker } from './support/broker.js';
import { until } from './support/wait.js';

const brokerA = { brokerName: 'broker-a', brokerAddr: '127.0.0.1:20911', topics: { TopicTest: {}, 'broker-a': {} } };

let t: TestServer | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

describe('GET /metrics', () => {
  it('counts requests by code and result, latency, broker states, transitions and lifecycle', async () => {
    t = await startTestServer();
    const client = await t.client();
    await registerBroker(client, brokerA);
    await getRoute(client, 'TopicTest');
    await getRoute(client, 'Missing');
    await client.invoke(4242);
    const metrics = await t.http('/metrics');
    expect(metrics.status).toBe(200);
    const text = metrics.text;
    expect(text).toContain('xnamesrv_requests_total{code="105",request="GET_ROUTEINFO_BY_TOPIC",result="SUCCESS"} 1');
    expect(text).toContain(
      'xnamesrv_requests_total{code="105",request="GET_ROUTEINFO_BY_TOPIC",result="TOPIC_NOT_EXIST"} 1',
    );
    expect(text).toContain('xnamesrv_requests_total{code="103",request="REGISTER_BROKER",result="SUCCESS"} 1');
    expect(text).toMatch(
      /xnamesrv_requests_total\{code="4242",request="UNKNOWN_4242",result="REQUEST_CODE_NOT_SUPPORTED"\} 1/,
    );
    expect(text).toContain('xnamesrv_request_duration_seconds_count{request="GET_ROUTEINFO_BY_TOPIC"} 2');
    expect(text).toContain('xnamesrv_live_brokers{state="registered"} 1');
    expect(text).toContain('xnamesrv_lifecycle_state{state="ready"} 1');
    expect(text).toContain('xnamesrv_transitions_total{machine="broker",to="registered"} 1');
    expect(text).toContain('xnamesrv_route_table{item="topics"} 2');
    expect(text).toContain('xnamesrv_gateway_clients');
  });

  it('keeps two servers in one process apart', async () => {
    t = await startTestServer();
    const other = await startTestServer();
    try {
      await getRoute(await t.client(), 'X');
      expect((await other.http('/metrics')).text).not.toContain('request="GET_ROUTEINFO_BY_TOPIC"');
    } finally {
      await other.stop();
    }
  });

  it("adds the process's runtime series and xnamesrv_build_info", async () => {
    t = await startTestServer();
    await t.http('/metrics'); // the event-loop lag is measured after a scrape, reported at the next
    const text = (await t.http('/metrics')).text;
    for (const name of [
      'nodejs_eventloop_lag_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'process_cpu_seconds_total',
      'nodejs_active_handles_total',
    ]) {
      expect(text).toMatch(new RegExp(`^${name} \\d`, 'm'));
    }
    expect(text).toContain('# TYPE nodejs_gc_duration_seconds histogram');
    const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(text).toContain(`xnamesrv_build_info{version="${version}",node="${process.version}"} 1`);
  });

  it('gives two servers in one process the same runtime series, made once', async () => {
    t = await startTestServer();
    const other = await startTestServer();
    try {
      for (const server of [t, other]) {
        const { status, text } = await server.http('/metrics');
        expect(status).toBe(200);
        expect(text).toContain('# TYPE nodejs_heap_size_used_bytes gauge');
        expect(text).toMatch(/^xnamesrv_build_info\{.*\} 1$/m);
      }
      const gcOf = (server: TestServer) => server.server.metrics.registry.getSingleMetric('nodejs_gc_duration_seconds');
      expect(gcOf(t)).toBeDefined();
      expect(gcOf(other)).toBe(gcOf(t));
    } finally {
      await other.stop();
    }
  });

  it('lets a stopped name server be garbage collected: the runtime collectors hold nothing of it', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    let server: TestServer | undefined = await startTestServer();
    await server.http('/metrics');
    const stopped = new WeakRef(server.server);
    await server.stop();
    // Drop the last reference, so the collector may take the server.
    // eslint-disable-next-line no-useless-assignment
    server = undefined;
    for (let i = 0; i < 20 && stopped.deref(); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      gc();
    }
    expect(stopped.deref(), 'a stopped name server is still reachable from something process-wide').toBeUndefined();
  });

  it('keeps no process alive with its runtime collectors', async () => {
    // A child process that scrapes the compiled metrics (dist/, built by npm test's tsc step)
    // twice and must then exit on its own.
    const script = `
      import { NameServerMetrics } from ${JSON.stringify(new URL('../dist/src/http/metrics.js', import.meta.url).href)};
      const metrics = new NameServerMetrics({ lifecycleState: () => 'ready', brokerStates: () => [], routeStats: () => ({ topics: 0, brokerNames: 0, clusters: 0, cachedRoutes: 0, cachedRouteBytes: 0 }) });
      await metrics.render();
      console.log((await metrics.render()).includes('nodejs_eventloop_lag_seconds') ? 'runtime series' : 'no runtime series');
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 10_000,
    });
    expect(stdout.trim()).toBe('runtime series');
  });
});

describe('GET /machines', () => {
  it('lists the machines and returns definitions xstate can load back', async () => {
    t = await startTestServer();
    const list = await t.http('/machines');
    expect(list.body.machines.map((m: { id: string }) => m.id)).toEqual(['nameServer', 'broker']);
    const nameServer = await t.http('/machines/nameServer');
    expect(nameServer.status).toBe(200);
    expect(Object.keys(nameServer.body.states)).toEqual([
      'starting',
      'waiting',
      'timedOut',
      'ready',
      'stopping',
      'stopped',
      'failed',
    ]);
    // The JSON is a full state machine config: xstate itself accepts it.
    const reloaded = createMachine(nameServer.body);
    expect(Object.keys(reloaded.root.states)).toContain('timedOut');
    const broker = await t.http('/machines/broker');
    expect(Object.keys(broker.body.states)).toEqual(['registered', 'expired', 'unregistered', 'disconnected']);
    expect((await t.http('/machines/nope')).status).toBe(404);
  });
});

describe('--inspect', () => {
  it('streams actor events and snapshots to a Stately WebSocket inspector', async () => {
    const relay = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => relay.once('listening', resolve));
    const url = `ws://127.0.0.1:${(relay.address() as { port: number }).port}`;
    // The relay plays the inspector server: it forwards what the app sends to receivers.
    const sockets = new Set<WebSocket>();
    relay.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('message', (data) => {
        for (const other of sockets) if (other !== socket) other.send(wsMessageText(data));
      });
      socket.on('close', () => sockets.delete(socket));
    });
    const received: Array<{ type: string; sessionId?: string; event?: { type: string } }> = [];
    const receiver = createWebSocketReceiver({ server: url });
    receiver.subscribe((event) => received.push(event));
    await until(() => sockets.size === 1, 'the receiver connected');
    try {
      t = await startTestServer({}, { inspectUrl: url });
      const client = await t.client();
      await registerBroker(client, brokerA);
      await until(
        () => received.some((e) => e.type === '@xstate.event' && e.event?.type === 'BROKER.REGISTERED'),
        'the receiver got BROKER.REGISTERED',
      );
      expect(received.some((e) => e.type === '@xstate.actor')).toBe(true);
      expect(received.some((e) => e.type === '@xstate.snapshot')).toBe(true);
      await t.stop();
      t = undefined;
    } finally {
      for (const socket of sockets) socket.terminate();
      await new Promise((resolve) => relay.close(resolve));
    }
  });
});

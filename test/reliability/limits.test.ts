import { get as httpGet } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { LIMIT_NAMES, type LimitName } from '../../src/observe/limits.js';
import { OVERLOAD_REMARK } from '../../src/processors/inFlightLimit.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { writeFileAtomic } from '../../src/util/atomicFile.js';
import { registerBroker } from '../support/broker.js';
import { refusedUpgrade } from '../gateway/support.js';
import { LEVEL } from '../support/logCapture.js';
import { jsonHeaderFrame, rawFrame } from '../support/frames.js';
import { RawPeer } from '../support/rawPeer.js';
import { until } from '../support/wait.js';
import { startObservedServer, type ObservedServer } from './support.js';

/**
 * Every configurable cap: what happens at the limit, that it is counted in
 * `xnamesrv_limit_hits_total{limit=<config key>}`, and that each offender is
 * logged once (a warn line naming the limit), however often it hits it.
 */

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

async function start(
  settings: Record<string, string | number | boolean> = {},
  options: Parameters<typeof startObservedServer>[1] = {},
): Promise<ObservedServer> {
  const t = await startObservedServer(settings, { level: 'info', ...options });
  cleanups.push(() => t.stop());
  return t;
}

/** GET on a fresh connection that is closed afterwards (no keep-alive pool holding connections open). */
function getOnce(port: number, path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = httpGet(
      { host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close' } },
      (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    request.on('error', reject);
  });
}

async function limitHits(t: ObservedServer): Promise<Record<string, number>> {
  const { text } = await getOnce(t.server.httpPort, '/metrics');
  const out: Record<string, number> = {};
  for (const match of text.matchAll(/^xnamesrv_limit_hits_total\{limit="(\w+)"\} (\d+)$/gm))
    out[match[1]!] = Number(match[2]);
  return out;
}

function limitLogs(t: ObservedServer, limit: LimitName) {
  return t.lines.filter((line) => line.level === LEVEL.warn && line.limit === limit);
}

describe('the limits table in /metrics', () => {
  it('exports every limit, at 0 until hit', async () => {
    const t = await start();
    const hits = await limitHits(t);
    expect(Object.keys(hits).sort()).toEqual([...LIMIT_NAMES].sort());
    expect(Object.values(hits).every((n) => n === 0)).toBe(true);
  });
});

describe('remoting port limits', () => {
  it('remotingMaxConnections: closes connections over the limit as they are accepted, counted, logged once per peer; serves again when one leaves', async () => {
    const t = await start({ remotingMaxConnections: 3 });
    const port = t.server.remotingPort;
    const held = await Promise.all([RawPeer.open(port), RawPeer.open(port), RawPeer.open(port)]);
    await until(() => t.server.remoting.connections() === 3, 'three connections open');
    for (let i = 0; i < 2; i++) {
      const over = await RawPeer.open(port);
      await over.waitForClose();
      expect(over.closedByServer).toBe(true);
    }
    expect(t.server.remoting.connections()).toBe(3);
    held[0].destroy();
    await until(() => t.server.remoting.connections() === 2, 'one connection gone');
    const client = await t.client();
    expect((await client.invoke(RequestCode.GET_BROKER_CLUSTER_INFO)).code).toBe(ResponseCode.SUCCESS);
    const hits = await limitHits(t);
    expect(hits.remotingMaxConnections).toBe(2);
    const logs = limitLogs(t, 'remotingMaxConnections');
    expect(logs.length).toBe(1);
    expect(logs[0]!.msg).toMatch(
      /^limit remotingMaxConnections=3 reached by 127\.0\.0\.1: remoting connection closed on accept/,
    );
    const { text } = await getOnce(t.server.httpPort, '/metrics');
    expect(text).toMatch(/^xnamesrv_remoting_connections 3$/m);
    for (const peer of held) peer.destroy();
  });

  it('remotingMaxBufferedBytes: closes the connection whose partial frame takes the total past the limit; the others keep theirs', async () => {
    const t = await start({ maxFrameLength: 1024, remotingMaxBufferedBytes: 4096 });
    const port = t.server.remotingPort;
    // A whole frame of 1024 bytes (GET_BROKER_CLUSTER_INFO, its header padded); each peer sends its first 1000.
    const whole = jsonHeaderFrame(`{"code":106,"opaque":7${' '.repeat(1016 - 23)}}`);
    expect(whole.length).toBe(1024);
    const partial = whole.subarray(0, 1000);
    const peers: RawPeer[] = [];
    for (let i = 0; i < 4; i++) {
      const peer = await RawPeer.open(port);
      peer.write(partial);
      peers.push(peer);
      await until(() => t.server.remoting.bufferedBytes() === 1000 * (i + 1), `${i + 1} partial frames held`);
    }
    for (let i = 0; i < 2; i++) {
      const over = await RawPeer.open(port);
      over.write(partial);
      await over.waitForClose();
      expect(over.closedByServer).toBe(true);
      expect(t.server.remoting.bufferedBytes()).toBe(4000);
    }
    expect(peers.every((peer) => !peer.isClosed)).toBe(true);
    // A held frame that completes is served, and its bytes are released.
    const finishing = peers[0]!;
    finishing.write(whole.subarray(1000));
    const [answer] = await finishing.waitForFrames(1);
    expect(answer).toMatchObject({ code: ResponseCode.SUCCESS, opaque: 7 });
    await until(() => t.server.remoting.bufferedBytes() === 3000, 'its bytes released');
    for (const peer of peers) peer.destroy();
    await until(() => t.server.remoting.bufferedBytes() === 0, 'every partial frame released');
    expect((await limitHits(t)).remotingMaxBufferedBytes).toBe(2);
    expect(limitLogs(t, 'remotingMaxBufferedBytes').length).toBe(1);
    const client = await t.client();
    expect((await client.invoke(RequestCode.GET_BROKER_CLUSTER_INFO)).code).toBe(ResponseCode.SUCCESS);
  });

  it('maxFrameLength: closes the connection at the length word, counted every time, logged once per peer', async () => {
    const t = await start({ maxFrameLength: 2048 });
    for (let i = 0; i < 3; i++) {
      const peer = await RawPeer.open(t.server.remotingPort);
      peer.write(rawFrame(2045, 10));
      await peer.waitForClose();
      expect(peer.closedByServer).toBe(true);
    }
    expect((await limitHits(t)).maxFrameLength).toBe(3);
    const logs = limitLogs(t, 'maxFrameLength');
    expect(logs.length).toBe(1);
    expect(logs[0]!.msg).toMatch(
      /^limit maxFrameLength=2048 reached by 127\.0\.0\.1: connection closed: frame length 2045 exceeds the maximum frame length 2048/,
    );
    const { text } = await getOnce(t.server.httpPort, '/metrics');
    expect(text).toMatch(/^xnamesrv_remoting_protocol_errors_total 3$/m);
  });
});

describe('maxInFlightRequestsPerConnection', () => {
  it('answers SYSTEM_BUSY beyond the limit on that connection only, counts every refusal, logs the connection once, and recovers', async () => {
    const gates: Array<() => void> = [];
    const writer = async (path: string, data: string) => {
      await new Promise<void>((resolve) => gates.push(resolve));
      await writeFileAtomic(path, data);
    };
    const t = await start({ maxInFlightRequestsPerConnection: 3 }, { kvWriteFile: writer });
    const busy = await t.client();
    const other = await t.client();
    const put = (client: typeof busy, key: string) =>
      client.invoke(RequestCode.PUT_KV_CONFIG, { namespace: 'ns', key, value: key }, null, 10_000);

    const accepted = [put(busy, 'a'), put(busy, 'b'), put(busy, 'c')];
    const refused = await Promise.all([
      put(busy, 'd'),
      put(busy, 'e'),
      busy.invoke(RequestCode.GET_KV_CONFIG, { namespace: 'ns', key: 'a' }),
    ]);
    for (const answer of refused) {
      expect(answer.code).toBe(ResponseCode.SYSTEM_BUSY);
      expect(answer.remark).toMatch(
        /^\[OVERLOAD\]system busy, start flow control for a while: 3 requests of this connection are waiting for their answer \(maxInFlightRequestsPerConnection=3\)$/,
      );
      expect(answer.remark!.startsWith(OVERLOAD_REMARK)).toBe(true);
    }
    expect(t.server.inFlight.total()).toBe(3);
    // Another connection has its own allowance.
    const fromOther = put(other, 'f');
    await until(() => t.server.inFlight.total() === 4, "the other connection's write in flight");

    let released = 0;
    while (released < 4) {
      await until(() => gates.length > released, `write ${released} at the disk`);
      gates[released++]!();
    }
    expect((await Promise.all([...accepted, fromOther])).map((a) => a.code)).toEqual([0, 0, 0, 0]);
    expect(t.server.inFlight.total()).toBe(0);
    // The connection is served again once its answers are out.
    const later = put(busy, 'g');
    await until(() => gates.length > released, 'the next write at the disk');
    gates[released++]!();
    expect((await later).code).toBe(ResponseCode.SUCCESS);
    expect(t.server.kv.get('ns', 'd')).toBeUndefined();

    expect((await limitHits(t)).maxInFlightRequestsPerConnection).toBe(3);
    const logs = limitLogs(t, 'maxInFlightRequestsPerConnection');
    expect(logs.length).toBe(1);
    expect(logs[0]!.msg).toMatch(
      /^limit maxInFlightRequestsPerConnection=3 reached by connection \d+ \(127\.0\.0\.1\): request answered SYSTEM_BUSY/,
    );
  });
});

describe('httpMaxConnections', () => {
  it('closes HTTP connections over the limit as they are accepted, counts them, logs the peer once, and serves again when one leaves', async () => {
    const t = await start({ httpMaxConnections: 3, gatewayMaxClients: 1 });
    const port = t.server.httpPort;
    // A gateway client and two idle HTTP connections fill the port.
    const { client: ws } = await t.open();
    const idle = await Promise.all([RawPeer.open(port), RawPeer.open(port)]);
    for (let i = 0; i < 2; i++) {
      const over = await RawPeer.open(port);
      await over.waitForClose();
      expect(over.closedByServer).toBe(true);
    }
    expect(ws.ws.readyState).toBe(ws.ws.OPEN);
    idle[0].destroy();
    await idle[0].closed;
    await until(
      async () => (await getOnce(port, '/livez').catch(() => ({ status: 0 }))).status === 200,
      'a probe gets through',
    );
    expect((await limitHits(t)).httpMaxConnections).toBeGreaterThanOrEqual(2);
    expect(limitLogs(t, 'httpMaxConnections').length).toBe(1);
    idle[1].destroy();
  });
});

describe('gateway limits', () => {
  it('gatewayMaxClients: refuses further upgrades with 503 and retry-after, counted, logged once per peer', async () => {
    const t = await start({ gatewayMaxClients: 2 });
    const first = await t.open();
    await t.open();
    for (let i = 0; i < 3; i++) {
      const refused = await refusedUpgrade(t.server.httpPort);
      expect(refused).toEqual({ status: 503, body: 'too many gateway clients (gatewayMaxClients=2)\n' });
    }
    expect((await limitHits(t)).gatewayMaxClients).toBe(3);
    expect(limitLogs(t, 'gatewayMaxClients').length).toBe(1);
    expect(t.server.gateway.stats().rejectedUpgrades).toBe(3);
    await first.client.close();
    await until(() => t.server.gateway.stats().clients === 1, 'the first client gone');
    await t.open();
  });

  it('gatewayMaxSubscriptionsPerClient: refuses the subscribe that would pass it with limit_exceeded, counted, logged once per client', async () => {
    const t = await start({ gatewayMaxSubscriptionsPerClient: 3 });
    const { client } = await t.open({ query: { topics: 'a,b' } });
    expect((await client.request('subscribe', { topics: ['c'] })).type).toBe('response');
    for (let i = 0; i < 2; i++) {
      const over = await client.request('subscribe', { clusters: [`C${i}`] });
      expect(over).toMatchObject({
        type: 'error',
        code: 'limit_exceeded',
        message: 'at most 3 cluster, broker and topic filters per client (holds 3, this adds 1)',
      });
    }
    expect((await client.request('getBrokers')).type).toBe('response');
    expect((await limitHits(t)).gatewayMaxSubscriptionsPerClient).toBe(2);
    expect(limitLogs(t, 'gatewayMaxSubscriptionsPerClient').length).toBe(1);
    // Asking for too many on the upgrade is refused with 400, and counted the same way.
    expect((await refusedUpgrade(t.server.httpPort, { query: { topics: 'a,b,c,d' } })).status).toBe(400);
    expect((await limitHits(t)).gatewayMaxSubscriptionsPerClient).toBe(3);
  });

  it('replayBufferSize: a resume from before what is kept gets a reset (never a gap), counted, logged once per client', async () => {
    const t = await start({ replayBufferSize: 2 });
    const { client, hello } = await t.open();
    const tcp = await t.client();
    for (let i = 0; i < 4; i++)
      await registerBroker(tcp, {
        brokerName: `b${i}`,
        brokerAddr: `127.0.0.1:${21_000 + i}`,
        topics: { T: {}, [`b${i}`]: {} },
      });
    for (let i = 0; i < 2; i++) {
      const answer = await client.request('resume', { lastSeq: hello.seq });
      expect(answer.result).toMatchObject({ reset: true, reason: 'gap' });
    }
    expect((await limitHits(t)).replayBufferSize).toBe(2);
    expect(limitLogs(t, 'replayBufferSize').length).toBe(1);
  });

  it('gatewayMaxMessageBytes and gatewayMaxBufferedBytes: counted and logged like the others', async () => {
    const t = await start({ gatewayMaxMessageBytes: 1024 });
    for (let i = 0; i < 2; i++) {
      const { client } = await t.open();
      client.send({ op: 'ping', id: 1, pad: 'x'.repeat(2048) });
      expect((await client.closed).code).toBe(1009);
    }
    expect((await limitHits(t)).gatewayMaxMessageBytes).toBe(2);
    // Two connections from one peer: one log line.
    expect(limitLogs(t, 'gatewayMaxMessageBytes').length).toBe(1);
  });
});

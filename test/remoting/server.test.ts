import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RemotingClient } from '../../src/remoting/client.js';
import {
  createRequest,
  createResponse,
  ONEWAY_FLAG,
  RESPONSE_FLAG,
  SerializeType,
  type RemotingCommand,
} from '../../src/remoting/command.js';
import { MQVersion, ResponseCode } from '../../src/remoting/requestCode.js';
import { RemotingServer, type RemotingConnection, type RemotingServerOptions } from '../../src/remoting/server.js';
import { capturingLogger, type LogLine } from '../support/logCapture.js';
import { RawPeer } from '../support/rawPeer.js';

const WARN = 40;
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function startServer(
  options: Partial<RemotingServerOptions> = {},
): Promise<{ server: RemotingServer; port: number; lines: LogLine[] }> {
  const { logger, lines } = capturingLogger('debug');
  const server = new RemotingServer({ host: '127.0.0.1', port: 0, logger, ...options });
  cleanups.push(() => server.close());
  const { port } = await server.listen();
  return { server, port, lines };
}

async function client(port: number, serializeType?: SerializeType): Promise<RemotingClient> {
  const c = await RemotingClient.connect({ host: '127.0.0.1', port, serializeType });
  cleanups.push(() => c.close());
  return c;
}

/** A raw peer closed after the test. */
async function openPeer(port: number): Promise<RawPeer> {
  const peer = await RawPeer.open(port);
  cleanups.push(() => peer.destroy());
  return peer;
}

const ECHO = 500;
const echo = (request: RemotingCommand) =>
  createResponse(request, ResponseCode.SUCCESS, request.remark, request.extFields);

describe('RemotingServer', () => {
  it('echoes the opaque and answers in the request serialization', async () => {
    const { server, port } = await startServer();
    server.register(ECHO, echo);
    const peer = await openPeer(port);
    for (const serializeType of [SerializeType.JSON, SerializeType.ROCKETMQ]) {
      peer.send(createRequest(ECHO, { k: 'v' }, null, { opaque: 12345 + serializeType, serializeType }));
      const response = await peer.next();
      expect(response).toMatchObject({
        code: ResponseCode.SUCCESS,
        opaque: 12345 + serializeType,
        flag: RESPONSE_FLAG,
        serializeType,
        extFields: { k: 'v' },
      });
      expect(response.version).toBe(MQVersion.CURRENT);
    }
  });

  it('answers pipelined requests from one chunk in order', async () => {
    const { server, port } = await startServer();
    server.register(ECHO, echo);
    const peer = await openPeer(port);
    const requests = Array.from({ length: 20 }, (_, i) => createRequest(ECHO, { i: String(i) }, null, { opaque: i }));
    peer.send(...requests);
    for (let i = 0; i < requests.length; i++)
      expect(await peer.next()).toMatchObject({ opaque: i, extFields: { i: String(i) } });
  });

  it('keeps every answer intact when a peer stops reading while others are served', async () => {
    // Answers the kernel cannot take at once stay queued in the socket; the
    // buffer they were encoded into must not be reused for anyone else. Small
    // batches keep each write within the server's reused output buffer.
    const { server, port } = await startServer();
    const bodyFor = (opaque: number) => Buffer.alloc(2048, opaque % 251);
    let handled = 0;
    server.register(ECHO, (request) => {
      handled++;
      return createResponse(request, ResponseCode.SUCCESS, null, undefined, bodyFor(request.opaque));
    });
    const serverSockets: Socket[] = [];
    server.onConnectionOpened((conn) => serverSockets.push((conn as unknown as { socket: Socket }).socket));
    const untilHandled = async (count: number) => {
      while (handled < count) await new Promise((resolve) => setImmediate(resolve));
    };
    const sendBatch = async (peer: RawPeer, first: number, size: number) => {
      const target = handled + size;
      peer.send(...Array.from({ length: size }, (_, i) => createRequest(ECHO, null, null, { opaque: first + i })));
      await untilHandled(target);
      // The answers leave once the event loop turn that handled them ends.
      await new Promise((resolve) => setImmediate(resolve));
    };

    const stalled = await openPeer(port);
    stalled.socket.pause();
    let stalledSent = 0;
    // Until an answer batch is queued (the server then stops reading this peer).
    while (serverSockets[0]!.writableLength === 0) {
      await sendBatch(stalled, stalledSent, 20);
      stalledSent += 20;
    }

    const busy = await openPeer(port);
    for (let round = 0; round < 10; round++) {
      await sendBatch(busy, 100_000 + round * 20, 20);
      for (let i = 0; i < 20; i++) {
        const answer = await busy.next();
        expect(answer.opaque).toBe(100_000 + round * 20 + i);
        expect(answer.body?.equals(bodyFor(answer.opaque))).toBe(true);
      }
    }

    stalled.socket.resume();
    for (let i = 0; i < stalledSent; i++) {
      const answer = await stalled.next();
      expect(answer.opaque).toBe(i);
      expect(answer.body?.equals(bodyFor(i))).toBe(true);
    }
  });

  it('sends nothing for oneway requests, even unknown or failing ones', async () => {
    const { server, port } = await startServer();
    const seen: number[] = [];
    server.register(ECHO, (request) => {
      seen.push(request.opaque);
      return echo(request);
    });
    server.register(501, () => {
      throw new Error('boom');
    });
    const peer = await openPeer(port);
    peer.send(
      createRequest(ECHO, null, null, { opaque: 1, oneway: true }),
      createRequest(9999, null, null, { opaque: 2, oneway: true }),
      createRequest(501, null, null, { opaque: 3, oneway: true }),
      createRequest(ECHO, null, null, { opaque: 4 }),
    );
    expect((await peer.next()).opaque).toBe(4);
    expect(seen).toEqual([1, 4]);
  });

  it('dispatches any int32 request code, inside and outside the directly indexed range', async () => {
    const { server, port } = await startServer();
    const codes = [0, 4095, 4096, 70_000, -3];
    for (const code of codes)
      server.register(code, (request) => createResponse(request, ResponseCode.SUCCESS, `handled ${code}`));
    const c = await client(port);
    for (const code of codes)
      expect(await c.invoke(code)).toMatchObject({ code: ResponseCode.SUCCESS, remark: `handled ${code}` });
    expect((await c.invoke(4094)).code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    expect((await c.invoke(70_001)).code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
  });

  it('answers an unknown code with REQUEST_CODE_NOT_SUPPORTED naming the code', async () => {
    const { port } = await startServer();
    const c = await client(port);
    const response = await c.invoke(9999);
    expect(response.code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    expect(response.remark).toBe(' request type 9999 not supported');
  });

  it('answers SYSTEM_ERROR for throwing and rejecting handlers and keeps the connection usable', async () => {
    const { server, port } = await startServer();
    server.register(501, () => {
      throw new Error('sync failure');
    });
    server.register(502, async () => {
      await Promise.resolve();
      throw new TypeError('async failure');
    });
    server.register(ECHO, echo);
    const c = await client(port);
    const thrown = await c.invoke(501);
    expect(thrown.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(thrown.remark).toContain('sync failure');
    const rejected = await c.invoke(502);
    expect(rejected.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(rejected.remark).toContain('async failure');
    expect((await c.invoke(ECHO)).code).toBe(ResponseCode.SUCCESS);
  });

  it('answers an async handler and sends nothing when a handler returns undefined', async () => {
    const { server, port } = await startServer();
    server.register(ECHO, async (request) => echo(request));
    server.register(503, () => undefined);
    const peer = await openPeer(port);
    peer.send(createRequest(503, null, null, { opaque: 1 }), createRequest(ECHO, null, null, { opaque: 2 }));
    expect((await peer.next()).opaque).toBe(2);
  });

  it('corrects the opaque of a shared response without changing it', async () => {
    const { server, port } = await startServer();
    const shared = createResponse(createRequest(ECHO, null, null, { opaque: 0 }), ResponseCode.SUCCESS);
    server.register(ECHO, () => shared);
    const c = await client(port);
    const response = await c.invoke(ECHO);
    expect(response.opaque).not.toBe(0);
    expect(shared.opaque).toBe(0);
  });

  it('ignores responses sent to it', async () => {
    const { server, port, lines } = await startServer();
    server.register(ECHO, echo);
    const peer = await openPeer(port);
    peer.send(
      { ...createRequest(ECHO, null, null, { opaque: 1 }), flag: RESPONSE_FLAG },
      createRequest(ECHO, null, null, { opaque: 2 }),
    );
    expect((await peer.next()).opaque).toBe(2);
    expect(lines.some((line) => line.msg.includes('ignoring a response'))).toBe(true);
  });

  it('closes only the connection with a protocol error, with one warning naming the peer and the reason', async () => {
    const { server, port, lines } = await startServer({ maxFrameLength: 1024 });
    server.register(ECHO, echo);
    const good = await client(port);
    const bad = await openPeer(port);
    const badAddress = `${bad.socket.localAddress}:${bad.socket.localPort}`;
    const header = Buffer.alloc(8);
    header.writeInt32BE(1_000_000, 0);
    bad.socket.write(header);
    await bad.closed;
    const warnings = lines.filter((line) => line.level === WARN);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain(badAddress);
    expect(warnings[0]!.msg).toContain('exceeds the maximum frame length 1024');
    expect((await good.invoke(ECHO)).code).toBe(ResponseCode.SUCCESS);
    expect(good.closed).toBe(false);
  });

  it('closes a connection with an undecodable header', async () => {
    const { port } = await startServer();
    const bad = await openPeer(port);
    const garbage = Buffer.from('xxxx');
    const prefix = Buffer.alloc(8);
    prefix.writeInt32BE(4 + garbage.length, 0);
    prefix.writeInt32BE(garbage.length, 4);
    bad.socket.write(Buffer.concat([prefix, garbage]));
    await bad.closed;
  });

  it('closes idle connections', async () => {
    const { server, port } = await startServer({ idleTimeoutMs: 30 });
    const closedByServer = new Promise<RemotingConnection>((resolve) => server.onConnectionClosed(resolve));
    const peer = await openPeer(port);
    const conn = await closedByServer;
    await peer.closed;
    expect(conn.closed).toBe(true);
    expect(server.connections()).toBe(0);
  });

  it('tracks connections with unique ids and peer addresses', async () => {
    const { server, port } = await startServer();
    const opened: RemotingConnection[] = [];
    const allOpened = new Promise<void>((resolve) =>
      server.onConnectionOpened((conn) => {
        opened.push(conn);
        if (opened.length === 2) resolve();
      }),
    );
    const a = await openPeer(port);
    const b = await openPeer(port);
    await allOpened;
    expect(server.connections()).toBe(2);
    expect(new Set(opened.map((conn) => conn.id)).size).toBe(2);
    expect(opened.map((conn) => conn.remoteAddress).sort()).toEqual(
      [`127.0.0.1:${a.socket.localPort}`, `127.0.0.1:${b.socket.localPort}`].sort(),
    );
    const closed = new Promise<RemotingConnection>((resolve) => server.onConnectionClosed(resolve));
    const conn = opened.find((c) => c.remoteAddress.endsWith(`:${a.socket.localPort}`))!;
    conn.close();
    expect((await closed).id).toBe(conn.id);
    await a.closed;
    expect(conn.send(createRequest(ECHO))).toBe(false);
    expect(server.connections()).toBe(1);
  });

  it('lets a handler send commands on its connection', async () => {
    const { server, port } = await startServer();
    server.register(ECHO, (request, conn) => {
      conn.send(createRequest(905, { note: 'pushed' }, null, { oneway: true }));
      return echo(request);
    });
    const peer = await openPeer(port);
    peer.send(createRequest(ECHO, null, null, { opaque: 9 }));
    expect(await peer.next()).toMatchObject({ code: 905, flag: ONEWAY_FLAG, extFields: { note: 'pushed' } });
    expect((await peer.next()).opaque).toBe(9);
  });

  it('reports each finished request', async () => {
    const done: [number, number | undefined, number][] = [];
    const { server, port } = await startServer({
      onRequestDone: (code, responseCode, seconds) => done.push([code, responseCode, seconds]),
    });
    server.register(ECHO, echo);
    const c = await client(port);
    await c.invoke(ECHO);
    await c.invoke(9999);
    expect(done.map(([code, responseCode]) => [code, responseCode])).toEqual([
      [ECHO, ResponseCode.SUCCESS],
      [9999, ResponseCode.REQUEST_CODE_NOT_SUPPORTED],
    ]);
    expect(done.every(([, , seconds]) => seconds >= 0 && seconds < 60)).toBe(true);
  });

  it('answers an in-flight async request before close() closes the connection', async () => {
    const { server, port } = await startServer();
    let release!: () => void;
    const started = new Promise<void>((resolve) => {
      server.register(ECHO, async (request) => {
        resolve();
        await new Promise<void>((r) => {
          release = r;
        });
        return echo(request);
      });
    });
    const c = await client(port);
    const answer = c.invoke(ECHO, { slow: 'yes' });
    await started;
    const closing = server.close();
    const connectionClosed = new Promise<void>((resolve) => c.onClose(() => resolve()));
    release();
    const response = await answer;
    expect(response).toMatchObject({ code: ResponseCode.SUCCESS, extFields: { slow: 'yes' } });
    await closing;
    await connectionClosed;
    expect(server.address()).toBeUndefined();
    await expect(RemotingClient.connect({ host: '127.0.0.1', port })).rejects.toThrow();
  });

  it('close() is idempotent and works on a server that never listened', async () => {
    const { logger } = capturingLogger();
    const idle = new RemotingServer({ host: '127.0.0.1', port: 0, logger });
    await idle.close();
    await idle.close();
    const { server } = await startServer();
    await Promise.all([server.close(), server.close()]);
  });

  it('rejects listen() when the port is taken', async () => {
    const { port } = await startServer();
    const { logger } = capturingLogger();
    const second = new RemotingServer({ host: '127.0.0.1', port, logger });
    await expect(second.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await second.close();
  });

  it('runs several servers side by side', async () => {
    const a = await startServer();
    const b = await startServer();
    a.server.register(ECHO, (request) => createResponse(request, ResponseCode.SUCCESS, 'a'));
    b.server.register(ECHO, (request) => createResponse(request, ResponseCode.SUCCESS, 'b'));
    expect((await (await client(a.port)).invoke(ECHO)).remark).toBe('a');
    expect((await (await client(b.port)).invoke(ECHO)).remark).toBe('b');
  });
});

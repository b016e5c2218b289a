import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { RemotingClient, RemotingConnectionClosedError, RemotingTimeoutError } from '../../src/remoting/client.js';
import {
  createRequest,
  createResponse,
  isOneway,
  SerializeType,
  type RemotingCommand,
} from '../../src/remoting/command.js';
import { ResponseCode } from '../../src/remoting/requestCode.js';
import { RemotingServer, type RemotingConnection } from '../../src/remoting/server.js';

const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function startServer(): Promise<{ server: RemotingServer; port: number }> {
  const server = new RemotingServer({ host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }) });
  cleanups.push(() => server.close());
  const { port } = await server.listen();
  return { server, port };
}

async function connectTo(port: number, serializeType?: SerializeType): Promise<RemotingClient> {
  const client = await RemotingClient.connect({ host: '127.0.0.1', port, serializeType });
  cleanups.push(() => client.close());
  return client;
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const SLOW = 600;
const SILENT = 601;
const HANG_UP = 602;

describe('RemotingClient', () => {
  it('matches pipelined responses that arrive out of order by opaque', async () => {
    const { server, port } = await startServer();
    const gates = new Map<string, (response: RemotingCommand) => void>();
    const allArrived = deferred<void>();
    server.register(SLOW, (request) => {
      const answer = deferred<RemotingCommand>();
      gates.set(request.extFields!.n!, answer.resolve);
      if (gates.size === 3) allArrived.resolve();
      return answer.promise;
    });
    const client = await connectTo(port);
    const pending = ['0', '1', '2'].map((n) => client.invoke(SLOW, { n }));
    await allArrived.promise;
    const settledOrder: string[] = [];
    pending.forEach((response, i) => void response.then(() => settledOrder.push(String(i))));
    for (const n of ['2', '0', '1']) {
      // Answered with opaque 0: the server sets the request's opaque; the remark names the request answered.
      gates.get(n)!(createResponse(createRequest(SLOW), ResponseCode.SUCCESS, `answer ${n}`));
    }
    const responses = await Promise.all(pending);
    expect(responses.map((r) => r.remark)).toEqual(['answer 0', 'answer 1', 'answer 2']);
    expect(settledOrder).toEqual(['2', '0', '1']);
  });

  it('rejects with RemotingTimeoutError when no response comes in time and drops a late one', async () => {
    const { server, port } = await startServer();
    server.register(SILENT, () => undefined);
    const client = await connectTo(port);
    const err = await client.request({ code: SILENT }, 20).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemotingTimeoutError);
    expect((err as RemotingTimeoutError).timeoutMs).toBe(20);
    expect((err as RemotingTimeoutError).requestCode).toBe(SILENT);
    expect(client.closed).toBe(false);
  });

  it('rejects outstanding requests with RemotingConnectionClosedError when the connection closes', async () => {
    const { server, port } = await startServer();
    server.register(HANG_UP, (_request, conn) => {
      conn.close();
      return undefined;
    });
    const client = await connectTo(port);
    const closed = deferred<string | undefined>();
    client.onClose(closed.resolve);
    await expect(client.invoke(HANG_UP, null, null, 10_000)).rejects.toBeInstanceOf(RemotingConnectionClosedError);
    await closed.promise;
    expect(client.closed).toBe(true);
    await expect(client.invoke(HANG_UP)).rejects.toBeInstanceOf(RemotingConnectionClosedError);
    expect(() => client.oneway({ code: HANG_UP })).toThrow(RemotingConnectionClosedError);
  });

  it('rejects outstanding requests when it is closed itself', async () => {
    const { server, port } = await startServer();
    const arrived = deferred<void>();
    const release = deferred<undefined>();
    server.register(SLOW, () => {
      arrived.resolve();
      return release.promise;
    });
    cleanups.push(() => release.resolve(undefined));
    const client = await RemotingClient.connect({ host: '127.0.0.1', port });
    const outstanding = client.invoke(SLOW, null, null, 10_000);
    await arrived.promise;
    await client.close();
    await expect(outstanding).rejects.toBeInstanceOf(RemotingConnectionClosedError);
    expect(client.closed).toBe(true);
    await client.close();
  });

  it('sends requests in the serialization it was given', async () => {
    const { server, port } = await startServer();
    const seen: SerializeType[] = [];
    server.register(SLOW, (request) => {
      seen.push(request.serializeType);
      return createResponse(request, ResponseCode.SUCCESS, 'ü', { echoed: request.extFields?.v ?? '' }, request.body);
    });
    const binary = await connectTo(port, SerializeType.ROCKETMQ);
    const response = await binary.invoke(SLOW, { v: 'ключ' }, Buffer.from('body'));
    expect(response).toMatchObject({
      code: 0,
      remark: 'ü',
      extFields: { echoed: 'ключ' },
      serializeType: SerializeType.ROCKETMQ,
    });
    expect(response.body?.toString()).toBe('body');
    const json = await connectTo(port);
    expect((await json.request({ code: SLOW, serializeType: SerializeType.ROCKETMQ })).serializeType).toBe(
      SerializeType.ROCKETMQ,
    );
    expect(seen).toEqual([SerializeType.ROCKETMQ, SerializeType.ROCKETMQ]);
  });

  it('sends oneway requests flagged oneway, with no response expected', async () => {
    const { server, port } = await startServer();
    const got = deferred<RemotingCommand>();
    server.register(SLOW, (request) => {
      got.resolve(request);
      return createResponse(request, ResponseCode.SUCCESS);
    });
    const client = await connectTo(port);
    client.oneway({ code: SLOW, extFields: { a: 'b' } });
    const request = await got.promise;
    expect(isOneway(request)).toBe(true);
    expect(request.extFields).toEqual({ a: 'b' });
  });

  it('answers requests the server initiates', async () => {
    const { server, port } = await startServer();
    const connection = deferred<RemotingConnection>();
    server.onConnectionOpened(connection.resolve);
    const answered = deferred<RemotingCommand>();
    const client = await connectTo(port);
    client.onRequest((request) => {
      answered.resolve(request);
      return createResponse(request, ResponseCode.SUCCESS);
    });
    (await connection.promise).send(createRequest(905, { minBrokerId: '0' }, null, { opaque: 77 }));
    const request = await answered.promise;
    expect(request).toMatchObject({ code: 905, opaque: 77, extFields: { minBrokerId: '0' } });
  });

  it('closes on a protocol error from the server', async () => {
    const raw: Server = createServer((socket: Socket) => {
      const prefix = Buffer.alloc(8);
      prefix.writeInt32BE(-5, 0);
      socket.write(prefix);
      socket.on('error', () => undefined);
    });
    raw.listen(0, '127.0.0.1');
    await once(raw, 'listening');
    cleanups.push(() => new Promise((resolve) => raw.close(resolve)));
    const port = (raw.address() as { port: number }).port;
    const client = await RemotingClient.connect({ host: '127.0.0.1', port });
    const reason = deferred<string | undefined>();
    client.onClose(reason.resolve);
    expect(await reason.promise).toMatch(/protocol error: frame length -5/);
  });

  it('rejects connect() when nothing listens', async () => {
    const raw = createServer();
    raw.listen(0, '127.0.0.1');
    await once(raw, 'listening');
    const port = (raw.address() as { port: number }).port;
    await new Promise((resolve) => raw.close(resolve));
    await expect(RemotingClient.connect({ host: '127.0.0.1', port })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

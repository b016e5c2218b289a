import { wsMessageText } from '../../src/util/wsText.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { killAll, localServerArgs, spawnCli, type SpawnedCli } from '../support/spawnedCli.js';

/**
 * `--inspect` is a debugging aid: whatever the target does, the name server
 * warns once, keeps serving, and stops on SIGTERM like any other time.
 */

let dataDir: string;
const cleanups: Array<() => Promise<void> | void> = [];
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'xnamesrv-inspect-'));
});
afterEach(async () => {
  await killAll();
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await rm(dataDir, { recursive: true, force: true });
});

/** Without an inspector, the whole stop takes a few tens of milliseconds. */
const PROMPT_EXIT_MS = 3000;
const WARNING_OR_WORSE = /^\{"level":(4|5|6)\d.*$/gm;

function startServer(inspectUrl: string): SpawnedCli {
  return spawnCli([...localServerArgs(dataDir), '--inspect', inspectUrl]);
}

async function ports(server: SpawnedCli): Promise<{ remoting: number; http: number }> {
  // The address line is plain text, not a log line; which stream carries it is not this test's concern.
  const address = /remoting on [^:]+:(\d+), http on [^:]+:(\d+)/;
  const match = await Promise.any([server.until(address, 'stdout'), server.until(address, 'stderr')]);
  return { remoting: Number(match[1]), http: Number(match[2]) };
}

async function listening(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** A port that was free a moment ago and has nothing listening now. */
async function refusingPort(): Promise<number> {
  const server = createServer();
  const port = await listening(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Completes the WebSocket handshake, then cuts the connection at once. */
async function droppingTarget(): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (ws) => {
    connections++;
    ws.terminate();
  });
  await new Promise((resolve) => wss.once('listening', resolve));
  cleanups.push(() => closeAll(wss));
  return { port: (wss.address() as { port: number }).port, connections: () => connections };
}

/** Accepts TCP connections and never says a word: the handshake never completes. */
async function silentTarget(): Promise<{ port: number; connections: () => number }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => sockets.push(socket));
  const port = await listening(server);
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { port, connections: () => sockets.length };
}

async function expectServing(at: { remoting: number; http: number }): Promise<void> {
  const ready = await fetch(`http://127.0.0.1:${at.http}/readyz`);
  expect(ready.status).toBe(200);
  const client = await RemotingClient.connect({ host: '127.0.0.1', port: at.remoting });
  try {
    const response = await client.invoke(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'TopicTest' });
    expect(response.code).toBe(ResponseCode.TOPIC_NOT_EXIST);
  } finally {
    await client.close();
  }
}

async function expectOneWarningThenCleanStop(server: SpawnedCli, inspectUrl: string): Promise<void> {
  const warning = await server.until(/^\{"level":40.*"msg":"inspector .*$/m);
  expect(warning[0]).toContain(inspectUrl);
  await expectServing(await ports(server));
  const exit = await server.stop('SIGTERM');
  expect(exit.code).toBe(0);
  expect(exit.ms).toBeLessThan(PROMPT_EXIT_MS);
  expect(server.stderr().match(WARNING_OR_WORSE)).toEqual([warning[0]]);
}

describe('xnamesrv --inspect with a target that fails', () => {
  it('refused: nothing listens there', async () => {
    const url = `ws://127.0.0.1:${await refusingPort()}`;
    const server = startServer(url);
    await expectOneWarningThenCleanStop(server, url);
    expect(server.stderr()).toContain('ECONNREFUSED');
  });

  it('dropped: the target accepts the WebSocket, then cuts it', async () => {
    const target = await droppingTarget();
    const url = `ws://127.0.0.1:${target.port}`;
    const server = startServer(url);
    await expectOneWarningThenCleanStop(server, url);
    expect(target.connections()).toBeGreaterThanOrEqual(1);
    expect(server.stderr()).toContain('dropped');
  });

  it('silent: the target accepts TCP and never completes the handshake', async () => {
    const target = await silentTarget();
    const url = `ws://127.0.0.1:${target.port}`;
    const server = startServer(url);
    await expectOneWarningThenCleanStop(server, url);
    expect(target.connections()).toBeGreaterThanOrEqual(1);
    expect(server.stderr()).toContain('handshake has timed out');
  });

  it('stops promptly on SIGINT too, even while the handshake is still pending', async () => {
    const target = await silentTarget();
    const server = startServer(`ws://127.0.0.1:${target.port}`);
    await expectServing(await ports(server));
    const exit = await server.stop('SIGINT');
    expect(exit.code).toBe(0);
    expect(exit.ms).toBeLessThan(PROMPT_EXIT_MS);
  });
});

describe('xnamesrv --inspect with a working target', () => {
  it("streams the name server actor's events and snapshots, then closes the connection on SIGTERM", async () => {
    const messages: Array<Record<string, any>> = [];
    let closeCode: number | undefined;
    let onMessage = () => {};
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    wss.on('connection', (ws) => {
      ws.on('message', (data) => {
        messages.push(JSON.parse(wsMessageText(data)));
        onMessage();
      });
      ws.on('close', (code) => (closeCode = code));
    });
    await new Promise((resolve) => wss.once('listening', resolve));
    cleanups.push(() => closeAll(wss));

    const server = startServer(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`);
    const nameServerSession = () =>
      messages.find((m) => m.type === '@xstate.actor' && m.name === 'nameServer')?.sessionId;
    const readySnapshot = () =>
      messages.find(
        (m) => m.type === '@xstate.snapshot' && m.sessionId === nameServerSession() && m.snapshot.value === 'ready',
      );
    await new Promise<void>((resolve) => {
      onMessage = () => readySnapshot() && resolve();
      onMessage();
    });

    const actor = messages.find((m) => m.type === '@xstate.actor' && m.name === 'nameServer')!;
    expect(actor._version).toEqual(expect.any(String));
    expect(JSON.parse(actor.definition).id).toBe('nameServer');
    expect(readySnapshot()!.snapshot.context).toEqual({ liveBrokers: 0 });
    expect(messages.some((m) => m.type === '@xstate.event' && m.sessionId === actor.sessionId)).toBe(true);

    await expectServing(await ports(server));
    const exit = await server.stop('SIGTERM');
    expect(exit.code).toBe(0);
    expect(exit.ms).toBeLessThan(PROMPT_EXIT_MS);
    expect(server.stderr().match(WARNING_OR_WORSE)).toBeNull();
    expect(messages.some((m) => m.type === '@xstate.event' && m.event.type === 'STOP')).toBe(true);
    expect(closeCode).toBe(1001);
  });
});

/** ws servers leave their connections open on close(): end those first. */
function closeAll(wss: WebSocketServer): Promise<void> {
  for (const client of wss.clients) client.terminate();
  return new Promise((resolve) => wss.close(() => resolve()));
}

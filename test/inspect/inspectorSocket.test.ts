import { wsMessageText } from '../../src/util/wsText.js';
import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createActor, createMachine, type InspectionEvent } from 'xstate';
import { WebSocketServer } from 'ws';
import { createLiveInspector } from '../../src/inspect.js';
import { InspectorSocket } from '../../src/inspect/inspectorSocket.js';
import { createLogger } from '../../src/logging.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function capturedLogger() {
  const lines: Array<{ level: number; msg: string }> = [];
  let onLine = () => {};
  const logger = createLogger('debug', 'test', {
    write: (line: string) => {
      lines.push(JSON.parse(line));
      onLine();
    },
  });
  return {
    logger,
    warnings: () => lines.filter((l) => l.level >= 40),
    until: (predicate: (line: { level: number; msg: string }) => boolean) =>
      new Promise<void>((resolve) => {
        onLine = () => lines.some(predicate) && resolve();
        onLine();
      }),
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A WebSocket server collecting what arrives, with a way to wait for a count. */
async function target(port = 0) {
  const received: string[] = [];
  let onMessage = () => {};
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  wss.on('connection', (ws) =>
    ws.on('message', (data) => {
      received.push(wsMessageText(data));
      onMessage();
    }),
  );
  await new Promise((resolve) => wss.once('listening', resolve));
  cleanups.push(() => closeAll(wss));
  return {
    url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}`,
    received,
    receivedAtLeast: (n: number) =>
      new Promise<void>((resolve) => {
        onMessage = () => received.length >= n && resolve();
        onMessage();
      }),
  };
}

describe('InspectorSocket', () => {
  it('keeps only the latest messages while the target refuses, warns once, and delivers them once it listens', async () => {
    const port = await freePort();
    const log = capturedLogger();
    const socket = new InspectorSocket(`ws://127.0.0.1:${port}`, {
      logger: log.logger,
      maxQueued: 3,
      retryDelaysMs: [20],
    });
    cleanups.push(() => socket.stop());
    for (let i = 1; i <= 10; i++) socket.send(`m${i}`);
    await log.until((l) => l.level === 40);
    expect(socket.queued).toBe(3);
    expect(socket.dropped).toBe(7);

    const late = await target(port);
    await late.receivedAtLeast(3);
    expect(late.received).toEqual(['m8', 'm9', 'm10']);
    socket.send('m11');
    await late.receivedAtLeast(4);
    expect(late.received.at(-1)).toBe('m11');
    expect(log.warnings()).toHaveLength(1);
    expect(log.warnings()[0]!.msg).toContain('ECONNREFUSED');
  });

  it('cuts a handshake that is still pending when stopped', async () => {
    const sockets: Socket[] = [];
    let onClosed = () => {};
    const silent = createServer((s) => {
      sockets.push(s);
      s.on('close', () => onClosed());
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => silent.close(() => resolve())));
    const connected = new Promise<void>((resolve) => silent.once('connection', () => resolve()));
    const log = capturedLogger();
    const socket = new InspectorSocket(`ws://127.0.0.1:${(silent.address() as { port: number }).port}`, {
      logger: log.logger,
    });
    await connected;
    const closed = new Promise<void>((resolve) => (onClosed = resolve));
    socket.stop();
    await closed;
    socket.send('after stop');
    expect(socket.queued).toBe(0);
    expect(log.warnings()).toHaveLength(0);
  });
});

describe('createLiveInspector', () => {
  it('never throws into the actor system, and a bad event costs only itself', async () => {
    const working = await target();
    const log = capturedLogger();
    const live = createLiveInspector(working.url, { logger: log.logger });
    cleanups.push(() => live.stop());
    const broken = {
      type: '@xstate.actor',
      rootId: 'x:0',
      actorRef: {
        id: 'broken',
        sessionId: 'x:99',
        getSnapshot: () => {
          throw new Error('no snapshot');
        },
      },
    } as unknown as InspectionEvent;
    expect(() => live.inspect(broken)).not.toThrow();
    const actor = createActor(createMachine({ id: 'fine', initial: 'idle', states: { idle: {} } }), {
      inspect: (event) => live.inspect(event),
    }).start();
    await working.receivedAtLeast(3);
    actor.stop();
    const messages = working.received.map((text) => JSON.parse(text) as { name?: string; sessionId: string });
    expect(messages.some((m) => m.sessionId === 'x:99')).toBe(false);
    expect(messages.find((m) => m.name)?.name).toBe('fine');
    expect(log.warnings()).toHaveLength(0);
  });
});

/** ws servers leave their connections open on close(): end those first. */
function closeAll(wss: WebSocketServer): Promise<void> {
  for (const client of wss.clients) client.terminate();
  return new Promise((resolve) => wss.close(() => resolve()));
}

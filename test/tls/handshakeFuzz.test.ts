import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../support/harness.js';
import { SEED } from '../reliability/support.js';
import { TestPki, type Identity } from './pki.js';
import { logged, seriesValue, served, startLogged, until } from './support.js';

let pki: TestPki;
let ca: Identity;
let server: Identity;
let clientHello: Buffer;
const running: TestServer[] = [];
const sockets: Socket[] = [];

/** The first bytes node's TLS client sends: a real ClientHello record, to cut short and drip. */
async function captureClientHello(): Promise<Buffer> {
  const listener = createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const port = (listener.address() as { port: number }).port;
  const first = new Promise<Buffer>((resolve) => listener.once('connection', (s: Socket) => s.once('data', resolve)));
  const client = connectTls({ host: '127.0.0.1', port, rejectUnauthorized: false });
  client.on('error', () => undefined);
  const hello = await first;
  client.destroy();
  listener.close();
  return hello;
}

beforeAll(async () => {
  pki = new TestPki();
  ca = pki.ca('Fuzz CA');
  server = pki.issue('nameserver', ca);
  clientHello = await captureClientHello();
});
afterAll(() => pki.remove());
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(running.splice(0).map((t) => t.stop()));
});

async function start(mode = 'permissive') {
  const logged = await startLogged({
    'tls.server.mode': mode,
    'tls.server.certPath': server.certPath,
    'tls.server.keyPath': server.keyPath,
    tlsHandshakeTimeoutSeconds: 10,
  });
  running.push(logged.t);
  return logged;
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
    sockets.push(socket);
  });
}

function closed(socket: Socket): Promise<void> {
  return socket.destroyed || socket.readyState === 'closed'
    ? Promise.resolve()
    : once(socket, 'close').then(() => undefined);
}

const refused = (reason: string) => `xnamesrv_tls_refused_connections_total{port="remoting",reason="${reason}"}`;

describe('handshakes that go wrong close their own connection and stall no other', () => {
  it('captured a real ClientHello', () => {
    expect(clientHello[0]).toBe(0x16);
    expect(clientHello.length).toBeGreaterThan(50);
  });

  it('random bytes after 0x16, then the end of the stream: closed, counted, never a crash', async () => {
    const { t, lines } = await start();
    const port = t.server.remotingPort;
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 1500 }), async (bytes) => {
        const socket = await open(port);
        socket.end(Buffer.concat([Buffer.from([0x16]), bytes]));
        await closed(socket);
      }),
      { seed: SEED, numRuns: 60 },
    );
    await until(async () => {
      const metrics = (await t.http('/metrics')).text;
      return seriesValue(metrics, refused('handshakeFailed')) === 60;
    }, 'every fuzzed handshake counted');
    expect(await served(port)).toBe(true);
    expect(await served(port, true)).toBe(true);
    expect(logged(lines, 'TLS handshake failed')).toHaveLength(1);
  });

  it('truncated ClientHellos: cut and ended fail at once; cut and left open wait for the handshake timeout on the server clock', async () => {
    const { t } = await start();
    const port = t.server.remotingPort;
    const cuts = [1, 2, 5, 9, 40, Math.floor(clientHello.length / 2), clientHello.length - 1];
    for (const cut of cuts) {
      const socket = await open(port);
      socket.end(clientHello.subarray(0, cut));
      await closed(socket);
    }
    const stalled = await Promise.all(cuts.map(() => open(port)));
    cuts.forEach((cut, i) => stalled[i]!.write(clientHello.subarray(0, cut)));
    // Stalled handshakes do not hold back anyone else.
    expect(await served(port)).toBe(true);
    expect(await served(port, true)).toBe(true);
    expect(stalled.every((socket) => !socket.destroyed)).toBe(true);
    t.clock.increment(9_999);
    expect(await served(port, { ca: ca.cert })).toBe(true);
    expect(stalled.every((socket) => !socket.destroyed)).toBe(true);
    t.clock.increment(1);
    await Promise.all(stalled.map(closed));
    const metrics = (await t.http('/metrics')).text;
    expect(seriesValue(metrics, refused('handshakeTimeout'))).toBe(cuts.length);
    expect(seriesValue(metrics, refused('handshakeFailed'))).toBe(cuts.length);
  });

  it('a slow drip of a ClientHello, one byte per turn, while plain and TLS clients are served beside it', async () => {
    const { t, lines } = await start();
    const port = t.server.remotingPort;
    const drip = await open(port);
    let dripping = true;
    const dripped = (async () => {
      for (let i = 0; i < clientHello.length - 1 && dripping; i++) {
        drip.write(clientHello.subarray(i, i + 1));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    for (let i = 0; i < 5; i++) {
      const [plain, secure] = await Promise.all([served(port), served(port, { ca: ca.cert })]);
      expect(plain && secure).toBe(true);
    }
    dripping = false;
    await dripped;
    expect(drip.destroyed).toBe(false);
    t.clock.increment(10_000);
    await closed(drip);
    expect(seriesValue((await t.http('/metrics')).text, refused('handshakeTimeout'))).toBe(1);
    const timeout = logged(lines, 'TLS handshake not finished within 10 s');
    expect(timeout).toHaveLength(1);
  });

  it('enforcing: random first bytes that are not a handshake are closed as plaintext, whatever follows', async () => {
    const { t } = await start('enforcing');
    const port = t.server.remotingPort;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 255 }).filter((b) => b !== 0x16),
        fc.uint8Array({ maxLength: 64 }),
        async (first, rest) => {
          const socket = await open(port);
          socket.write(Buffer.concat([Buffer.from([first]), rest]));
          await closed(socket);
        },
      ),
      { seed: SEED, numRuns: 40 },
    );
    expect(seriesValue((await t.http('/metrics')).text, refused('plaintextRefused'))).toBe(40);
    expect(await served(port, true)).toBe(true);
  });
});

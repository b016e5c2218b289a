import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runAdmin } from '../../src/cli/admin.js';
import { silentLogger } from '../../src/logging.js';
import { RemotingServer } from '../../src/remoting/server.js';
import { RequestCode } from '../../src/remoting/requestCode.js';
import { success } from '../../src/processors/respond.js';
import { startTestServer, type TestServer } from '../support/harness.js';
import { registerBroker } from '../support/broker.js';
import { killAll, spawnCli } from '../support/spawnedCli.js';
import { capture, CLOSED_ADDR } from './support.js';

/**
 * `-n host:listenPort` is all admin watch needs: the gateway's address comes
 * from the name server's own configuration (GET_NAMESRV_CONFIG's httpPort),
 * --gateway and XNAMESRV_GATEWAY still win, and a port given for the other
 * one is named as the likely mistake.
 */

let t: TestServer | undefined;
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await killAll();
  await t?.stop();
  t = undefined;
  for (const close of closers.splice(0)) await close();
});

/** The default httpPort the tool falls back to, here a closed port so the fallback's failure is certain. */
const CLOSED_PORT = Number(CLOSED_ADDR.split(':')[1]);

async function admin(argv: string[], env: Record<string, string | undefined> = {}) {
  const c = capture();
  const code = await runAdmin(argv, env, c.io, { httpPort: CLOSED_PORT });
  return { code, out: c.stdout(), err: c.stderr() };
}

/** A name server like Java's: GET_NAMESRV_CONFIG answers without httpPort. */
async function javaLikeNameServer(host: string): Promise<string> {
  const server = new RemotingServer({ host, port: 0, logger: silentLogger() });
  server.register(RequestCode.GET_NAMESRV_CONFIG, (request) =>
    success(request, Buffer.from('listenPort=9876\nrocketmqHome=/opt/rocketmq\n', 'utf8')),
  );
  const { port } = await server.listen();
  closers.push(() => server.close());
  return `${host}:${port}`;
}

describe('admin watch finds the gateway', () => {
  it('from -n alone: the httpPort the name server reports', async () => {
    t = await startTestServer();
    await registerBroker(await t.client(), {
      brokerName: 'broker-a',
      brokerAddr: '127.0.0.1:20911',
      topics: { TopicTest: {}, 'broker-a': {} },
    });
    const r = await admin(['watch', '-n', `127.0.0.1:${t.server.remotingPort}`, '--count', '1']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/connected to xnamesrv .*state ready, 1 live broker\(s\)/);
  });

  it('from NAMESRV_ADDR, the first reachable name server of the list', async () => {
    t = await startTestServer();
    const r = await admin(['watch', '--count', '1'], {
      NAMESRV_ADDR: `${CLOSED_ADDR};127.0.0.1:${t.server.remotingPort}`,
    });
    expect(r.code).toBe(0);
    expect(r.out).toContain('connected to xnamesrv');
  });

  it('--gateway and XNAMESRV_GATEWAY override what the name server reports', async () => {
    t = await startTestServer();
    const n = `127.0.0.1:${t.server.remotingPort}`;
    const fromEnv = await admin(['watch', '-n', n, '--count', '1'], { XNAMESRV_GATEWAY: 'ws://127.0.0.1:1/ws' });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.err).toBe(
      'xnamesrv admin: cannot reach the gateway at ws://127.0.0.1:1/ws (connection refused); the URL is from XNAMESRV_GATEWAY (--gateway overrides it)\n',
    );
    const good = `ws://127.0.0.1:${t.server.httpPort}/ws`;
    expect(
      (
        await admin(['watch', '-n', CLOSED_ADDR, '--gateway', good, '--count', '1'], {
          XNAMESRV_GATEWAY: 'ws://127.0.0.1:1/ws',
        })
      ).code,
    ).toBe(0);
    const flag = await admin(['watch', '-n', n, '--gateway', 'ws://127.0.0.1:1/ws', '--count', '1']);
    expect(flag.err).toBe('xnamesrv admin: cannot reach the gateway at ws://127.0.0.1:1/ws (connection refused)\n');
    const bad = await admin(['watch', '--count', '1'], { XNAMESRV_GATEWAY: 'http://x/ws' });
    expect(bad).toMatchObject({
      code: 2,
      err: expect.stringContaining('XNAMESRV_GATEWAY: expected a ws:// or wss:// URL'),
    });
  });

  it('a name server without httpPort (Java): the default httpPort, and the error says why and what to do', async () => {
    const n = await javaLikeNameServer('127.0.0.1');
    const r = await admin(['watch', '-n', n, '--count', '1']);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `xnamesrv admin: cannot reach the gateway at ws://127.0.0.1:${CLOSED_PORT}/ws (connection refused); tried the default httpPort ${CLOSED_PORT}, because ${n} reported no httpPort ` +
        '(a Java name server has none, and no gateway: watch needs xnamesrv); name the gateway with --gateway ws://host:httpPort/ws or XNAMESRV_GATEWAY\n',
    );
  });

  it('a listenPort given as --gateway is named, with the gateway that name server reports', async () => {
    t = await startTestServer();
    const r = await admin(['watch', '--gateway', `ws://127.0.0.1:${t.server.remotingPort}/ws`, '--count', '1']);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      `127.0.0.1:${t.server.remotingPort} speaks the remoting protocol, not HTTP: is that the listenPort (default 9876)? its gateway is ws://127.0.0.1:${t.server.httpPort}/ws (its httpPort)`,
    );
  });

  it('the command as run: watch -n host:listenPort beside a name server on other ports', async () => {
    t = await startTestServer();
    const cli = spawnCli(['admin', 'watch', '-n', `127.0.0.1:${t.server.remotingPort}`, '--count', '1']);
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    expect(cli.stdout()).toContain('connected to xnamesrv');
  });
});

describe('a wrong port names the likely cause', () => {
  it("-n with xnamesrv's httpPort: answered HTTP, use the listenPort", async () => {
    t = await startTestServer();
    const http = `127.0.0.1:${t.server.httpPort}`;
    const r = await admin(['clusterList', '-n', http]);
    expect(r).toEqual({
      code: 2,
      out: '',
      err: `xnamesrv admin: ${http} answered HTTP, not the remoting protocol: is that the httpPort? use the listenPort (default 9876)\n`,
    });
    const write = await admin([
      'kv',
      'put',
      '-s',
      'ns',
      '-k',
      'k',
      '-v',
      'v',
      '-n',
      `${http};127.0.0.1:${t.server.remotingPort}`,
    ]);
    expect(write.code).toBe(2);
    expect(write.err).toBe(
      `${http}: answered HTTP, not the remoting protocol: is that the httpPort? use the listenPort (default 9876)\n`,
    );
    expect(write.out).toBe(`127.0.0.1:${t.server.remotingPort}: OK, ns k = v\n`);
  });

  it('any HTTP server that answers 400 to the remoting frame', async () => {
    const server: HttpServer = createHttpServer((_req, res) => res.end('hello'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    const addr = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const r = await admin(['topicList', '-n', `${addr};${CLOSED_ADDR}`]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `xnamesrv admin: no name server reachable: ${addr} (answered HTTP, not the remoting protocol: is that the httpPort? use the listenPort (default 9876)); ${CLOSED_ADDR} (connection refused)\n`,
    );
  });

  it('watch -n with the httpPort says so when the default gateway is not there either', async () => {
    const server: HttpServer = createHttpServer((_req, res) => res.end('hello'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    const addr = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const r = await admin(['watch', '-n', addr, '--count', '1']);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      `tried the default httpPort ${CLOSED_PORT}, because ${addr} answered HTTP, not the remoting protocol: is that the httpPort? use the listenPort (default 9876)`,
    );
  });
});

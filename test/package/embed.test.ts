import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedClock } from 'xstate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EMBEDDED_DEFAULTS,
  NameServerOptionsError,
  NameServerStartError,
  RemotingClient,
  RequestCode,
  ResponseCode,
  startNameServer,
  type NameServerOptions,
  type ServerClock,
  type Transition,
} from '../../src/index.js';

// startNameServer makes its data directory under os.tmpdir(), which reads
// TMPDIR on each call: point it at a directory of this file's own, so "left
// nothing behind" can be checked exactly. Test files run in separate processes.
let scratch: string;
let previousTmpdir: string | undefined;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'xnamesrv-embed-test-'));
  previousTmpdir = process.env.TMPDIR;
  process.env.TMPDIR = scratch;
});
afterAll(() => {
  if (previousTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = previousTmpdir;
  rmSync(scratch, { recursive: true, force: true });
});
const leftovers = () => readdirSync(scratch);

async function refusal(options: NameServerOptions | Record<string, unknown>): Promise<NameServerOptionsError> {
  const err = await startNameServer(options as NameServerOptions).then(
    async (server) => {
      await server.stop();
      throw new Error(`started with ${JSON.stringify(options)}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NameServerOptionsError);
  return err as NameServerOptionsError;
}

describe('startNameServer', () => {
  it('serves on 127.0.0.1 and free ports from a temporary data directory that stop() removes', async () => {
    const server = await startNameServer();
    try {
      expect(EMBEDDED_DEFAULTS).toEqual({
        bindAddress: '127.0.0.1',
        listenPort: 0,
        httpPort: 0,
        'tls.config.file': '',
      });
      expect(server.config.bindAddress).toBe('127.0.0.1');
      expect(server.remotingPort).toBeGreaterThan(0);
      expect(server.httpPort).toBeGreaterThan(0);
      expect(server.namesrvAddr).toBe(`127.0.0.1:${server.remotingPort}`);
      expect(server.config.dataDir.startsWith(scratch)).toBe(true);
      expect(server.config.kvConfigPath).toBe(join(server.config.dataDir, 'kvConfig.json'));
      expect(existsSync(server.config.dataDir)).toBe(true);
      expect(server.lifecycle()).toMatchObject({ state: 'ready', ready: true, servingRoutes: true });
      const readyz = await fetch(`http://127.0.0.1:${server.httpPort}/readyz`);
      expect(readyz.status).toBe(200);
    } finally {
      await server.stop();
    }
    expect(server.lifecycle().state).toBe('stopped');
    expect(leftovers()).toEqual([]);
  });

  it('serves requests, reports transitions until unsubscribed, and stops once however often stop() is called', async () => {
    const server = await startNameServer({ adminToken: 'secret' });
    const seen: Transition[] = [];
    const unsubscribe = server.onTransition((t) => seen.push(t));
    const client = await RemotingClient.connect({ host: '127.0.0.1', port: server.remotingPort });
    try {
      const put = await client.invoke(RequestCode.PUT_KV_CONFIG, { namespace: 'ns', key: 'k', value: 'v' });
      expect(put.code).toBe(ResponseCode.NO_PERMISSION);
      const unknown = await client.invoke(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'NoSuchTopic' });
      expect(unknown.code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    } finally {
      await client.close();
    }
    const first = server.stop('test over');
    expect(server.stop()).toBe(first);
    await first;
    expect(seen.map((t) => `${t.machine}: ${t.from} -> ${t.to}`)).toEqual([
      'nameServer: ready -> stopping.serving',
      'nameServer: stopping.serving -> stopped',
    ]);
    expect(server.lifecycle()).toMatchObject({ state: 'stopped', reason: 'test over' });
    unsubscribe();
  });

  it('keeps a data directory it was given', async () => {
    const dataDir = mkdtempSync(join(scratch, 'given-'));
    const server = await startNameServer({ dataDir });
    await server.stop();
    expect(server.config.kvConfigPath).toBe(join(dataDir, 'kvConfig.json'));
    expect(existsSync(dataDir)).toBe(true);
    rmSync(dataDir, { recursive: true });
  });

  it('runs its timers on the clock it is given', async () => {
    const clock = new SimulatedClock() as SimulatedClock & ServerClock;
    const server = await startNameServer(
      {
        needWaitForService: true,
        waitSecondsForService: 10,
        waitTimeoutSeconds: 20,
        waitForBrokerNames: 'DefaultCluster/broker-a',
      },
      { clock },
    );
    try {
      expect(server.lifecycle().state).toBe('waiting');
      clock.increment(20_000);
      expect(server.lifecycle()).toMatchObject({
        state: 'timedOut',
        degraded: [expect.stringContaining('DefaultCluster/broker-a')],
      });
    } finally {
      await server.stop();
    }
  });
});

describe('startNameServer refuses bad options as the command line does, naming the key, starting nothing', () => {
  it('a value out of range, of the wrong type, or not in the enum', async () => {
    const range = await refusal({ listenPort: 70_000 });
    expect(range.keys).toEqual(['listenPort']);
    expect(range.message).toContain('listenPort: expected a port number in 0..65535, got 70000');
    const type = await refusal({ httpPort: '9877', needWaitForService: 'yes' });
    expect(type.problems).toEqual([
      { key: 'httpPort', message: 'httpPort: expected a number, got "9877"' },
      { key: 'needWaitForService', message: 'needWaitForService: expected a boolean, got "yes"' },
    ]);
    const fraction = await refusal({ waitSecondsForService: 1.5 });
    expect(fraction.problems[0]!.message).toContain('waitSecondsForService: expected an integer');
    const choice = await refusal({ waitTimeoutAction: 'later' });
    expect(choice.problems[0]!.message).toBe('waitTimeoutAction: expected one of serve, refuse, got "later"');
    expect(leftovers()).toEqual([]);
  });

  it('an unknown key, with the key it probably meant', async () => {
    const err = await refusal({ listenport: 9876 });
    expect(err.problems).toEqual([
      { key: 'listenport', message: 'unknown option "listenport" (did you mean listenPort?)' },
    ]);
  });

  it('a contradiction between keys (validate.ts), after the data directory was made: it is removed again', async () => {
    const err = await refusal({ waitForBrokers: 2 });
    expect(err.keys).toEqual(['waitForBrokers']);
    expect(err.message).toContain(
      'waitForBrokers (2, option waitForBrokers) is a wait target but needWaitForService (false, default) means no wait',
    );
    const ports = await refusal({ listenPort: 19876, httpPort: 19876 });
    expect(ports.keys).toEqual(['listenPort']);
    expect(leftovers()).toEqual([]);
  });

  it('a port in use is a start-up failure (NameServerStartError), and leaves nothing behind', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const err = await startNameServer({ listenPort: port }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(NameServerStartError);
      expect((err as Error).message).toContain('EADDRINUSE');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    expect(leftovers()).toEqual([]);
  });
});

describe('logs of an embedded server', () => {
  it('honours logFile (and its level) as the command line does, and flushes it on stop', async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'xnamesrv-embed-logs-'));
    try {
      const logFile = join(logDir, 'namesrv.log');
      const server = await startNameServer({ logFile, logLevel: 'info', logFormat: 'json' });
      await server.stop();
      const files = readdirSync(logDir).filter((name) => /^namesrv\.\d+\.log$/.test(name));
      expect(files.length).toBeGreaterThan(0);
      const { readFileSync } = await import('node:fs');
      const lines = readFileSync(join(logDir, files.sort().at(-1)!), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { msg: string });
      expect(lines.some((line) => /-> stopped$/.test(line.msg))).toBe(true);
    } finally {
      rmSync(logDir, { recursive: true, force: true });
    }
  });
});

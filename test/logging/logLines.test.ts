import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, resolveLogFormat } from '../../src/logging.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { clusterInfo, registerBroker } from '../support/broker.js';
import { startObservedServer, type ObservedServer } from '../reliability/support.js';
import { LEVEL, type LogLine } from '../support/logCapture.js';
import { until } from '../support/wait.js';

/**
 * Each log line says what happened: an unregistered broker's routes are
 * reported removed, a stop sums up the brokers it dropped in one line, a
 * refused registration says why, and unset secrets do not look set.
 */

const servers: ObservedServer[] = [];
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.stop();
});

async function observed(
  settings: Record<string, string | number | boolean> = {},
  level = 'debug',
): Promise<ObservedServer> {
  const t = await startObservedServer(settings, { level });
  servers.push(t);
  return t;
}

/** The production logger (redaction included) writing parsed lines into memory. */
function productionLogger(level = 'info'): { logger: ReturnType<typeof createLogger>; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = createLogger(level, 'xnamesrv', {
    write: (line: string) => void lines.push(JSON.parse(line) as LogLine),
  });
  return { logger, lines };
}

const unregister = (brokerAddr: string, brokerName: string) => ({
  clusterName: 'DefaultCluster',
  brokerAddr,
  brokerName,
  brokerId: '0',
});

describe('log lines say what happened', () => {
  it('a broker that unregisters and then closes its connection: removed from routes, reported once, not as disconnected', async () => {
    const t = await observed();
    const broker = await t.client();
    await registerBroker(broker, {
      brokerName: 'broker-a',
      brokerAddr: '127.0.0.1:10941',
      topics: { TopicA: {}, 'broker-a': {} },
    });
    // What a RocketMQ broker does on shutdown: UNREGISTER_BROKER, then it closes its connection.
    expect((await broker.invoke(RequestCode.UNREGISTER_BROKER, unregister('127.0.0.1:10941', 'broker-a'))).code).toBe(
      ResponseCode.SUCCESS,
    );
    await broker.close();
    await until(() => t.server.remoting.connections() === 0, 'the server saw the close');
    await new Promise((resolve) => setImmediate(resolve));

    const reader = await t.client();
    expect((await clusterInfo(reader)).brokerAddrTable).toEqual({});
    const removals = t.lines.filter((l) => /^broker 127\.0\.0\.1:10941 /.test(l.msg));
    expect(removals).toEqual([
      expect.objectContaining({
        level: 30,
        msg: 'broker 127.0.0.1:10941 removed: unregistered',
        reason: 'unregistered',
        brokerName: 'broker-a',
        cluster: 'DefaultCluster',
        removedFromRoutes: true,
      }),
    ]);
  });

  it('a broker whose connection closes is still warned about, with its routes removed', async () => {
    const t = await observed();
    const broker = await t.client();
    await registerBroker(broker, {
      brokerName: 'broker-a',
      brokerAddr: '127.0.0.1:10941',
      topics: { TopicA: {}, 'broker-a': {} },
    });
    await broker.close();
    await until(
      () => t.lines.some((l) => l.msg === 'broker 127.0.0.1:10941 removed: disconnected'),
      'the removal line',
    );
    expect(t.lines.find((l) => l.msg === 'broker 127.0.0.1:10941 removed: disconnected')).toMatchObject({
      level: LEVEL.warn,
      removedFromRoutes: true,
    });
  });

  it('stopping the name server logs one summary line for the brokers it drops, not a warning per broker', async () => {
    const t = await observed({}, 'info');
    const first = await t.client();
    const second = await t.client();
    await registerBroker(first, {
      brokerName: 'broker-a',
      brokerAddr: '127.0.0.1:10911',
      topics: { TopicA: {}, 'broker-a': {} },
    });
    await registerBroker(first, {
      brokerName: 'broker-b',
      brokerAddr: '127.0.0.1:10921',
      topics: { TopicA: {}, 'broker-b': {} },
    });
    await registerBroker(second, {
      brokerName: 'broker-c',
      brokerAddr: '127.0.0.1:10931',
      topics: { TopicA: {}, 'broker-c': {} },
    });

    await t.server.close('test: stop with three brokers connected');

    expect(t.lines.filter((l) => l.level >= LEVEL.warn)).toEqual([]);
    const summaries = t.lines.filter((l) => /dropped at shutdown/.test(l.msg));
    expect(summaries).toEqual([
      expect.objectContaining({
        level: 30,
        msg: '3 brokers dropped at shutdown',
        brokers: 3,
        disconnected: 3,
        stillRegistered: 0,
      }),
    ]);
    // Before the lifecycle's last line.
    const order = t.lines.map((l) => l.msg);
    expect(order.indexOf('3 brokers dropped at shutdown')).toBeLessThan(
      order.indexOf('name server stopping.serving -> stopped'),
    );
  });

  it('a stop with no brokers logs no summary', async () => {
    const t = await observed({}, 'info');
    await t.server.close('test: stop with nothing registered');
    expect(t.lines.filter((l) => /dropped at shutdown/.test(l.msg))).toEqual([]);
  });

  it('a refused registration says why, not only the remark the broker gets', async () => {
    const t = await observed();
    const broker = await t.client();
    // A single-topic registration (RocketMQ 5.x registerSingleTopicAll) before any full one.
    const answer = await registerBroker(broker, {
      brokerName: 'broker-a',
      brokerAddr: '127.0.0.1:10951',
      topics: { OnlyTopic: {} },
    });
    expect(answer).toMatchObject({ code: ResponseCode.SYSTEM_ERROR, remark: 'register broker failed' });
    const refused = t.lines.filter((l) => /registration refused/.test(l.msg));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      level: LEVEL.warn,
      broker: '127.0.0.1:10951',
      brokerName: 'broker-a',
      cluster: 'DefaultCluster',
      reason: 'singleTopicBeforeFirstRegistration',
      remark: 'register broker failed',
    });
    expect(refused[0]!.msg).toMatch(
      /^broker 127\.0\.0\.1:10951 registration refused: a registration of a single topic came before any full registration of this broker/,
    );
  });

  it('a corrupted registration body says so', async () => {
    const t = await observed();
    const broker = await t.client();
    const { registerBrokerRequest } = await import('../support/broker.js');
    const { extFields, body } = registerBrokerRequest({
      brokerName: 'broker-a',
      brokerAddr: '127.0.0.1:10961',
      topics: { TopicA: {}, 'broker-a': {} },
    });
    extFields.bodyCrc32 = String((Number(extFields.bodyCrc32) + 1) & 0x7fffffff);
    expect((await broker.invoke(RequestCode.REGISTER_BROKER, extFields, body)).remark).toBe('crc32 not match');
    expect(t.lines.find((l) => /registration refused/.test(l.msg))).toMatchObject({
      reason: 'crc',
      msg: expect.stringMatching(
        /^broker 127\.0\.0\.1:10961 registration refused: the body does not match its bodyCrc32 header/,
      ),
    });
  });
});

describe('secrets in the start-up configuration line', () => {
  it('shows unset tokens as empty, not as ******', async () => {
    const { logger, lines } = productionLogger();
    servers.push(await startObservedServer({}, { logger }));
    const config = lines.find((l) => l.msg === 'effective configuration')!.config as Record<string, string>;
    expect(config.adminToken).toBe('');
    expect(config.gatewayToken).toBe('');
  });

  it('masks tokens that are set', async () => {
    const { logger, lines } = productionLogger();
    servers.push(
      await startObservedServer({ adminToken: 'admin-secret-1', gatewayToken: 'gateway-secret-1' }, { logger }),
    );
    const config = lines.find((l) => l.msg === 'effective configuration')!.config as Record<string, string>;
    expect(config.adminToken).toBe('******');
    expect(config.gatewayToken).toBe('******');
    expect(JSON.stringify(lines)).not.toContain('secret-1');
  });
});

describe('the log level changes at runtime', () => {
  it('through UPDATE_NAMESRV_CONFIG and the gateway updateConfig op', async () => {
    const { logger, lines } = productionLogger('info');
    const t = await startObservedServer({ gatewayToken: 'gw-token' }, { logger });
    servers.push(t);
    const client = await t.client();
    await registerBroker(client, {
      brokerName: 'broker-a',
      brokerAddr: '127.0.0.1:10971',
      topics: { TopicA: {}, 'broker-a': {} },
    });
    expect(lines.filter((l) => l.level < 30)).toEqual([]);

    const update = await client.invoke(RequestCode.UPDATE_NAMESRV_CONFIG, null, Buffer.from('logLevel=debug\n'));
    expect(update.code).toBe(ResponseCode.SUCCESS);
    expect(t.server.logger.level).toBe('debug');
    await registerBroker(client, {
      brokerName: 'broker-b',
      brokerAddr: '127.0.0.1:10981',
      topics: { TopicA: {}, 'broker-b': {} },
    });
    expect(lines.some((l) => l.level === 20 && l.msg === 'broker transition')).toBe(true);

    const { client: ws } = await t.open({ token: 'gw-token' });
    expect((await ws.request('updateConfig', { config: { logLevel: 'warn' } })).result).toEqual({});
    expect(t.server.logger.level).toBe('warn');
    const seen = lines.length;
    await registerBroker(client, {
      brokerName: 'broker-c',
      brokerAddr: '127.0.0.1:10991',
      topics: { TopicA: {}, 'broker-c': {} },
    });
    expect(lines.slice(seen).filter((l) => l.level < 40)).toEqual([]);
  });
});

describe('logFormat', () => {
  it('auto is pretty on a terminal and JSON otherwise; json and pretty are what they say', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
  });
});

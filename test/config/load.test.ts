import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { loadConfig, type LoadConfigResult } from '../../src/config/load.js';
import { CONFIG_KEYS, CONFIG_SCHEMA, envNameOf, upperSnake, type NamesrvOptions } from '../../src/config/schema.js';

const GOLDEN = '/work/shared/golden/rocketmq-4.9.8/extra/get_namesrv_config.response.body.bin';
const HOME = '/home/tester';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xnamesrv-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function load(argv: string[] = [], env: Record<string, string | undefined> = {}): LoadConfigResult {
  return loadConfig({ argv, env, homeDir: HOME });
}

function ok(argv: string[] = [], env: Record<string, string | undefined> = {}): NamesrvOptions {
  const result = load(argv, env);
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.config;
}

function errorsOf(argv: string[] = [], env: Record<string, string | undefined> = {}): string[] {
  const result = load(argv, env);
  if (result.ok) throw new Error('expected the configuration to be refused');
  return result.errors;
}

function file(text: string, name = 'namesrv.properties'): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('loadConfig defaults', () => {
  it('uses RocketMQ defaults, xnamesrv defaults and paths under the home directory', () => {
    const config = ok();
    expect(config.listenPort).toBe(9876);
    expect(config.bindAddress).toBe('0.0.0.0');
    expect(config.httpPort).toBe(9877);
    expect(config.kvConfigPath).toBe(join(HOME, 'namesrv', 'kvConfig.json'));
    expect(config.configStorePath).toBe(join(HOME, 'namesrv', 'namesrv.properties'));
    expect(config.configBlackList).toBe('configBlackList;configStorePath;kvConfigPath');
    expect(config.productEnvName).toBe('center');
    expect(config.returnOrderTopicConfigToBroker).toBe(true);
    expect(config.scanNotActiveBrokerInterval).toBe(5000);
    expect(config.waitSecondsForService).toBe(45);
    expect(config.needWaitForService).toBe(false);
    expect(config.waitTimeoutSeconds).toBe(300);
    expect(config.waitTimeoutAction).toBe('serve');
    expect(config.maxFrameLength).toBe(16 * 1024 * 1024);
    expect(config.waitForBrokerNames).toEqual([]);
    expect(config.logLevel).toBe('info');
    expect(config.rocketmqHome).toBe('');
  });

  it('takes rocketmqHome from ROCKETMQ_HOME, as Java does', () => {
    expect(ok([], { ROCKETMQ_HOME: '/opt/rocketmq' }).rocketmqHome).toBe('/opt/rocketmq');
  });

  it('puts kvConfigPath and configStorePath inside dataDir when it is set', () => {
    const config = ok(['--data-dir', '/var/lib/xnamesrv']);
    expect(config.kvConfigPath).toBe(join('/var/lib/xnamesrv', 'kvConfig.json'));
    expect(config.configStorePath).toBe(join('/var/lib/xnamesrv', 'namesrv.properties'));
    expect(ok([], { XNAMESRV_DATA_DIR: '/d' }).kvConfigPath).toBe(join('/d', 'kvConfig.json'));
    expect(ok(['--dataDir', '/d', '--kvConfigPath', '/elsewhere/kv.json']).kvConfigPath).toBe('/elsewhere/kv.json');
  });

  it('returns a frozen configuration', () => {
    const config = ok(['--needWaitForService', 'true', '--waitForBrokerNames', 'c/a']);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.waitForBrokerNames)).toBe(true);
  });

  it('maps every key to a distinct environment variable', () => {
    const names = CONFIG_KEYS.map((info) => upperSnake(info.name));
    expect(new Set(names).size).toBe(names.length);
    expect(envNameOf('listenPort')).toBe('XNAMESRV_LISTEN_PORT');
    expect(envNameOf('unRegisterBrokerQueueCapacity')).toBe('XNAMESRV_UN_REGISTER_BROKER_QUEUE_CAPACITY');
  });
});

describe('loadConfig precedence: defaults < file < environment < flags', () => {
  it('lets each layer override the one below', () => {
    const path = file('listenPort=1001\nhttpPort=2001\nproductEnvName=fromFile\norderMessageEnable=true\n');
    const env = { XNAMESRV_LISTEN_PORT: '1002', XNAMESRV_HTTP_PORT: '2002' };
    const config = ok(['-c', path, '--listenPort', '1003'], env);
    expect(config.listenPort).toBe(1003);
    expect(config.httpPort).toBe(2002);
    expect(config.productEnvName).toBe('fromFile');
    expect(config.orderMessageEnable).toBe(true);
    expect(config.enableAllTopicList).toBe(true);
  });

  it('accepts --key=value, --configFile and XNAMESRV_CONFIG_FILE', () => {
    const path = file('listenPort=1001\n');
    expect(ok([`--configFile=${path}`, '--httpPort=0']).httpPort).toBe(0);
    expect(ok([], { XNAMESRV_CONFIG_FILE: path }).listenPort).toBe(1001);
  });

  it('points configStorePath at the -c file, as Java does, unless env or a flag says otherwise', () => {
    const path = file('configStorePath=/ignored/by/java.properties\n');
    expect(ok(['-c', path]).configStorePath).toBe(path);
    expect(ok(['-c', path], { XNAMESRV_CONFIG_STORE_PATH: '/env.properties' }).configStorePath).toBe('/env.properties');
    expect(ok(['-c', path, '--configStorePath', '/flag.properties']).configStorePath).toBe('/flag.properties');
  });

  it('reports -p, --inspect and --help', () => {
    const printing = load(['-p', '--inspect', 'ws://localhost:4242']);
    expect(printing.ok && printing.printConfig).toBe(true);
    expect(printing.ok && printing.inspectUrl).toBe('ws://localhost:4242');
    expect(
      load(['--printConfigItem']).ok && (load(['--printConfigItem']) as { printConfig: boolean }).printConfig,
    ).toBe(true);
    const help = load(['-h', '--noSuchKey']);
    expect(help.ok && help.help).toBe(true);
  });

  it('parses lists separated by commas or semicolons', () => {
    const config = ok([
      '--needWaitForService',
      'true',
      '--waitForBrokerNames',
      'DefaultCluster/broker-a; DefaultCluster/broker-b,c2/x',
    ]);
    expect(config.waitForBrokerNames).toEqual(['DefaultCluster/broker-a', 'DefaultCluster/broker-b', 'c2/x']);
  });

  it('trims values and reads booleans case-insensitively', () => {
    const path = file('productEnvName =  spaced  \nclusterTest=TRUE\n');
    const config = ok(['-c', path]);
    expect(config.productEnvName).toBe('spaced');
    expect(config.clusterTest).toBe(true);
  });

  it('falls back to ISO-8859-1 for a file that is not UTF-8, as Java reads it', () => {
    const path = join(dir, 'latin1.properties');
    writeFileSync(path, Buffer.from('productEnvName=caf\xe9\n', 'latin1'));
    expect(ok(['-c', path]).productEnvName).toBe('café');
  });
});

describe('a Java namesrv.properties loads unchanged', () => {
  it('loads the GET_NAMESRV_CONFIG body of RocketMQ 4.9.8', () => {
    const path = join(dir, 'namesrv-4.9.8.properties');
    copyFileSync(GOLDEN, path);
    const config = ok(['-c', path]);
    expect(config.listenPort).toBe(19876);
    expect(config.rocketmqHome).toBe('/tmp/rmq498/home');
    expect(config.kvConfigPath).toBe('/tmp/rmq498/home/namesrv/kvConfig.json');
    expect(config.serverWorkerThreads).toBe(8);
    expect(config.serverSocketBacklog).toBe(1024);
    expect(config.serverPooledByteBufAllocatorEnable).toBe(true);
    expect(config.configBlackList).toBe('configBlackList;configStorePath;kvConfigPath');
    // Java re-points configStorePath at the file it was started with.
    expect(config.configStorePath).toBe(path);
  });

  it('loads a 5.x style file with every NamesrvConfig and NettyServerConfig key', () => {
    const text = CONFIG_KEYS.filter((info) => info.origin === 'rocketmq')
      .map(
        (info) =>
          `${info.name}=${info.name.endsWith('Path') ? `/data/${info.name}` : Array.isArray(info.default) ? '' : String(info.default)}`,
      )
      .join('\n');
    expect(ok(['-c', file(text)]).kvConfigPath).toBe('/data/kvConfigPath');
  });
});

describe('loadConfig validation: every error names the key and where the value came from', () => {
  const cases: Array<{
    name: string;
    argv?: string[];
    env?: Record<string, string>;
    fileText?: string;
    expect: RegExp[];
  }> = [
    {
      name: 'unknown key in the file',
      fileText: 'listenPort=1\nlistenprot=2\n',
      expect: [/unknown key "listenprot"/, /line 2/],
    },
    {
      name: 'case typo gets a suggestion',
      fileText: 'listenport=2\n',
      expect: [/"listenport"/, /did you mean listenPort/],
    },
    {
      name: 'unknown environment variable',
      env: { XNAMESRV_LISTEN_PROT: '1' },
      expect: [/XNAMESRV_LISTEN_PROT/, /environment variable/],
    },
    { name: 'unknown flag', argv: ['--listenProt', '1'], expect: [/unknown flag --listenProt/] },
    {
      name: 'single-dash long flag',
      argv: ['-listenPort', '1'],
      expect: [/unknown flag -listenPort/, /did you mean listenPort/],
    },
    { name: 'stray argument', argv: ['serve'], expect: [/unexpected argument "serve"/] },
    { name: 'flag without value', argv: ['--listenPort'], expect: [/flag --listenPort needs a value/] },
    {
      name: 'flag followed by another flag',
      argv: ['--listenPort', '--httpPort', '1'],
      expect: [/flag --listenPort needs a value/],
    },
    {
      name: 'not an integer (flag)',
      argv: ['--listenPort', 'abc'],
      expect: [/^listenPort: /, /"abc"/, /flag --listenPort/],
    },
    {
      name: 'port out of range (env)',
      env: { XNAMESRV_HTTP_PORT: '70000' },
      expect: [/^httpPort: /, /0\.\.65535/, /environment variable XNAMESRV_HTTP_PORT/],
    },
    { name: 'negative port (file)', fileText: 'listenPort=-1\n', expect: [/^listenPort: /, /line 1/] },
    {
      name: 'boolean typo (file)',
      fileText: 'orderMessageEnable=yes\n',
      expect: [/^orderMessageEnable: expected true or false/, /config file .* line 1/],
    },
    {
      name: 'enum value',
      argv: ['--waitTimeoutAction', 'retry'],
      expect: [/^waitTimeoutAction: expected one of serve, refuse/, /flag --waitTimeoutAction/],
    },
    { name: 'log level', env: { XNAMESRV_LOG_LEVEL: 'verbose' }, expect: [/^logLevel: /, /XNAMESRV_LOG_LEVEL/] },
    {
      name: 'waitForBrokers below 0',
      argv: ['--waitForBrokers', '-1'],
      expect: [/^waitForBrokers: /, /flag --waitForBrokers/],
    },
    { name: 'waitTimeoutSeconds 0', argv: ['--waitTimeoutSeconds', '0'], expect: [/^waitTimeoutSeconds: /, /1\.\./] },
    {
      name: 'timeout shorter than the Java wait',
      argv: ['--needWaitForService', 'true', '--waitTimeoutSeconds', '30'],
      expect: [/waitTimeoutSeconds \(30, flag --waitTimeoutSeconds\) must be >= waitSecondsForService \(45, default\)/],
    },
    {
      name: 'malformed broker name entry',
      argv: ['--needWaitForService', 'true', '--waitForBrokerNames', 'DefaultCluster/a,broker-b'],
      expect: [/waitForBrokerNames \(flag --waitForBrokerNames\): entry "broker-b" is not cluster\/brokerName/],
    },
    {
      name: 'wait target while not waiting',
      env: { XNAMESRV_WAIT_FOR_BROKERS: '2' },
      expect: [
        /waitForBrokers \(2, environment variable XNAMESRV_WAIT_FOR_BROKERS\)/,
        /needWaitForService \(false, default\)/,
      ],
    },
    {
      name: 'broker names while not waiting',
      fileText: 'waitForBrokerNames=c/a\n',
      expect: [/waitForBrokerNames \(c\/a, config file .* line 1\)/, /needWaitForService/],
    },
    {
      name: 'controller in name server',
      fileText: 'enableControllerInNamesrv=true\n',
      expect: [/enableControllerInNamesrv \(true, config file/],
    },
    {
      name: 'same port twice',
      argv: ['--listenPort', '9000', '--httpPort', '9000'],
      expect: [/listenPort \(9000, flag --listenPort\) and httpPort \(9000, flag --httpPort\)/],
    },
    {
      name: 'kv and config store collide',
      argv: ['--kvConfigPath', '/x/a', '--configStorePath', '/x/a'],
      expect: [/kvConfigPath .* and configStorePath .* same file/],
    },
    {
      name: 'masked token pasted back',
      fileText: 'adminToken=******\n',
      expect: [/^adminToken \(config file .* line 1\): \*{6} is the masked display value/],
    },
    {
      name: 'bad bind address',
      argv: ['--bindAddress', 'not an address'],
      expect: [/^bindAddress \(flag --bindAddress\)/],
    },
    {
      name: 'bad inspect url',
      argv: ['--inspect', 'http://x'],
      expect: [/--inspect: expected a ws:\/\/ or wss:\/\/ URL/],
    },
    {
      name: 'console name server without a port',
      argv: ['--consoleNameServers', 'ns1:9877,ns2'],
      expect: [/^consoleNameServers \(flag --consoleNameServers\): entry "ns2" is not host:httpPort/],
    },
    {
      name: 'allowed origin with a path',
      argv: ['--gatewayAllowedOrigins', 'http://ns1:9877/console'],
      expect: [
        /^gatewayAllowedOrigins \(flag --gatewayAllowedOrigins\): entry "http:\/\/ns1:9877\/console" is not an origin/,
      ],
    },
    {
      name: 'boolean flag with value',
      argv: ['--printConfigItem=yes'],
      expect: [/flag --printConfigItem takes no value/],
    },
    { name: 'malformed escape in file', fileText: 'a=\\uZZZZ\n', expect: [/config file .* line 1: malformed/] },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const argv = [...(c.fileText !== undefined ? ['-c', file(c.fileText)] : []), ...(c.argv ?? [])];
      const errors = errorsOf(argv, c.env ?? {});
      expect(errors.length, errors.join('\n')).toBeGreaterThan(0);
      for (const pattern of c.expect)
        expect(
          errors.some((e) => pattern.test(e)),
          `${pattern} in\n${errors.join('\n')}`,
        ).toBe(true);
    });
  }

  it('reports a missing config file with its path', () => {
    const missing = join(dir, 'nope.properties');
    expect(errorsOf(['-c', missing])).toEqual([expect.stringContaining(`config file ${missing}: cannot read it`)]);
  });

  it('reports every problem at once', () => {
    const errors = errorsOf(['--listenPort', 'x', '--httpPort', 'y', '--nope', '1'], { XNAMESRV_NOPE: '1' });
    expect(errors).toHaveLength(4);
  });

  it('accepts a wait target together with needWaitForService', () => {
    const config = ok(['--needWaitForService', 'true', '--waitForBrokers', '2', '--waitTimeoutSeconds', '45']);
    expect(config.waitForBrokers).toBe(2);
  });

  it('allows port 0 for both listeners (tests bind free ports)', () => {
    const config = ok(['--listenPort', '0', '--httpPort', '0']);
    expect([config.listenPort, config.httpPort]).toEqual([0, 0]);
  });
});

describe('schema', () => {
  // Field names of the Java classes (RocketMQ 5.3 / develop), which a Java
  // namesrv.properties may set.
  const NAMESRV_CONFIG = [
    'rocketmqHome',
    'kvConfigPath',
    'configStorePath',
    'productEnvName',
    'clusterTest',
    'orderMessageEnable',
    'returnOrderTopicConfigToBroker',
    'clientRequestThreadPoolNums',
    'defaultThreadPoolNums',
    'clientRequestThreadPoolQueueCapacity',
    'defaultThreadPoolQueueCapacity',
    'scanNotActiveBrokerInterval',
    'unRegisterBrokerQueueCapacity',
    'supportActingMaster',
    'enableAllTopicList',
    'enableTopicList',
    'notifyMinBrokerIdChanged',
    'enableControllerInNamesrv',
    'needWaitForService',
    'waitSecondsForService',
    'deleteTopicWithBrokerRegistration',
    'configBlackList',
  ];
  const NETTY_SERVER_CONFIG = [
    'bindAddress',
    'listenPort',
    'serverWorkerThreads',
    'serverCallbackExecutorThreads',
    'serverSelectorThreads',
    'serverOnewaySemaphoreValue',
    'serverAsyncSemaphoreValue',
    'serverChannelMaxIdleTimeSeconds',
    'serverSocketSndBufSize',
    'serverSocketRcvBufSize',
    'writeBufferHighWaterMark',
    'writeBufferLowWaterMark',
    'serverSocketBacklog',
    'serverNettyWorkerGroupEnable',
    'serverPooledByteBufAllocatorEnable',
    'enableShutdownGracefully',
    'shutdownWaitTimeSeconds',
    'useEpollNativeSelector',
  ];

  // TlsSystemConfig's server-side system properties (the tls.client.* ones are Java clients' settings).
  const TLS_SYSTEM_CONFIG = [
    'tls.server.mode',
    'tls.config.file',
    'tls.test.mode.enable',
    'tls.server.certPath',
    'tls.server.keyPath',
    'tls.server.keyPassword',
    'tls.server.need.client.auth',
    'tls.server.authClient',
    'tls.server.trustCertPath',
  ];

  it('covers every NamesrvConfig and NettyServerConfig field and the TLS system properties, marked with its origin', () => {
    const byName = new Map(CONFIG_KEYS.map((info) => [info.name as string, info]));
    for (const name of NAMESRV_CONFIG) expect(byName.get(name)?.javaClass, name).toBe('NamesrvConfig');
    for (const name of NETTY_SERVER_CONFIG) expect(byName.get(name)?.javaClass, name).toBe('NettyServerConfig');
    for (const name of TLS_SYSTEM_CONFIG) expect(byName.get(name)?.javaClass, name).toBe('TlsSystemConfig');
    const javaKeys = CONFIG_KEYS.filter((info) => info.origin === 'rocketmq').map((info) => info.name);
    expect(javaKeys.sort()).toEqual([...NAMESRV_CONFIG, ...NETTY_SERVER_CONFIG, ...TLS_SYSTEM_CONFIG].sort());
  });

  it('marks secrets and the runtime-updatable keys', () => {
    expect(
      CONFIG_KEYS.filter((info) => info.secret)
        .map((info) => info.name)
        .sort(),
    ).toEqual(['adminToken', 'gatewayToken', 'httpTlsKeyPassword', 'tls.server.keyPassword']);
    expect(
      CONFIG_KEYS.filter((info) => info.runtimeUpdatable)
        .map((info) => info.name)
        .sort(),
    ).toEqual([
      'deleteTopicWithBrokerRegistration',
      'enableAllTopicList',
      'enableTopicList',
      'logLevel',
      'namesrvAddrList',
      'namesrvAddrSubGroup',
      'notifyMinBrokerIdChanged',
      'orderMessageEnable',
      'returnOrderTopicConfigToBroker',
      'supportActingMaster',
    ]);
    for (const info of CONFIG_KEYS) expect(info.description.length, info.name).toBeGreaterThan(0);
  });

  it('types NamesrvOptions from the table', () => {
    expectTypeOf<NamesrvOptions['listenPort']>().toEqualTypeOf<number>();
    expectTypeOf<NamesrvOptions['needWaitForService']>().toEqualTypeOf<boolean>();
    expectTypeOf<NamesrvOptions['waitTimeoutAction']>().toEqualTypeOf<'serve' | 'refuse'>();
    expectTypeOf<NamesrvOptions['waitForBrokerNames']>().toEqualTypeOf<readonly string[]>();
    expectTypeOf<NamesrvOptions['kvConfigPath']>().toEqualTypeOf<string>();
    expectTypeOf<keyof NamesrvOptions>().toEqualTypeOf<keyof typeof CONFIG_SCHEMA>();
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runAdmin } from '../../src/cli/admin.js';
import { ResponseCode } from '../../src/remoting/requestCode.js';
import { startTestServer, type TestServer } from '../support/harness.js';
import { getRoute, registerBroker } from '../support/broker.js';
import { capture, CLOSED_ADDR } from './support.js';

const brokerA = { brokerName: 'broker-a', brokerAddr: '127.0.0.1:20911', topics: { TopicTest: {}, 'broker-a': {} } };
const slaveA = { ...brokerA, brokerId: 1, brokerAddr: '127.0.0.1:20921' };
const brokerB = {
  clusterName: 'OtherCluster',
  brokerName: 'broker-b',
  brokerAddr: '127.0.0.1:20931',
  topics: { TopicTest: { readQueueNums: 8, writeQueueNums: 8 }, 'broker-b': {} },
};

let t: TestServer;
let addr: string;

async function admin(argv: string[], env: Record<string, string | undefined> = {}) {
  const c = capture();
  const code = await runAdmin(argv, env, c.io);
  return { code, out: c.stdout(), err: c.stderr() };
}

beforeEach(async () => {
  t = await startTestServer();
  addr = `127.0.0.1:${t.server.remotingPort}`;
  const client = await t.client();
  for (const b of [brokerA, slaveA, brokerB]) expect((await registerBroker(client, b)).code).toBe(ResponseCode.SUCCESS);
});

afterEach(async () => {
  await t.stop();
});

describe('admin read commands', () => {
  it('clusterList prints a table like mqadmin and JSON with --json', async () => {
    const human = await admin(['clusterList', '-n', addr]);
    expect(human.code).toBe(0);
    expect(human.err).toBe('');
    expect(human.out.split('\n')).toEqual([
      '#Cluster Name   #Broker Name  #BID  #Addr',
      'DefaultCluster  broker-a      0     127.0.0.1:20911',
      'DefaultCluster  broker-a      1     127.0.0.1:20921',
      'OtherCluster    broker-b      0     127.0.0.1:20931',
      '',
    ]);
    const json = await admin(['clusterList', '-n', addr, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toEqual({
      brokerAddrTable: {
        'broker-a': {
          brokerAddrs: { '0': '127.0.0.1:20911', '1': '127.0.0.1:20921' },
          brokerName: 'broker-a',
          cluster: 'DefaultCluster',
        },
        'broker-b': { brokerAddrs: { '0': '127.0.0.1:20931' }, brokerName: 'broker-b', cluster: 'OtherCluster' },
      },
      clusterAddrTable: { DefaultCluster: ['broker-a'], OtherCluster: ['broker-b'] },
    });
    const one = await admin(['clusterList', '-n', addr, '-c', 'OtherCluster', '--json']);
    expect(Object.keys(JSON.parse(one.out).brokerAddrTable)).toEqual(['broker-b']);
  });

  it('topicRoute prints brokers, queues and totals; --json prints the route data', async () => {
    const human = await admin(['topicRoute', '-t', 'TopicTest', '-n', addr]);
    expect(human.code).toBe(0);
    const lines = human.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^#ClusterName\s+#BrokerName\s+#BrokerAddrs\s+#ReadQueue\s+#WriteQueue\s+#Perm$/);
    expect(lines[1]).toMatch(
      /^DefaultCluster\s+broker-a\s+\{0=127\.0\.0\.1:20911, 1=127\.0\.0\.1:20921\}\s+4\s+4\s+6 RW-$/,
    );
    expect(lines[2]).toMatch(/^OtherCluster\s+broker-b\s+\{0=127\.0\.0\.1:20931\}\s+8\s+8\s+6 RW-$/);
    expect(lines[3]).toMatch(/^Total:\s+2 broker\(s\)\s+12\s+12$/);
    const json = await admin(['topicRoute', '--topic=TopicTest', '-n', addr, '--json']);
    const route = JSON.parse(json.out);
    expect(route.queueDatas).toHaveLength(2);
    expect(route.brokerDatas.find((b: { brokerName: string }) => b.brokerName === 'broker-a').brokerAddrs).toEqual({
      '0': '127.0.0.1:20911',
      '1': '127.0.0.1:20921',
    });
  });

  it('a server answering with an error code: code name and remark on stderr, exit 1', async () => {
    for (const json of [[], ['--json']]) {
      const r = await admin(['topicRoute', '-t', 'NoSuchTopic', '-n', addr, ...json]);
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err).toContain(
        `${addr} answered GET_ROUTEINFO_BY_TOPIC with TOPIC_NOT_EXIST (17): No topic route info in name server for the topic: NoSuchTopic`,
      );
      expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    }
  });

  it('topicList and topicClusterList', async () => {
    const list = await admin(['topicList', '-n', addr]);
    expect(list.code).toBe(0);
    expect(list.out.split('\n').filter(Boolean)).toEqual(expect.arrayContaining(['TopicTest', 'broker-a', 'broker-b']));
    expect(JSON.parse((await admin(['topicList', '-n', addr, '--json'])).out).topicList).toEqual(
      expect.arrayContaining(['TopicTest', 'broker-a', 'broker-b']),
    );

    const clusters = await admin(['topicClusterList', '-t', 'TopicTest', '-n', addr]);
    expect(clusters).toEqual({ code: 0, out: 'DefaultCluster\nOtherCluster\n', err: '' });
    expect(JSON.parse((await admin(['topicClusterList', '-t', 'broker-b', '-n', addr, '--json'])).out)).toEqual({
      topic: 'broker-b',
      clusters: ['OtherCluster'],
    });
  });

  it('getNamesrvConfig prints key = value under the server, and JSON keyed by server', async () => {
    const human = await admin(['getNamesrvConfig', '-n', addr]);
    expect(human.code).toBe(0);
    expect(human.out.split('\n')[0]).toBe(`============${addr}============`);
    // Configured as 0: the port actually bound is shown, one a tool can connect to.
    expect(human.out).toMatch(new RegExp(`\\nlistenPort\\s+= ${t.server.remotingPort}\\n`));
    expect(human.out).toMatch(new RegExp(`\\nhttpPort\\s+= ${t.server.httpPort}\\n`));
    const json = JSON.parse((await admin(['getNamesrvConfig', '-n', addr, '--json'])).out);
    expect(Object.keys(json)).toEqual([addr]);
    expect(json[addr].enableAllTopicList).toBe('true');
  });
});

describe('admin write commands', () => {
  it('updateNamesrvConfig changes a key; a black-listed key is refused with exit 1', async () => {
    const r = await admin(['updateNamesrvConfig', '-k', 'enableAllTopicList', '-v', 'false', '-n', addr]);
    expect(r).toEqual({ code: 0, out: `${addr}: OK, enableAllTopicList = false\n`, err: '' });
    expect(t.server.config.get().enableAllTopicList).toBe(false);
    const refused = await admin(['topicList', '-n', addr]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('SYSTEM_ERROR (1): disable');

    const black = await admin(['updateNamesrvConfig', '-k', 'kvConfigPath', '-v', '/tmp/x', '-n', addr, '--json']);
    expect(black.code).toBe(1);
    expect(black.err).toContain(`${addr}: failed, NO_PERMISSION (16)`);
    expect(JSON.parse(black.out)).toEqual({
      results: [expect.objectContaining({ nameServer: addr, ok: false, code: 16, codeName: 'NO_PERMISSION' })],
    });
  });

  it('wipeWritePerm and addWritePerm report topic counts and change the route', async () => {
    const wipe = await admin(['wipeWritePerm', '-b', 'broker-a', '-n', addr]);
    expect(wipe).toEqual({ code: 0, out: `${addr}: OK, 2 topic(s) of broker broker-a\n`, err: '' });
    const client = await t.client();
    const perm = async () =>
      JSON.parse((await getRoute(client, 'TopicTest')).body!.toString()).queueDatas.find(
        (q: { brokerName: string }) => q.brokerName === 'broker-a',
      ).perm;
    expect(await perm()).toBe(4);
    const add = await admin(['addWritePerm', '-b', 'broker-a', '-n', addr, '--json']);
    expect(add.code).toBe(0);
    expect(JSON.parse(add.out)).toEqual({
      results: [
        {
          nameServer: addr,
          ok: true,
          code: 0,
          codeName: 'SUCCESS',
          remark: null,
          brokerName: 'broker-a',
          addTopicCount: 2,
        },
      ],
    });
    expect(await perm()).toBe(6);
  });

  it('deleteTopic removes the topic (optionally from one cluster only)', async () => {
    const one = await admin(['deleteTopic', '-t', 'TopicTest', '-c', 'OtherCluster', '-n', addr]);
    expect(one).toEqual({ code: 0, out: `${addr}: OK, deleted topic TopicTest in cluster OtherCluster\n`, err: '' });
    expect((await admin(['topicClusterList', '-t', 'TopicTest', '-n', addr])).out).toBe('DefaultCluster\n');
    expect((await admin(['deleteTopic', '-t', 'TopicTest', '-n', addr])).code).toBe(0);
    expect((await admin(['topicRoute', '-t', 'TopicTest', '-n', addr])).code).toBe(1);
  });

  it('kv put, get, list and delete; a missing key is exit 1 with QUERY_NOT_FOUND', async () => {
    expect(
      await admin(['kv', 'put', '-s', 'ORDER_TOPIC_CONFIG', '-k', 'TopicTest', '-v', 'broker-a:4', '-n', addr]),
    ).toEqual({
      code: 0,
      out: `${addr}: OK, ORDER_TOPIC_CONFIG TopicTest = broker-a:4\n`,
      err: '',
    });
    expect(
      await admin(['updateKvConfig', '-s', 'ORDER_TOPIC_CONFIG', '-k', 'Other', '-v', 'x', '-n', addr]),
    ).toMatchObject({ code: 0 });
    expect(await admin(['kv', 'get', '-s', 'ORDER_TOPIC_CONFIG', '-k', 'TopicTest', '-n', addr])).toEqual({
      code: 0,
      out: 'broker-a:4\n',
      err: '',
    });
    expect(
      JSON.parse((await admin(['kv', 'get', '-s', 'ORDER_TOPIC_CONFIG', '-k', 'TopicTest', '-n', addr, '--json'])).out),
    ).toEqual({
      namespace: 'ORDER_TOPIC_CONFIG',
      key: 'TopicTest',
      value: 'broker-a:4',
    });
    const list = await admin(['kv', 'list', '-s', 'ORDER_TOPIC_CONFIG', '-n', addr]);
    expect(list.out.split('\n')).toEqual(['#Key       #Value', 'Other      x', 'TopicTest  broker-a:4', '']);
    expect(JSON.parse((await admin(['kv', 'list', '-s', 'ORDER_TOPIC_CONFIG', '-n', addr, '--json'])).out)).toEqual({
      namespace: 'ORDER_TOPIC_CONFIG',
      table: { Other: 'x', TopicTest: 'broker-a:4' },
    });
    expect((await admin(['kv', 'delete', '-s', 'ORDER_TOPIC_CONFIG', '-k', 'TopicTest', '-n', addr])).code).toBe(0);
    const missing = await admin(['kv', 'get', '-s', 'ORDER_TOPIC_CONFIG', '-k', 'TopicTest', '-n', addr]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('QUERY_NOT_FOUND (22): No config item, Namespace: ORDER_TOPIC_CONFIG Key: TopicTest');
  });
});

describe('admin with several name servers', () => {
  let second: TestServer;
  let addr2: string;
  beforeEach(async () => {
    second = await startTestServer();
    addr2 = `127.0.0.1:${second.server.remotingPort}`;
    await registerBroker(await second.client(), brokerA);
  });
  afterEach(async () => {
    await second.stop();
  });

  it('writes go to every server and are reported per server', async () => {
    const r = await admin(['wipeWritePerm', '-b', 'broker-a', '-n', `${addr};${addr2}`]);
    expect(r).toEqual({
      code: 0,
      out: `${addr}: OK, 2 topic(s) of broker broker-a\n${addr2}: OK, 2 topic(s) of broker broker-a\n`,
      err: '',
    });
    const kv = await admin(['kv', 'put', '-s', 'ns', '-k', 'k', '-v', 'v', '-n', `${addr};${addr2}`]);
    expect(kv.code).toBe(0);
    expect(t.server.kv.get('ns', 'k')).toBe('v');
    expect(second.server.kv.get('ns', 'k')).toBe('v');
  });

  it('a write with one server unreachable still reaches the others and exits 2', async () => {
    const r = await admin(['kv', 'put', '-s', 'ns', '-k', 'k', '-v', 'v', '-n', `${CLOSED_ADDR};${addr2}`, '--json']);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`${CLOSED_ADDR}: unreachable (connection refused)\n`);
    expect(JSON.parse(r.out).results).toEqual([
      { nameServer: CLOSED_ADDR, ok: false, unreachable: true, error: 'connection refused' },
      {
        nameServer: addr2,
        ok: true,
        code: 0,
        codeName: 'SUCCESS',
        remark: null,
        namespace: 'ns',
        key: 'k',
        value: 'v',
      },
    ]);
    expect(second.server.kv.get('ns', 'k')).toBe('v');
  });

  it('reads ask the first reachable server', async () => {
    const r = await admin(['topicClusterList', '-t', 'TopicTest', '-n', `${CLOSED_ADDR};${addr2};${addr}`]);
    expect(r).toEqual({ code: 0, out: 'DefaultCluster\n', err: '' });
    // The second server knows only broker-a: it answered, the third was not asked.
    expect(JSON.parse((await admin(['clusterList', '--json', '-n', `${addr2};${addr}`])).out).clusterAddrTable).toEqual(
      { DefaultCluster: ['broker-a'] },
    );
  });

  it('getNamesrvConfig --all asks every server', async () => {
    const json = JSON.parse((await admin(['getNamesrvConfig', '--all', '--json', '-n', `${addr};${addr2}`])).out);
    expect(Object.keys(json)).toEqual([addr, addr2]);
  });
});

describe('admin argument and reachability errors', () => {
  it.each([
    [[], 'no command given'],
    [['clusterLst'], 'unknown command "clusterLst"'],
    [['topicRoute'], 'topicRoute needs -t <topic>'],
    [['topicRoute', '-t'], 'option -t needs a value'],
    [['topicRoute', '-t', 'a', '--bogus'], 'unknown option --bogus'],
    [['clusterList', '-b', 'x'], 'clusterList takes no option -b/--brokerName'],
    [['clusterList', 'extra'], 'unexpected argument "extra"'],
    [['kv'], 'kv needs a subcommand'],
    [['kv', 'nope'], 'unknown kv subcommand "nope"'],
    [['clusterList', '-n', 'localhost'], 'bad name server address "localhost" is not host:port'],
    [['clusterList', '-n', '127.0.0.1:99999'], 'has no valid port'],
    [['clusterList', '--timeout', 'soon'], '--timeout: expected a whole number'],
    [['watch', '--gateway', 'http://x/ws'], 'expected a ws:// or wss:// URL'],
  ])('%j -> exit 2 with a one-line reason', async (argv, message) => {
    const r = await admin(argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.split('\n')[0]).toContain(message);
  });

  it('an unreachable server is exit 2 with the reason', async () => {
    const r = await admin(['clusterList', '-n', CLOSED_ADDR]);
    expect(r).toEqual({
      code: 2,
      out: '',
      err: `xnamesrv admin: cannot reach name server ${CLOSED_ADDR} (connection refused)\n`,
    });
    const two = await admin(['topicList', '-n', `${CLOSED_ADDR};127.0.0.1:2`]);
    expect(two.err).toBe(
      `xnamesrv admin: no name server reachable: ${CLOSED_ADDR} (connection refused); 127.0.0.1:2 (connection refused)\n`,
    );
  });

  it('takes the address from NAMESRV_ADDR when -n is absent', async () => {
    expect((await admin(['topicClusterList', '-t', 'TopicTest'], { NAMESRV_ADDR: addr })).out).toBe(
      'DefaultCluster\nOtherCluster\n',
    );
    expect((await admin(['topicList'], { NAMESRV_ADDR: CLOSED_ADDR })).code).toBe(2);
  });

  it('--help lists the commands; <command> --help shows its options', async () => {
    const help = await admin(['--help']);
    expect(help.code).toBe(0);
    for (const name of [
      'clusterList',
      'topicRoute',
      'topicList',
      'topicClusterList',
      'getNamesrvConfig',
      'updateNamesrvConfig',
      'wipeWritePerm',
      'addWritePerm',
      'deleteTopic',
      'kv get',
      'kv put',
      'kv delete',
      'kv list',
      'watch',
    ]) {
      expect(help.out).toContain(`  ${name} `);
    }
    const one = await admin(['kv', 'put', '--help']);
    expect(one.code).toBe(0);
    expect(one.out).toContain('Usage: xnamesrv admin kv put -s <namespace> -k <key> -v <value>');
  });
});

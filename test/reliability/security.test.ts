import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { formatEffectiveConfig } from '../../src/config/print.js';
import { createLogger } from '../../src/logging.js';
import { RemotingClient } from '../../src/remoting/client.js';
import { SerializeType } from '../../src/remoting/command.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { refusedUpgrade } from '../gateway/support.js';
import { getRoute, registerBroker } from '../support/broker.js';
import { until } from '../support/wait.js';
import { localServerArgs, startCli } from '../support/spawnedCli.js';
import { serverState, startObservedServer, type ObservedServer } from './support.js';

/**
 * The control surfaces are explicit: remoting write requests need adminToken
 * when one is configured (whatever the header serialization, whatever near
 * miss is presented), gateway control ops need gatewayToken, the gateway's
 * own writes carry the admin token only once the gateway token authorized
 * them, and neither token can be changed or read through the API. And no
 * secret is ever logged: not in the configuration printed at start, not
 * when a request is refused, not when a gateway client fails to authenticate.
 */

const ADMIN = 'adm-7Yq2-kL9x-Wv3p';
const GATEWAY = 'gw-Rt5m-8Nc1-Hz6b';

/** Writes an operator makes; each is refused without the admin token. */
const WRITES: Array<[string, number, Record<string, string>, Buffer | null]> = [
  ['PUT_KV_CONFIG', RequestCode.PUT_KV_CONFIG, { namespace: 'ns', key: 'k', value: 'changed' }, null],
  ['DELETE_KV_CONFIG', RequestCode.DELETE_KV_CONFIG, { namespace: 'ns', key: 'k' }, null],
  ['WIPE_WRITE_PERM_OF_BROKER', RequestCode.WIPE_WRITE_PERM_OF_BROKER, { brokerName: 'broker-a' }, null],
  ['ADD_WRITE_PERM_OF_BROKER', RequestCode.ADD_WRITE_PERM_OF_BROKER, { brokerName: 'broker-a' }, null],
  ['DELETE_TOPIC_IN_NAMESRV', RequestCode.DELETE_TOPIC_IN_NAMESRV, { topic: 'TopicA' }, null],
  [
    'REGISTER_TOPIC_IN_NAMESRV',
    RequestCode.REGISTER_TOPIC_IN_NAMESRV,
    { topic: 'Injected' },
    Buffer.from('{"queueDatas":[{"brokerName":"broker-a","readQueueNums":1,"writeQueueNums":1,"perm":6}]}'),
  ],
  ['UPDATE_NAMESRV_CONFIG', RequestCode.UPDATE_NAMESRV_CONFIG, {}, Buffer.from('enableAllTopicList=false')],
];

/** Everything that is not the admin token, however close. */
const NEAR_MISSES: Array<[string, string | undefined]> = [
  ['no token', undefined],
  ['empty', ''],
  ['one character short', ADMIN.slice(0, -1)],
  ['one character more', `${ADMIN}x`],
  ['other case', ADMIN.toUpperCase()],
  ['padded', ` ${ADMIN} `],
  ['the gateway token', GATEWAY],
  ['the masked display value', '******'],
  ['a NUL after it', `${ADMIN}\u0000`],
];

let t: ObservedServer;
let raw: string[];

beforeAll(async () => {
  // The production logger (its redaction included), at trace level, writing into memory.
  raw = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      raw.push(String(chunk));
      done();
    },
  });
  const logger = createLogger('trace', 'xnamesrv', sink);
  t = await startObservedServer({ adminToken: ADMIN, gatewayToken: GATEWAY }, { logger });
  const broker = await t.client();
  await registerBroker(broker, {
    brokerName: 'broker-a',
    brokerAddr: '127.0.0.1:20911',
    topics: { TopicA: {}, 'broker-a': {} },
  });
  expect(
    (await broker.invoke(RequestCode.PUT_KV_CONFIG, { namespace: 'ns', key: 'k', value: 'v', adminToken: ADMIN })).code,
  ).toBe(ResponseCode.SUCCESS);
});

afterAll(async () => {
  await t?.stop();
});

describe('adminToken on the remoting port', () => {
  it('refuses every write without the exact token, in JSON and binary headers, and changes nothing', async () => {
    const json = await t.client();
    const binary = await RemotingClient.connect({
      host: '127.0.0.1',
      port: t.server.remotingPort,
      serializeType: SerializeType.ROCKETMQ,
    });
    try {
      const before = serverState(t);
      for (const client of [json, binary]) {
        for (const [name, code, fields, body] of WRITES) {
          for (const [what, token] of NEAR_MISSES) {
            const ext = token === undefined ? { ...fields } : { ...fields, adminToken: token };
            const answer = await client.invoke(code, ext, body);
            expect(answer.code, `${name} with ${what}`).toBe(ResponseCode.NO_PERMISSION);
            expect(answer.remark).toBe(`${name} requires the admin token (ext field adminToken)`);
          }
        }
      }
      expect(serverState(t)).toBe(before);
    } finally {
      await binary.close();
    }
  });

  it('lets reads and broker traffic through without a token, and writes with it', async () => {
    const client = await t.client();
    expect((await getRoute(client, 'TopicA')).code).toBe(ResponseCode.SUCCESS);
    expect((await client.invoke(RequestCode.GET_KV_CONFIG, { namespace: 'ns', key: 'k' })).code).toBe(
      ResponseCode.SUCCESS,
    );
    expect(
      (
        await client.invoke(RequestCode.BROKER_HEARTBEAT, {
          clusterName: 'DefaultCluster',
          brokerName: 'broker-a',
          brokerAddr: '127.0.0.1:20911',
        })
      ).code,
    ).toBe(ResponseCode.SUCCESS);
    const config = (await client.invoke(RequestCode.GET_NAMESRV_CONFIG)).body!.toString('utf8');
    expect(config).toMatch(/^adminToken=\*{6}$/m);
    expect(config).toMatch(/^gatewayToken=\*{6}$/m);
    expect(config).not.toContain(ADMIN);
    expect(config).not.toContain(GATEWAY);
    const allowed = await client.invoke(RequestCode.ADD_WRITE_PERM_OF_BROKER, {
      brokerName: 'broker-a',
      adminToken: ADMIN,
    });
    expect(allowed.code).toBe(ResponseCode.SUCCESS);
  });

  it('cannot change or reveal either token through UPDATE_NAMESRV_CONFIG, even with the admin token', async () => {
    const client = await t.client();
    for (const text of [
      `adminToken=${ADMIN}-2`,
      `gatewayToken=${GATEWAY}-2`,
      'adminToken=',
      `enableTopicList=true\nadminToken=x`,
    ]) {
      const answer = await client.invoke(RequestCode.UPDATE_NAMESRV_CONFIG, { adminToken: ADMIN }, Buffer.from(text));
      expect(answer.code, text).toBe(ResponseCode.SYSTEM_ERROR);
      expect(answer.remark, text).toMatch(/cannot be changed at runtime/);
      expect(answer.remark).not.toContain(ADMIN);
    }
    expect(t.server.config.get().adminToken).toBe(ADMIN);
    expect(t.server.config.get().gatewayToken).toBe(GATEWAY);
  });
});

describe('the gateway path', () => {
  it('needs the gateway token for control ops; an adminToken field from the client grants nothing', async () => {
    const before = serverState(t);
    const { client } = await t.open();
    for (const fields of [{ adminToken: ADMIN }, { token: GATEWAY }, {}]) {
      const answer = await client.request('putKv', { namespace: 'ns', key: 'k', value: 'changed', ...fields });
      expect(answer).toMatchObject({ type: 'error', code: 'unauthorized' });
    }
    // The admin token is not the gateway token, nor the other way round.
    expect(await client.request('auth', { token: ADMIN })).toMatchObject({ code: 'unauthorized' });
    expect((await refusedUpgrade(t.server.httpPort, { token: ADMIN })).status).toBe(401);
    expect(serverState(t)).toBe(before);
  });

  it('with the gateway token, runs control ops (the gateway adds the admin token itself), but cannot touch the tokens', async () => {
    const { client } = await t.open({ token: GATEWAY });
    expect(await client.request('putKv', { namespace: 'ns', key: 'gw', value: 'yes' })).toMatchObject({
      type: 'response',
    });
    expect(t.server.kv.get('ns', 'gw')).toBe('yes');
    const refused = await client.request('updateConfig', { config: { adminToken: 'taken-over' } });
    expect(refused).toMatchObject({ type: 'error', code: 'remoting_error', remotingCodeName: 'SYSTEM_ERROR' });
    expect(refused.message).toMatch(/adminToken cannot be changed at runtime/);
    expect(t.server.config.get().adminToken).toBe(ADMIN);
  });

  it('refuses control ops with "forbidden" when only adminToken is configured (no gateway token)', async () => {
    const onlyAdmin = await startObservedServer({ adminToken: ADMIN });
    try {
      const { client, hello } = await onlyAdmin.open({ token: ADMIN });
      expect(hello.auth).toEqual({ authorized: false, controlOps: 'disabled' });
      expect(await client.request('putKv', { namespace: 'ns', key: 'k', value: 'v' })).toMatchObject({
        code: 'forbidden',
      });
      expect(onlyAdmin.server.kv.get('ns', 'k')).toBeUndefined();
    } finally {
      await onlyAdmin.stop();
    }
  });
});

describe('secrets in logs', () => {
  it('never logs either token over a session of start, refused and accepted requests, gateway auth failures and stop', async () => {
    const client = await t.client();
    // Refused remoting writes, guesses included.
    await client.invoke(RequestCode.PUT_KV_CONFIG, {
      namespace: 'ns',
      key: 'x',
      value: 'y',
      adminToken: ADMIN.slice(0, -1),
    });
    await client.invoke(
      RequestCode.UPDATE_NAMESRV_CONFIG,
      { adminToken: ADMIN },
      Buffer.from(`gatewayToken=${GATEWAY}`),
    );
    await client.invoke(RequestCode.UPDATE_NAMESRV_CONFIG, { adminToken: ADMIN }, Buffer.from('logLevel=trace'));
    // Gateway: a wrong bearer at the upgrade, wrong and right auth ops, a control op.
    await refusedUpgrade(t.server.httpPort, { token: `${GATEWAY}-guess` });
    const { client: ws } = await t.open();
    await ws.request('auth', { token: `${GATEWAY}-guess` });
    await ws.request('auth', { token: GATEWAY });
    await ws.request('updateConfig', { config: { gatewayToken: GATEWAY, adminToken: ADMIN } });
    await ws.request('putKv', { namespace: 'ns', key: 'logged', value: 'v' });

    const text = () => raw.join('');
    // The configuration is logged at start, masked.
    const configLine = raw.find((line) => line.includes('"msg":"effective configuration"'));
    expect(configLine).toBeDefined();
    expect(JSON.parse(configLine!).config).toMatchObject({
      adminToken: '******',
      gatewayToken: '******',
      listenPort: '0',
    });
    // What was logged includes the refusals and failures, so the check below looks at them.
    expect(text()).toContain('write request refused: admin token missing or wrong');
    expect(text()).toContain('gateway upgrade refused');
    expect(text()).toContain('gateway auth failed: wrong token');
    for (const secret of [ADMIN, GATEWAY, ADMIN.slice(0, 9), GATEWAY.slice(0, 9)]) expect(text()).not.toContain(secret);
    // The guesses are not logged either: a near miss is most of a secret.
    expect(text()).not.toContain(`${GATEWAY}-guess`);
  });

  it('never prints either token from -p, nor logs it from the command line at trace level', async () => {
    const printed = loadConfig({
      argv: ['--adminToken', ADMIN, '--gatewayToken', GATEWAY],
      env: {},
      homeDir: '/home/tester',
    });
    if (!printed.ok) throw new Error(printed.errors.join());
    const listing = formatEffectiveConfig(printed.config);
    expect(listing).not.toContain(ADMIN);
    expect(listing).not.toContain(GATEWAY);

    const dataDir = await mkdtemp(join(tmpdir(), 'xnamesrv-secrets-'));
    try {
      const cli = await startCli(localServerArgs(dataDir, 'trace'), {
        XNAMESRV_ADMIN_TOKEN: ADMIN,
        XNAMESRV_GATEWAY_TOKEN: GATEWAY,
      });
      const client = await RemotingClient.connect({ host: '127.0.0.1', port: cli.remotingPort });
      await client.invoke(RequestCode.PUT_KV_CONFIG, { namespace: 'ns', key: 'k', value: 'v', adminToken: 'wrong' });
      await client.invoke(RequestCode.PUT_KV_CONFIG, { namespace: 'ns', key: 'k', value: 'v', adminToken: ADMIN });
      await refusedUpgrade(cli.httpPort, { token: 'wrong' });
      await client.close();
      cli.child.kill('SIGTERM');
      expect((await cli.exited).code).toBe(0);
      await until(() => cli.stderr().includes('-> stopped"'), 'the last log line');
      const stderr = cli.stderr();
      expect(stderr).toContain('"adminToken":"******"');
      expect(stderr).toContain('write request refused');
      expect(stderr).not.toContain(ADMIN);
      expect(stderr).not.toContain(GATEWAY);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ALWAYS_BLACK_LISTED, CONFIG_KEYS, envNameOf, isConfigKey, type ConfigKey } from '../../src/config/schema.js';
import { formatProperties } from '../../src/config/properties.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import type { RemotingClient } from '../../src/remoting/client.js';
import { runs, startObservedServer, type ObservedServer } from './support.js';
import { spawnSync } from 'node:child_process';
import { MAIN } from '../support/spawnedCli.js';

/**
 * Configuration is refused at start, naming the key, for an unknown key, a
 * value of the wrong type and a contradiction, from every source (flag,
 * environment, properties file). At runtime UPDATE_NAMESRV_CONFIG cannot
 * touch a configBlackList key, from the remoting port or the gateway, and a
 * refused update changes neither the live configuration nor the stored file.
 */

const HOME = '/home/tester';

function errorsOf(argv: string[], env: Record<string, string> = {}): string[] {
  const result = loadConfig({ argv, env, homeDir: HOME });
  if (result.ok) throw new Error(`accepted: ${JSON.stringify(argv)} ${JSON.stringify(env)}`);
  return result.errors;
}

const identifier = fc
  .stringMatching(/^[a-z][A-Za-z0-9]{0,20}$/)
  .filter(
    (name) =>
      !isConfigKey(name) &&
      !['configFile', 'help', 'printConfigItem', 'inspect', 'c', 'h', 'p'].includes(name) &&
      CONFIG_KEYS.every((k) => k.name.toLowerCase() !== name.toLowerCase()),
  );

/** A value each key's type refuses. */
function wrongValues(key: ConfigKey): fc.Arbitrary<string> {
  const def = CONFIG_KEYS.find((k) => k.name === key)!;
  switch (def.type) {
    case 'boolean':
      return fc.oneof(
        fc.constantFrom('yes', 'no', '1', '0', 'on', 'tru', ''),
        fc.string({ maxLength: 8 }).filter((s) => !['true', 'false'].includes(s.trim().toLowerCase())),
      );
    case 'int':
    case 'long': {
      const min = def.min ?? Number.MIN_SAFE_INTEGER;
      const max = def.max ?? Number.MAX_SAFE_INTEGER;
      // Out-of-range values only where a range exists: a filter that can never
      // pass would make fast-check retry forever once the seed reaches it.
      const outOfRange: string[] = [];
      if (max < Number.MAX_SAFE_INTEGER) outOfRange.push(String(max + 1));
      if (min > Number.MIN_SAFE_INTEGER) outOfRange.push(String(min - 1));
      return fc.constantFrom('', 'ten', '1.5', '0x10', '1e3', '12abc', '--1', '9'.repeat(30), ...outOfRange);
    }
    case 'enum':
      return fc.string({ maxLength: 10 }).filter((s) => !def.values.includes(s.trim()));
    default:
      return fc.constant('');
  }
}

const typedKeys = CONFIG_KEYS.filter(
  (k) => k.type === 'boolean' || k.type === 'int' || k.type === 'long' || k.type === 'enum',
).map((k) => k.name);

describe('configuration refused at start', () => {
  it('refuses an unknown key from a flag, the environment or the properties file, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xnamesrv-cfg-'));
    try {
      fc.assert(
        fc.property(
          identifier,
          fc.string({ maxLength: 8 }).filter((v) => !v.startsWith('-') && !/[\r\n\\]/.test(v)),
          (name, value) => {
            expect(errorsOf([`--${name}`, value || 'x']).join('\n')).toContain(name);
            const env = `XNAMESRV_${name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
            expect(errorsOf([], { [env]: value }).join('\n')).toContain(env);
            const path = join(dir, 'namesrv.properties');
            writeFileSync(path, `listenPort=9876\n${name}=${value}\n`);
            const fromFile = errorsOf(['-c', path]).join('\n');
            expect(fromFile).toContain(name);
            expect(fromFile).toContain(`${path} line 2`);
          },
        ),
        runs(150),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a value of the wrong type for every typed key, naming the key and where the value came from', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...typedKeys).chain((key) => fc.tuple(fc.constant(key), wrongValues(key))),
        ([key, value]) => {
          const fromFlag = errorsOf([`--${key}=${value}`]);
          expect(
            fromFlag.some((e) => e.startsWith(`${key}:`) && e.includes(`flag --${key}`)),
            fromFlag.join('\n'),
          ).toBe(true);
          const fromEnv = errorsOf([], { [envNameOf(key)]: value });
          expect(
            fromEnv.some((e) => e.startsWith(`${key}:`) && e.includes(envNameOf(key))),
            fromEnv.join('\n'),
          ).toBe(true);
        },
      ),
      runs(300),
    );
  });

  it('refuses contradictions, naming every key involved', () => {
    const cases: Array<[string[], ConfigKey[]]> = [
      [
        ['--waitForBrokers', '2'],
        ['waitForBrokers', 'needWaitForService'],
      ],
      [
        ['--waitForBrokerNames', 'C/b'],
        ['waitForBrokerNames', 'needWaitForService'],
      ],
      [
        ['--needWaitForService', 'true', '--waitSecondsForService', '60', '--waitTimeoutSeconds', '30'],
        ['waitTimeoutSeconds', 'waitSecondsForService'],
      ],
      [
        ['--listenPort', '9000', '--httpPort', '9000'],
        ['listenPort', 'httpPort'],
      ],
      [
        ['--kvConfigPath', '/tmp/a', '--configStorePath', '/tmp/a'],
        ['kvConfigPath', 'configStorePath'],
      ],
      [['--enableControllerInNamesrv', 'true'], ['enableControllerInNamesrv']],
      [
        ['--maxFrameLength', String(512 * 1024 * 1024)],
        ['remotingMaxBufferedBytes', 'maxFrameLength'],
      ],
      [
        ['--remotingMaxBufferedBytes', '1024', '--maxFrameLength', '2048'],
        ['remotingMaxBufferedBytes', 'maxFrameLength'],
      ],
      [
        ['--gatewayMaxClients', '5000'],
        ['httpMaxConnections', 'gatewayMaxClients'],
      ],
      [
        ['--httpMaxConnections', '10', '--gatewayMaxClients', '10'],
        ['httpMaxConnections', 'gatewayMaxClients'],
      ],
      [['--adminToken', '******'], ['adminToken']],
      [['--bindAddress', 'not an address!'], ['bindAddress']],
    ];
    for (const [argv, keys] of cases) {
      const errors = errorsOf(argv).join('\n');
      for (const key of keys) expect(errors, argv.join(' ')).toContain(key);
    }
  });

  it('exits 2 from the command line on a contradiction, naming the keys, before binding anything', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xnamesrv-cfg-'));
    try {
      const run = spawnSync(
        process.execPath,
        [
          MAIN,
          '--data-dir',
          dir,
          '--listenPort',
          '0',
          '--httpPort',
          '0',
          '--httpMaxConnections',
          '100',
          '--gatewayMaxClients',
          '100',
        ],
        {
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '' },
          timeout: 15_000,
        },
      );
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('httpMaxConnections');
      expect(run.stderr).toContain('gatewayMaxClients');
      expect(existsSync(join(dir, 'kvConfig.json'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('UPDATE_NAMESRV_CONFIG and the black list', () => {
  const TOKEN = 'gw-config-token';
  let t: ObservedServer;
  let client: RemotingClient;
  let storePath: string;

  beforeAll(async () => {
    // orderMessageEnable added to the black list: a runtime-updatable key the operator chose to lock.
    t = await startObservedServer({
      gatewayToken: TOKEN,
      configBlackList: 'configBlackList;configStorePath;kvConfigPath;orderMessageEnable',
    });
    client = await t.client();
    storePath = t.server.config.get().configStorePath;
  });
  afterAll(async () => {
    await t?.stop();
  });

  const blackListed: ConfigKey[] = [...ALWAYS_BLACK_LISTED, 'orderMessageEnable'];
  const allowed = fc.constantFrom<[ConfigKey, string]>(
    ['enableAllTopicList', 'false'],
    ['enableTopicList', 'false'],
    ['supportActingMaster', 'true'],
    ['deleteTopicWithBrokerRegistration', 'true'],
    ['returnOrderTopicConfigToBroker', 'false'],
  );
  const blackValue = fc.oneof(
    fc.constantFrom('', '/tmp/elsewhere', 'true', 'configBlackList', 'kvConfigPath;configStorePath'),
    fc.string({ maxLength: 10 }).filter((s) => !/[\r\n\\]/.test(s)),
  );

  it('refuses any update naming a black-listed key with NO_PERMISSION, all or nothing, over TCP and the gateway', async () => {
    const { client: ws } = await t.open({ token: TOKEN });
    const before = JSON.stringify(t.server.config.get());
    const fileBefore = existsSync(storePath) ? readFileSync(storePath, 'utf8') : undefined;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.constantFrom(...blackListed), { minLength: 1, maxLength: 3 }),
        fc.array(blackValue, { minLength: 3, maxLength: 3 }),
        fc.array(allowed, { maxLength: 3 }),
        fc.boolean(),
        async (keys, values, others, overGateway) => {
          const entries: Array<[string, string]> = [
            ...others,
            ...keys.map((key, i): [string, string] => [key, values[i]!]),
          ];
          if (overGateway) {
            const answer = await ws.request('updateConfig', { config: Object.fromEntries(entries) });
            expect(answer).toMatchObject({
              type: 'error',
              code: 'remoting_error',
              remotingCode: ResponseCode.NO_PERMISSION,
            });
          } else {
            const answer = await client.invoke(
              RequestCode.UPDATE_NAMESRV_CONFIG,
              null,
              Buffer.from(formatProperties(entries), 'utf8'),
            );
            expect(answer.code).toBe(ResponseCode.NO_PERMISSION);
            expect(answer.remark).toBe('Can not update config in black list.');
          }
          expect(JSON.stringify(t.server.config.get())).toBe(before);
          expect(existsSync(storePath) ? readFileSync(storePath, 'utf8') : undefined).toBe(fileBefore);
        },
      ),
      runs(100),
    );
  });

  it('names the key it refuses for being unknown, start-up only, or of the wrong type, and changes nothing', async () => {
    const before = JSON.stringify(t.server.config.get());
    const cases: Array<[string, RegExp]> = [
      ['listenPrt=1', /unknown key "listenPrt"/],
      ['listenPort=1', /listenPort cannot be changed at runtime/],
      ['adminToken=let-me-in', /adminToken cannot be changed at runtime/],
      ['gatewayToken=let-me-in', /gatewayToken cannot be changed at runtime/],
      ['enableTopicList=perhaps', /enableTopicList: expected true or false/],
      ['logLevel=loud', /logLevel: expected one of/],
      ['enableTopicList=false\nlistenPort=2', /listenPort/],
    ];
    for (const [text, remark] of cases) {
      const answer = await client.invoke(RequestCode.UPDATE_NAMESRV_CONFIG, null, Buffer.from(text, 'utf8'));
      expect(answer.code, text).toBe(ResponseCode.SYSTEM_ERROR);
      expect(answer.remark, text).toMatch(remark);
      expect(answer.remark, text).not.toContain('let-me-in');
      expect(JSON.stringify(t.server.config.get()), text).toBe(before);
    }
  });
});

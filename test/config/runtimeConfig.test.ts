import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { formatEffectiveConfig } from '../../src/config/print.js';
import { parseProperties } from '../../src/config/properties.js';
import { BLACK_LIST_REMARK, RuntimeConfig } from '../../src/config/runtimeConfig.js';
import { CONFIG_KEYS, type NamesrvOptions } from '../../src/config/schema.js';

const GOLDEN = '/work/shared/golden/rocketmq-4.9.8/extra/get_namesrv_config.response.body.bin';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xnamesrv-runtime-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function configWith(argv: string[] = []): NamesrvOptions {
  const result = loadConfig({ argv: ['--data-dir', dir, ...argv], env: {}, homeDir: dir });
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.config;
}

function propertiesOf(text: string): Map<string, string> {
  const parsed = parseProperties(text);
  if (!parsed.ok) throw new Error('unparsable');
  return parsed.values;
}

describe('formatEffectiveConfig (-p)', () => {
  it('prints every key once, sorted, as key=value lines', () => {
    const text = formatEffectiveConfig(configWith());
    const lines = text.trimEnd().split('\n');
    const keys = lines.map((line) => line.slice(0, line.indexOf('=')));
    expect(keys).toEqual(CONFIG_KEYS.map((info) => info.name).sort());
    expect(lines).toContain('listenPort=9876');
    expect(lines).toContain('waitTimeoutAction=serve');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('masks secrets and shows an unset secret as empty', () => {
    const text = formatEffectiveConfig(configWith(['--gatewayToken', 's3cret-gw', '--adminToken', 'hunter2']));
    expect(text).not.toContain('s3cret-gw');
    expect(text).not.toContain('hunter2');
    expect(text).toContain('gatewayToken=******\n');
    expect(text).toContain('adminToken=******\n');
    expect(formatEffectiveConfig(configWith())).toContain('adminToken=\n');
  });
});

describe('RuntimeConfig.toPropertiesText (GET_NAMESRV_CONFIG)', () => {
  it('has the shape of the Java 4.9.8 body: every Java key present, one key=value per line', () => {
    const golden = propertiesOf(readFileSync(GOLDEN, 'utf8'));
    const ours = propertiesOf(new RuntimeConfig(configWith()).toPropertiesText());
    for (const key of golden.keys()) expect(ours.has(key), key).toBe(true);
    expect(ours.get('configBlackList')).toBe(golden.get('configBlackList'));
    expect(ours.get('serverChannelMaxIdleTimeSeconds')).toBe(golden.get('serverChannelMaxIdleTimeSeconds'));
  });

  it('masks secrets', () => {
    const text = new RuntimeConfig(configWith(['--adminToken', 'hunter2'])).toPropertiesText();
    expect(text).toContain('adminToken=******');
    expect(text).not.toContain('hunter2');
  });
});

describe('RuntimeConfig.update (UPDATE_NAMESRV_CONFIG)', () => {
  it('refuses a black-listed key with the Java remark and changes nothing', async () => {
    const runtime = new RuntimeConfig(configWith());
    const writeFile = vi.fn();
    const guarded = new RuntimeConfig(configWith(), { writeFile });
    const before = guarded.get();
    for (const text of [
      'kvConfigPath=/tmp/x',
      'configStorePath=/tmp/y',
      'configBlackList=',
      'rocketmqHome=/opt',
      'orderMessageEnable=true\nkvConfigPath=/tmp/x',
    ]) {
      const result = await guarded.update(text);
      expect(result).toEqual({ ok: false, remark: BLACK_LIST_REMARK, blackListed: true });
    }
    expect(guarded.get()).toBe(before);
    expect(guarded.get().orderMessageEnable).toBe(false);
    expect(writeFile).not.toHaveBeenCalled();
    expect(BLACK_LIST_REMARK).toBe('Can not update config in black list.');
    expect(runtime.blackList()).toEqual(
      new Set(['configBlackList', 'configStorePath', 'kvConfigPath', 'rocketmqHome']),
    );
  });

  it('honours keys added to configBlackList', async () => {
    const runtime = new RuntimeConfig(configWith(['--configBlackList', 'configBlackList;enableAllTopicList']));
    const result = await runtime.update('enableAllTopicList=false');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.blackListed).toBe(true);
    expect(runtime.get().enableAllTopicList).toBe(true);
    // The fixed entries stay refused even when the configured list leaves them out.
    expect((await runtime.update('kvConfigPath=/x')).ok).toBe(false);
  });

  it('refuses unknown, start-up-only and mistyped keys, all or nothing', async () => {
    const writeFile = vi.fn(async () => undefined);
    const runtime = new RuntimeConfig(configWith(), { writeFile });
    const cases: Array<[string, RegExp]> = [
      ['listenPort=1234', /listenPort cannot be changed at runtime/],
      ['noSuchKey=1', /unknown key "noSuchKey"/],
      ['orderMessageEnable=maybe', /orderMessageEnable: expected true or false/],
      ['enableAllTopicList=false\nlistenPort=1', /listenPort/],
      ['bad=\\u12', /invalid properties text: line 1/],
    ];
    for (const [text, remark] of cases) {
      const result = await runtime.update(text);
      expect(result.ok, text).toBe(false);
      if (!result.ok) {
        expect(result.remark).toMatch(remark);
        expect(result.blackListed).toBe(false);
      }
    }
    expect(runtime.get().enableAllTopicList).toBe(true);
    expect(writeFile).not.toHaveBeenCalled();
  });

  it('applies, persists the full configuration and notifies listeners', async () => {
    const runtime = new RuntimeConfig(configWith(['--gatewayToken', 'gw-secret']));
    const seen: Array<{ changed: readonly string[]; enableAllTopicList: boolean; previous: boolean }> = [];
    runtime.onChange((next, changed, previous) =>
      seen.push({ changed, enableAllTopicList: next.enableAllTopicList, previous: previous.enableAllTopicList }),
    );

    const result = await runtime.update('enableAllTopicList=false\norderMessageEnable=true\nlogLevel=debug\n');
    expect(result).toEqual({ ok: true, changed: ['enableAllTopicList', 'logLevel', 'orderMessageEnable'] });
    expect(runtime.get().enableAllTopicList).toBe(false);
    expect(runtime.get().orderMessageEnable).toBe(true);
    expect(seen).toEqual([
      { changed: ['enableAllTopicList', 'logLevel', 'orderMessageEnable'], enableAllTopicList: false, previous: true },
    ]);

    const storePath = runtime.get().configStorePath;
    const stored = propertiesOf(readFileSync(storePath, 'utf8'));
    expect(stored.size).toBe(CONFIG_KEYS.length);
    expect(stored.get('enableAllTopicList')).toBe('false');
    // The stored file is what a restart reads: the secret is there in clear, for its owner only.
    expect(stored.get('gatewayToken')).toBe('gw-secret');
    expect(statSync(storePath).mode & 0o777).toBe(0o600);
    expect(runtime.toPropertiesText()).not.toContain('gw-secret');
  });

  it('round-trips: a restart with -c on the persisted file has the updated configuration', async () => {
    const runtime = new RuntimeConfig(
      configWith(['--needWaitForService', 'true', '--waitForBrokerNames', 'c1/a;c1/b']),
    );
    expect((await runtime.update('deleteTopicWithBrokerRegistration=true')).ok).toBe(true);
    const reloaded = loadConfig({ argv: ['-c', runtime.get().configStorePath], env: {}, homeDir: '/elsewhere' });
    expect(reloaded.ok).toBe(true);
    if (reloaded.ok) expect(reloaded.config).toEqual(runtime.get());
  });

  it('keeps the live configuration when persisting fails', async () => {
    const writeFile = vi.fn(async () => {
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    });
    const runtime = new RuntimeConfig(configWith(), { writeFile });
    const listener = vi.fn();
    runtime.onChange(listener);
    const before = runtime.get();
    const result = await runtime.update('enableTopicList=false');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.remark).toMatch(/not persisted to .*namesrv\.properties.*ENOSPC/);
      expect(result.blackListed).toBe(false);
    }
    expect(runtime.get()).toBe(before);
    expect(listener).not.toHaveBeenCalled();
  });

  it('keeps the live configuration when configStorePath is a directory', async () => {
    const config = configWith();
    mkdirSync(config.configStorePath, { recursive: true });
    const runtime = new RuntimeConfig(config);
    const result = await runtime.update('enableTopicList=false');
    expect(result.ok).toBe(false);
    expect(runtime.get().enableTopicList).toBe(true);
    expect(statSync(config.configStorePath).isDirectory()).toBe(true);
  });

  it('does not write when nothing changes', async () => {
    const writeFile = vi.fn(async () => undefined);
    const runtime = new RuntimeConfig(configWith(), { writeFile });
    expect(await runtime.update('enableTopicList=true\n')).toEqual({ ok: true, changed: [] });
    expect(await runtime.update('')).toEqual({ ok: true, changed: [] });
    expect(writeFile).not.toHaveBeenCalled();
    expect(existsSync(runtime.get().configStorePath)).toBe(false);
  });

  it('serializes concurrent updates so neither is lost', async () => {
    const runtime = new RuntimeConfig(configWith());
    const results = await Promise.all([
      runtime.update('enableTopicList=false'),
      runtime.update('orderMessageEnable=true'),
      runtime.update('notifyMinBrokerIdChanged=true'),
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
    const stored = propertiesOf(readFileSync(runtime.get().configStorePath, 'utf8'));
    expect([
      stored.get('enableTopicList'),
      stored.get('orderMessageEnable'),
      stored.get('notifyMinBrokerIdChanged'),
    ]).toEqual(['false', 'true', 'true']);
  });

  it('keeps notifying other listeners when one throws, and stops after unsubscribe', async () => {
    const runtime = new RuntimeConfig(configWith());
    const second = vi.fn();
    runtime.onChange(() => {
      throw new Error('boom');
    });
    const unsubscribe = runtime.onChange(second);
    expect((await runtime.update('clusterTest=true')).ok).toBe(false); // start-up only
    expect((await runtime.update('supportActingMaster=true')).ok).toBe(true);
    expect(second).toHaveBeenCalledTimes(1);
    unsubscribe();
    expect((await runtime.update('supportActingMaster=false')).ok).toBe(true);
    expect(second).toHaveBeenCalledTimes(1);
  });
});

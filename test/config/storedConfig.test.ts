import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type LoadConfigResult } from '../../src/config/load.js';
import { RuntimeConfig } from '../../src/config/runtimeConfig.js';
import { formatProperties } from '../../src/config/properties.js';

/**
 * Without -c, the file UPDATE_NAMESRV_CONFIG persists to (configStorePath,
 * <dataDir>/namesrv.properties under --data-dir) is read back at the next
 * start: defaults < its runtime-updatable keys < environment < flags. With
 * -c, the -c file is that file, as in Java.
 */

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xnamesrv-stored-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function load(argv: string[], env: Record<string, string | undefined> = {}): LoadConfigResult & { ok: true } {
  const result = loadConfig({ argv, env, homeDir: join(dir, 'home') });
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result;
}

const dataDir = () => ['--data-dir', join(dir, 'data')];

/** What a run's UPDATE_NAMESRV_CONFIG leaves in configStorePath. */
async function updatedAtRuntime(argv: string[], update: string): Promise<void> {
  const runtime = new RuntimeConfig(load(argv).config);
  const result = await runtime.update(update);
  if (!result.ok) throw new Error(result.remark);
}

describe('settings changed at runtime survive a restart', () => {
  it('reads back the runtime-updatable keys of <dataDir>/namesrv.properties', async () => {
    await updatedAtRuntime([...dataDir(), '--listenPort', '19876'], 'orderMessageEnable=true\nlogLevel=debug\n');
    const next = load(dataDir());
    expect(next.config.orderMessageEnable).toBe(true);
    expect(next.config.logLevel).toBe('debug');
    // The last run's start-up values in the file are not carried over.
    expect(readFileSync(join(dir, 'data', 'namesrv.properties'), 'utf8')).toMatch(/^listenPort=19876$/m);
    expect(next.config.listenPort).toBe(9876);
    expect(next.storedConfig).toEqual({
      path: join(dir, 'data', 'namesrv.properties'),
      keys: ['logLevel', 'orderMessageEnable'],
    });
  });

  it('environment and flags still win over what was stored', async () => {
    await updatedAtRuntime(dataDir(), 'orderMessageEnable=true\nlogLevel=debug\nenableTopicList=false\n');
    const next = load([...dataDir(), '--logLevel', 'warn'], { XNAMESRV_ORDER_MESSAGE_ENABLE: 'false' });
    expect(next.config.logLevel).toBe('warn');
    expect(next.config.orderMessageEnable).toBe(false);
    expect(next.config.enableTopicList).toBe(false);
    expect(next.storedConfig!.keys).toEqual(['enableTopicList']);
  });

  it('-p shows the stored values', async () => {
    await updatedAtRuntime(dataDir(), 'supportActingMaster=true\n');
    expect(load([...dataDir(), '-p']).config.supportActingMaster).toBe(true);
  });

  it('also without --data-dir (~/namesrv/namesrv.properties) and at an explicit configStorePath', async () => {
    await updatedAtRuntime([], 'orderMessageEnable=true\n');
    expect(load([]).config.orderMessageEnable).toBe(true);
    const elsewhere = join(dir, 'elsewhere.properties');
    await updatedAtRuntime(['--configStorePath', elsewhere], 'enableAllTopicList=false\n');
    expect(load(['--configStorePath', elsewhere]).config.enableAllTopicList).toBe(false);
    expect(load([]).config.enableAllTopicList).toBe(true);
  });

  it('ignores start-up-only and unknown keys in the stored file (it holds the whole last configuration, maybe written by Java)', () => {
    mkdirSync(join(dir, 'data'));
    writeFileSync(
      join(dir, 'data', 'namesrv.properties'),
      formatProperties([
        ['listenPort', '1234'],
        ['adminToken', 'from-file'],
        ['someJavaOnlyKey', 'x'],
        ['orderMessageEnable', 'true'],
      ]),
    );
    const next = load(dataDir());
    expect(next.config.listenPort).toBe(9876);
    expect(next.config.adminToken).toBe('');
    expect(next.config.orderMessageEnable).toBe(true);
  });

  it('refuses a stored value it cannot read, naming the file and line', () => {
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'namesrv.properties'), 'orderMessageEnable=yes please\n');
    const result = loadConfig({ argv: dataDir(), env: {}, homeDir: join(dir, 'home') });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      `orderMessageEnable: expected true or false, got "yes please" (stored config file ${join(dir, 'data', 'namesrv.properties')} (configStorePath) line 1)`,
    ]);
  });

  it('with -c, reads the -c file only (updates are written back into it, as in Java)', async () => {
    const configFile = join(dir, 'namesrv.properties');
    writeFileSync(configFile, 'orderMessageEnable=false\n');
    await updatedAtRuntime(dataDir(), 'enableTopicList=false\n');
    const withC = load([...dataDir(), '-c', configFile]);
    expect(withC.config.configStorePath).toBe(configFile);
    // <dataDir>/namesrv.properties is not read when -c is given.
    expect(withC.config.enableTopicList).toBe(true);
    expect(withC.storedConfig).toBeUndefined();
    await updatedAtRuntime([...dataDir(), '-c', configFile], 'orderMessageEnable=true\n');
    expect(load([...dataDir(), '-c', configFile]).config.orderMessageEnable).toBe(true);
  });

  it('no stored file, no stored settings', () => {
    const result = load(dataDir());
    expect(result.storedConfig).toBeUndefined();
    expect(result.config.orderMessageEnable).toBe(false);
  });
});

import { readFileSync } from 'node:fs';
// node:util parseArgs is built into Node and maintained with it: no third-party
// argument parser to audit or keep up to date.
import { parseArgs } from 'node:util';
import { errorMessage } from '../util/errorMessage.js';
import { optionValue } from '../util/optionValue.js';
import { parseProperties } from './properties.js';
import {
  caseInsensitiveKey,
  CONFIG_KEYS,
  ENV_PREFIX,
  defaultsFor,
  formatConfigValue,
  freezeOptions,
  isConfigKey,
  keyDef,
  keySuggestion,
  parseConfigValue,
  upperSnake,
  type ConfigKey,
  type ConfigValue,
  type NamesrvOptions,
} from './schema.js';
import { checkCombination } from './validate.js';
import { checkTlsCombination } from '../tls/settings.js';
import { readTlsConfigFile } from '../tls/tlsConfigFile.js';

export interface LoadConfigInput {
  argv: string[];
  env: Record<string, string | undefined>;
  homeDir: string;
}

export type LoadConfigResult =
  | {
      ok: true;
      config: NamesrvOptions;
      /** -p / --printConfigItem: print the effective configuration and exit. */
      printConfig: boolean;
      /** --inspect <ws-url>: stream actor inspection events to this URL. */
      inspectUrl?: string;
      /** -h / --help: print usage and exit; `config` then holds the defaults. */
      help?: boolean;
      /** The properties file that was read, if any. */
      configFile?: string;
      /**
       * Without -c: the runtime settings read back from configStorePath (what
       * UPDATE_NAMESRV_CONFIG persisted there), with the keys that took a
       * non-default value from it.
       */
      storedConfig?: { path: string; keys: ConfigKey[] };
    }
  | { ok: false; errors: string[] };

/** XNAMESRV_CONFIG_FILE names the properties file when -c is absent (handy in containers). */
export const CONFIG_FILE_ENV = `${ENV_PREFIX}CONFIG_FILE`;

interface Setting {
  raw: string;
  source: string;
}

interface CliResult {
  settings: Map<ConfigKey, Setting>;
  configFile?: string;
  printConfig: boolean;
  help: boolean;
  inspectUrl?: string;
}

const STRING_FLAGS = new Set(['configFile', 'data-dir', 'inspect']);
const BOOLEAN_FLAGS = new Set(['printConfigItem', 'help']);

const ENV_KEYS = new Map<string, ConfigKey>(CONFIG_KEYS.map((info) => [upperSnake(info.name), info.name]));

/**
 * Builds the effective configuration from defaults < properties file <
 * environment (XNAMESRV_*) < flags (--key value). The properties file is the
 * -c file when given (runtime updates are written back into it, as in Java);
 * without -c it is configStorePath, of which only the keys UPDATE_NAMESRV_CONFIG
 * can change are read: so what was changed at runtime survives a restart, and
 * nothing else of the last run is carried over. Everything is validated
 * here, once: the result either holds a configuration every module can trust
 * or lists every problem, each naming its key and where the value came from.
 */
export function loadConfig(input: LoadConfigInput): LoadConfigResult {
  const errors: string[] = [];
  const cli = readArgv(input.argv, errors);
  if (cli.help) {
    return { ok: true, help: true, printConfig: false, config: freezeOptions(defaultsFor({ ...input, dataDir: '' })) };
  }

  const env = readEnv(input.env, errors);
  const configFile = cli.configFile ?? env.configFile;
  const file = configFile === undefined ? new Map<ConfigKey, Setting>() : readConfigFile(configFile, errors);
  const storePath =
    configFile === undefined ? storePathOf(new Map([...env.settings, ...cli.settings]), input) : undefined;
  const stored = storePath === undefined ? new Map<ConfigKey, Setting>() : readStoredSettings(storePath, errors);

  const chosen = new Map<ConfigKey, Setting>([...file, ...stored, ...env.settings, ...cli.settings]);
  // As in Java, where tls.config.file's entries override the -D system properties.
  for (const [key, setting] of readTlsFile(chosen, errors)) chosen.set(key, setting);
  const values = new Map<ConfigKey, ConfigValue>();
  for (const [key, setting] of chosen) {
    const parsed = parseConfigValue(key, setting.raw);
    if (parsed.ok) values.set(key, parsed.value);
    else errors.push(`${key}: ${parsed.message} (${setting.source})`);
  }

  // The Java name server persists runtime updates into the file it was
  // started with, so they survive a restart; only an explicit env or flag
  // value says otherwise.
  const storeSetting = chosen.get('configStorePath');
  if (configFile !== undefined && (storeSetting === undefined || file.get('configStorePath') === storeSetting)) {
    values.set('configStorePath', configFile);
    chosen.set('configStorePath', { raw: configFile, source: `the -c file ${configFile}` });
  }

  const dataDir = (values.get('dataDir') as string | undefined) ?? '';
  const config: Record<string, unknown> = { ...defaultsFor({ homeDir: input.homeDir, env: input.env, dataDir }) };
  for (const [key, value] of values) config[key] = value;
  const effective = config as NamesrvOptions;

  // Combination checks on values that failed their own parse would only add noise.
  if (errors.length === 0) {
    const sourceOf = (key: ConfigKey): string => chosen.get(key)?.source ?? 'default';
    errors.push(...checkCombination(effective, sourceOf), ...checkTlsCombination(effective, sourceOf));
  }
  if (errors.length > 0) return { ok: false, errors };

  const defaults = defaultsFor({ homeDir: input.homeDir, env: input.env, dataDir });
  const restored = [...stored]
    .filter(
      ([key, setting]) =>
        chosen.get(key) === setting && formatConfigValue(effective[key]) !== formatConfigValue(defaults[key]),
    )
    .map(([key]) => key);
  return {
    ok: true,
    config: freezeOptions(effective),
    printConfig: cli.printConfig,
    ...(cli.inspectUrl !== undefined ? { inspectUrl: cli.inspectUrl } : {}),
    ...(configFile !== undefined ? { configFile } : {}),
    ...(storePath !== undefined && stored.size > 0 ? { storedConfig: { path: storePath, keys: restored } } : {}),
  };
}

/**
 * The tls.server.* entries of tls.config.file, wherever that key was set.
 * The default path, /etc/rocketmq/tls.properties, may be missing (also when
 * named: UPDATE_NAMESRV_CONFIG writes every key, this one included, into the
 * file a restart reads); any other path must exist. Empty = no file.
 */
function readTlsFile(chosen: Map<ConfigKey, Setting>, errors: string[]): Map<ConfigKey, Setting> {
  const setting = chosen.get('tls.config.file');
  const defaultPath = String(keyDef('tls.config.file').default);
  const path = setting === undefined ? defaultPath : setting.raw.trim();
  const read = readTlsConfigFile(path, path !== defaultPath);
  if (read.ok) return read.settings;
  errors.push(...read.errors.map((error) => (setting ? `${error} (named by ${setting.source})` : error)));
  return new Map();
}

/** configStorePath as the environment and flags leave it (the -c case is handled by the caller). */
function storePathOf(explicit: Map<ConfigKey, Setting>, input: LoadConfigInput): string {
  const valueOf = (key: 'configStorePath' | 'dataDir'): string => {
    const setting = explicit.get(key);
    const parsed = setting === undefined ? undefined : parseConfigValue(key, setting.raw);
    return parsed?.ok ? (parsed.value as string) : '';
  };
  const explicitPath = valueOf('configStorePath');
  if (explicitPath !== '') return explicitPath;
  return defaultsFor({ homeDir: input.homeDir, env: input.env, dataDir: valueOf('dataDir') }).configStorePath;
}

/**
 * The runtime-updatable keys of the file UPDATE_NAMESRV_CONFIG writes. It
 * holds the whole configuration of the run that wrote it; the other keys are
 * that run's start-up values and are left to this run's own sources. A file
 * that is not there is an empty one.
 */
function readStoredSettings(path: string, errors: string[]): Map<ConfigKey, Setting> {
  const settings = new Map<ConfigKey, Setting>();
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR')
      errors.push(`stored config file ${path} (configStorePath): cannot read it: ${errorMessage(err)}`);
    return settings;
  }
  const parsed = parseProperties(decodeText(bytes));
  if (!parsed.ok) {
    for (const e of parsed.errors)
      errors.push(`stored config file ${path} (configStorePath) line ${e.line}: ${e.message}; fix or delete the file`);
    return settings;
  }
  for (const entry of parsed.entries) {
    if (isConfigKey(entry.key) && keyDef(entry.key).runtimeUpdatable) {
      settings.set(entry.key, {
        raw: entry.value,
        source: `stored config file ${path} (configStorePath) line ${entry.line}`,
      });
    }
  }
  return settings;
}

function readArgv(argv: string[], errors: string[]): CliResult {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    configFile: { type: 'string', short: 'c' },
    printConfigItem: { type: 'boolean', short: 'p' },
    help: { type: 'boolean', short: 'h' },
    'data-dir': { type: 'string' },
    inspect: { type: 'string' },
  };
  for (const info of CONFIG_KEYS) options[info.name] = { type: 'string' };

  // Java's system properties, -Dtls.server.mode=enforcing, are flags like
  // --tls.server.mode=enforcing here (the same position in argv, so the last one given wins).
  const systemProperties = new Set<number>();
  const args = argv.map((arg, index) => {
    const property = /^-D([^=]+)(?:=([\s\S]*))?$/.exec(arg);
    if (!property) return arg;
    systemProperties.add(index);
    return `--${property[1]}=${property[2] ?? ''}`;
  });

  // Not strict: strict mode throws at the first mistake, and we want to
  // report every one, in our own words.
  const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  const result: CliResult = { settings: new Map(), printConfig: false, help: false };

  const reportedIndexes = new Set<number>();
  let skipPositionalAt = -1;
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      if (token.index !== skipPositionalAt) errors.push(`unexpected argument ${JSON.stringify(token.value)}`);
      continue;
    }
    const { name, rawName } = token;
    const known = BOOLEAN_FLAGS.has(name) || STRING_FLAGS.has(name) || isConfigKey(name);
    if (!known) {
      // `-listenPort` arrives as a group of one-letter options sharing an index.
      if (reportedIndexes.has(token.index)) continue;
      reportedIndexes.add(token.index);
      const raw = argv[token.index] ?? rawName;
      if (systemProperties.has(token.index)) {
        errors.push(
          `unknown system property ${raw.split('=')[0]}: -D sets xnamesrv's configuration keys only${keySuggestion(name)}`,
        );
        continue;
      }
      errors.push(`unknown flag ${raw.split('=')[0]}${keySuggestion(raw.replace(/^-+/, '').split('=')[0]!)}`);
      // `--unknownKey value`: the value is part of the mistake, not another one.
      if (token.value === undefined) skipPositionalAt = token.index + 1;
      continue;
    }
    const given = optionValue(token, BOOLEAN_FLAGS.has(name) ? 'boolean' : 'string', 'flag', rawName);
    if (!given.ok) {
      errors.push(given.error);
      continue;
    }
    const value = given.value;
    if (value === true) {
      if (name === 'help') result.help = true;
      else result.printConfig = true;
      continue;
    }
    if (name === 'configFile') {
      result.configFile = value;
    } else if (name === 'inspect') {
      if (isWebSocketUrl(value)) result.inspectUrl = value;
      else errors.push(`flag --inspect: expected a ws:// or wss:// URL, got ${JSON.stringify(value)}`);
    } else if (name === 'data-dir') {
      result.settings.set('dataDir', { raw: value, source: 'flag --data-dir' });
    } else if (isConfigKey(name)) {
      const flag = systemProperties.has(token.index) ? `-D${name}` : rawName;
      result.settings.set(name, { raw: value, source: `flag ${flag}` });
    }
  }
  return result;
}

function readEnv(
  env: Record<string, string | undefined>,
  errors: string[],
): { settings: Map<ConfigKey, Setting>; configFile?: string } {
  const settings = new Map<ConfigKey, Setting>();
  let configFile: string | undefined;
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    if (name === CONFIG_FILE_ENV) {
      // Compose files pass unset variables through as empty strings.
      if (value !== '') configFile = value;
      continue;
    }
    const key = ENV_KEYS.get(name.slice(ENV_PREFIX.length));
    if (key === undefined) {
      const rest = name.slice(ENV_PREFIX.length);
      const guess = isConfigKey(rest) ? rest : caseInsensitiveKey(rest.replace(/_/g, ''));
      const hint = guess ? ` (did you mean ${ENV_PREFIX}${upperSnake(guess)}?)` : '';
      errors.push(`unknown environment variable ${name}: no configuration key is called ${rest}${hint}`);
      continue;
    }
    settings.set(key, { raw: value, source: `environment variable ${name}` });
  }
  return { settings, ...(configFile !== undefined ? { configFile } : {}) };
}

function readConfigFile(path: string, errors: string[]): Map<ConfigKey, Setting> {
  const settings = new Map<ConfigKey, Setting>();
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    errors.push(`config file ${path}: cannot read it: ${errorMessage(err)}`);
    return settings;
  }
  const parsed = parseProperties(decodeText(bytes));
  if (!parsed.ok) {
    for (const e of parsed.errors) errors.push(`config file ${path} line ${e.line}: ${e.message}`);
    return settings;
  }
  for (const entry of parsed.entries) {
    const source = `config file ${path} line ${entry.line}`;
    if (!isConfigKey(entry.key)) {
      errors.push(`unknown key ${JSON.stringify(entry.key)} (${source})${keySuggestion(entry.key)}`);
      continue;
    }
    settings.set(entry.key, { raw: entry.value, source });
  }
  return settings;
}

/**
 * Java reads properties files as ISO-8859-1; files written today are mostly
 * UTF-8. Take UTF-8 when the bytes are valid UTF-8, else fall back to Latin-1,
 * which can decode anything.
 */
function decodeText(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

function isWebSocketUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'ws:' || url.protocol === 'wss:';
  } catch {
    return false;
  }
}

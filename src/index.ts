/**
 * xnamesrv as a library: start, serve and stop a name server inside your own
 * process (an application that embeds one, or tests that need a real name
 * server), plus the pieces around it. `import { startNameServer } from 'xnamesrv'`.
 *
 * This module is a thin layer over the composition root (`NameServer`): it
 * turns typed options into the validated configuration the command line
 * would build, with defaults chosen for embedding (see EMBEDDED_DEFAULTS).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ServerClock } from './clock.js';
import {
  defaultsFor,
  freezeOptions,
  isConfigKey,
  keyDef,
  keySuggestion,
  parseConfigValue,
  type ConfigKey,
  type ConfigValue,
  type NamesrvOptions,
} from './config/schema.js';
import { checkCombination } from './config/validate.js';
import { checkTlsCombination } from './tls/settings.js';
import { readTlsConfigFile } from './tls/tlsConfigFile.js';
import type { LifecycleStatus } from './lifecycle/lifecycleStatus.js';
import { openLogOutput, type LogOutput } from './logging.js';
import { NameServer } from './nameServer.js';
import type { TransitionListener } from './observe/transitions.js';

// ---- the embedding API -------------------------------------------------------

type OptionValue<V> = V extends readonly string[] ? readonly string[] | string : V;

/**
 * Configuration of an embedded name server: any key of the properties file
 * (README, "Configuration"), typed. Lists take an array or the properties
 * text (`"a,b"`). Keys left out take EMBEDDED_DEFAULTS, then the defaults of
 * the command line.
 */
export type NameServerOptions = { readonly [K in ConfigKey]?: OptionValue<NamesrvOptions[K]> };

/** What is not configuration: where logs go, whose clock, inspection. */
export interface StartOptions {
  /**
   * A pino logger for the server's logs. Without one the server is silent,
   * unless `logLevel` is among the options: then it logs JSON lines on stderr
   * at that level, as the command line does.
   */
  logger?: Logger;
  /** The clock every timer runs on; pass xstate's SimulatedClock to control time in tests. */
  clock?: ServerClock;
  /** Stream every actor to a Stately inspector at this WebSocket URL (as `--inspect`). */
  inspectUrl?: string;
}

/**
 * Where an embedded server's defaults differ from the command line's, and why:
 * an embedder (most often a test) wants a server nobody else can reach, that
 * never collides with another one on the same machine (parallel test files, a
 * real name server on 9876), and that reads and leaves nothing behind. The
 * bound ports are on the handle. Besides these, `dataDir` defaults to a new
 * temporary directory that `stop()` removes, so no KV or config file is read
 * from or written to `~/namesrv` as the command line would; for the same
 * reason no tls.config.file is read unless one is given.
 */
export const EMBEDDED_DEFAULTS = {
  bindAddress: '127.0.0.1',
  listenPort: 0,
  httpPort: 0,
  'tls.config.file': '',
} as const satisfies NameServerOptions;

/** A running embedded name server. */
export interface StartedNameServer {
  /** The bound remoting (RocketMQ protocol) port. */
  readonly remotingPort: number;
  /** The bound HTTP port (probes, metrics, machines, the /ws gateway). */
  readonly httpPort: number;
  /** `host:port` for RocketMQ clients' namesrvAddr (127.0.0.1 when bound to every interface). */
  readonly namesrvAddr: string;
  /** The effective configuration, validated and frozen (UPDATE_NAMESRV_CONFIG may replace it at run time). */
  readonly config: NamesrvOptions;
  /** The composition root, for everything else (routes, KV store, broker snapshots, the actor). */
  readonly nameServer: NameServer;
  /** The lifecycle as the chart's snapshot says it is: state, tags, why routes are refused. */
  lifecycle(): LifecycleStatus;
  /** Calls `listener` on every state change of the name server and broker actors; returns the unsubscriber. */
  onTransition(listener: TransitionListener): () => void;
  /**
   * Graceful stop (as SIGTERM for the command line): stops accepting, answers
   * in-flight requests, flushes the KV store, closes the ports, then removes
   * the temporary data directory if it made one. Rejects if a shutdown step
   * failed. Calling it again returns the same promise.
   */
  stop(reason?: string): Promise<void>;
}

/** One thing wrong with the options: the key (as given) and what is wrong. */
export interface OptionProblem {
  key: string;
  message: string;
}

/** The options were refused; nothing was started. Every problem names its key. */
export class NameServerOptionsError extends Error {
  override readonly name = 'NameServerOptionsError';

  constructor(readonly problems: readonly OptionProblem[]) {
    super(`invalid name server options: ${problems.map((p) => p.message).join('; ')}`);
  }

  /** The keys with a problem, in order, each once. */
  get keys(): string[] {
    return [...new Set(this.problems.map((p) => p.key))];
  }
}

/**
 * Starts a name server in this process and resolves once it serves (state
 * `ready`, or `waiting` with needWaitForService). Options are validated as
 * the command line validates its flags: a bad option rejects with
 * NameServerOptionsError before anything starts; a start-up failure (a port
 * in use, an unreadable KV file) rejects with NameServerStartError.
 */
export async function startNameServer(
  options: NameServerOptions = {},
  start: StartOptions = {},
): Promise<StartedNameServer> {
  // Validate before making the data directory, so a refusal leaves nothing behind.
  const given = validateOptions(options);
  const tempDir = given.has('dataDir') ? undefined : await mkdtemp(join(tmpdir(), 'xnamesrv-'));
  const removeTempDir = async () => {
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
  };
  let nameServer: NameServer;
  // Logs only when asked for: a given logger, or any of the log keys (level, format, file).
  let logOutput: LogOutput | undefined;
  try {
    const config = resolveConfig(options, given, tempDir ?? '');
    const wantsLogs = (['logLevel', 'logFormat', 'logFile'] as const).some((key) => given.has(key));
    if (!start.logger && wantsLogs) {
      logOutput = await openLogOutput({
        level: config.logLevel,
        format: config.logFormat,
        file: config.logFile,
        fileMaxSize: config.logFileMaxSize,
        fileCount: config.logFileCount,
      });
    }
    const logger = start.logger ?? logOutput?.logger;
    nameServer = await NameServer.start({
      config,
      ...(logger ? { logger } : {}),
      ...(start.clock ? { clock: start.clock } : {}),
      ...(start.inspectUrl ? { inspectUrl: start.inspectUrl } : {}),
    });
  } catch (err) {
    await logOutput?.close();
    await removeTempDir();
    throw err;
  }
  const bindAddress = nameServer.config.get().bindAddress;
  const host = bindAddress === '0.0.0.0' || bindAddress === '::' ? '127.0.0.1' : bindAddress;
  let stopped: Promise<void> | undefined;
  return {
    remotingPort: nameServer.remotingPort,
    httpPort: nameServer.httpPort,
    namesrvAddr: `${host.includes(':') ? `[${host}]` : host}:${nameServer.remotingPort}`,
    get config() {
      return nameServer.config.get();
    },
    nameServer,
    lifecycle: () => nameServer.lifecycle(),
    onTransition: (listener) => nameServer.transitions.onTransition(listener),
    stop(reason = 'stop() called') {
      stopped ??= (async () => {
        try {
          await nameServer.close(reason);
        } finally {
          await logOutput?.close();
          await removeTempDir();
        }
        const status = nameServer.lifecycle();
        if (status.state === 'failed') throw new Error(`name server stop failed: ${status.reason ?? 'unknown reason'}`);
      })();
      return stopped;
    },
  };
}

// ---- validation: the command line's rules, applied to typed values -------------

/** Checks each given key and its value's type; returns the keys given. Throws NameServerOptionsError. */
function validateOptions(options: NameServerOptions): Set<ConfigKey> {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new NameServerOptionsError([{ key: '', message: `options must be an object, got ${describe(options)}` }]);
  }
  const problems: OptionProblem[] = [];
  const given = new Set<ConfigKey>();
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (!isConfigKey(key)) {
      problems.push({ key, message: `unknown option ${JSON.stringify(key)}${keySuggestion(key)}` });
      continue;
    }
    const parsed = parseOption(key, value);
    if (!parsed.ok) problems.push({ key, message: `${key}: ${parsed.message}` });
    else given.add(key);
  }
  if (problems.length > 0) throw new NameServerOptionsError(problems);
  return given;
}

/** The effective configuration: defaults < EMBEDDED_DEFAULTS < options, then the combination checks. */
function resolveConfig(options: NameServerOptions, given: Set<ConfigKey>, tempDir: string): NamesrvOptions {
  const values = new Map<ConfigKey, ConfigValue>();
  for (const [key, value] of Object.entries(EMBEDDED_DEFAULTS) as Array<[ConfigKey, ConfigValue]>)
    values.set(key, value);
  if (!given.has('dataDir')) values.set('dataDir', tempDir);
  for (const key of given) {
    const parsed = parseOption(key, options[key]);
    if (parsed.ok) values.set(key, parsed.value);
  }
  // A given tls.config.file overrides the options it holds, as on the command line (and in Java).
  const tlsFile = readTlsConfigFile(values.get('tls.config.file') as string, true);
  if (!tlsFile.ok)
    throw new NameServerOptionsError(tlsFile.errors.map((message) => ({ key: 'tls.config.file', message })));
  const fromTlsFile = new Set<ConfigKey>();
  for (const [key, setting] of tlsFile.settings) {
    const parsed = parseConfigValue(key, setting.raw);
    if (!parsed.ok)
      throw new NameServerOptionsError([{ key, message: `${key}: ${parsed.message} (${setting.source})` }]);
    values.set(key, parsed.value);
    fromTlsFile.add(key);
  }
  const dataDir = values.get('dataDir') as string;
  // No environment: an embedder's configuration is what it passes, not what
  // the process happens to have in XNAMESRV_* or ROCKETMQ_HOME.
  const config: Record<string, unknown> = { ...defaultsFor({ homeDir: dataDir, env: {}, dataDir }) };
  for (const [key, value] of values) config[key] = value;
  const effective = config as NamesrvOptions;
  const sourceOf = (key: ConfigKey): string =>
    fromTlsFile.has(key)
      ? `tls.config.file ${effective['tls.config.file']}`
      : given.has(key)
        ? `option ${key}`
        : key in EMBEDDED_DEFAULTS || key === 'dataDir'
          ? 'embedded default'
          : 'default';
  const combination = [...checkCombination(effective, sourceOf), ...checkTlsCombination(effective, sourceOf)];
  if (combination.length > 0)
    throw new NameServerOptionsError(combination.map((message) => ({ key: firstKeyIn(message), message })));
  return freezeOptions(effective);
}

/**
 * A typed value through the same parser as a properties-file or flag value,
 * so ranges, enums and lists follow exactly the command line's rules. The
 * JavaScript type must match the key's type: `'9876'` is not a port.
 */
function parseOption(
  key: ConfigKey,
  value: unknown,
): { ok: true; value: ConfigValue } | { ok: false; message: string } {
  const def = keyDef(key);
  let raw: string | undefined;
  switch (def.type) {
    case 'boolean':
      if (typeof value === 'boolean') raw = String(value);
      break;
    case 'int':
    case 'long':
      if (typeof value === 'number') raw = String(value);
      break;
    case 'enum':
    case 'string':
      if (typeof value === 'string') raw = value;
      break;
    case 'list':
      if (typeof value === 'string') raw = value;
      else if (Array.isArray(value) && value.every((item) => typeof item === 'string')) raw = value.join(',');
      break;
  }
  if (raw === undefined) return { ok: false, message: `expected ${EXPECTED_TYPE[def.type]}, got ${describe(value)}` };
  const parsed = parseConfigValue(key, raw);
  return parsed.ok
    ? parsed
    : {
        ok: false,
        message: parsed.message.replace(/, got "(.*)"$/, (_m, text: string) => `, got ${describe(value, text)}`),
      };
}

const EXPECTED_TYPE = {
  boolean: 'a boolean',
  int: 'a number',
  long: 'a number',
  enum: 'a string',
  string: 'a string',
  list: 'an array of strings or a string',
} as const;

function describe(value: unknown, text?: string): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return text ?? String(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array (${JSON.stringify(value)})`;
  return `a ${typeof value}`;
}

/** Combination messages begin with the key they are about (validate.ts). */
function firstKeyIn(message: string): string {
  const first = /^[A-Za-z][A-Za-z.]*/.exec(message)?.[0] ?? '';
  return isConfigKey(first) ? first : '';
}

// ---- the rest of the public API ----------------------------------------------

export { NameServer, NameServerStartError, type NameServerStartOptions, type BrokerSnapshot } from './nameServer.js';
export type { LifecycleStatus, WaitTimes } from './lifecycle/lifecycleStatus.js';
export type { Transition, TransitionListener } from './observe/transitions.js';
export type { ConfigKey, NamesrvOptions } from './config/schema.js';
export { systemClock, type ServerClock } from './clock.js';

// The statecharts, pure (no I/O): inspect, visualize or test them on their own.
export {
  nameServerMachine,
  evaluateWaitTarget,
  lifecycleStateOf,
  type LifecycleSettings,
  type LifecycleState,
  type LifecycleTag,
  type LiveBroker,
  type NameServerContext,
  type NameServerEvent,
  type WaitTargetProgress,
  type WaitTimeoutAction,
} from '../machines/nameServer.js';
export {
  brokerMachine,
  brokerKeyOf,
  type BrokerContext,
  type BrokerEvent,
  type BrokerIdentity,
  type BrokerRegistration,
  type BrokerRemoval,
  type BrokerRemovalReason,
} from '../machines/broker.js';

// Talking to a name server (this one or any RocketMQ NameServer) over the remoting protocol.
export {
  RemotingClient,
  RemotingConnectionClosedError,
  RemotingTimeoutError,
  type RemotingClientOptions,
  type RequestInput,
} from './remoting/client.js';
export { SerializeType, type RemotingCommand } from './remoting/command.js';
export { RequestCode, ResponseCode, requestCodeName, responseCodeName } from './remoting/requestCode.js';

// Simulated brokers that register over the real protocol (`xnamesrv sim`), for tests that need routes.
export { BrokerSimulator, type BrokerSimulatorOptions, type SimEvent, type SimSummary } from './sim/simulator.js';

import type { LifecycleSettings } from '../../machines/nameServer.js';
import { parseHostPort, type HostPort } from '../admin/address.js';
import { describeOptions, parseCount, parseToolArgv, type OptionSpecs } from '../admin/argv.js';
import { TARGET_KINDS, type TargetKind } from './target/profile.js';
import { errorMessage } from '../util/errorMessage.js';

/**
 * `xnamesrv conform` command line: every value checked here, before anything
 * connects, and every mistake named in words (exit code 2).
 */
export const CONFORM_OPTIONS: OptionSpecs = {
  target: {
    type: 'string',
    short: 't',
    value: '<host:port>',
    description: "the name server's remoting address (required, unless --self)",
  },
  http: {
    type: 'string',
    value: '<host:port>',
    description:
      "its HTTP port, if it has one (xnamesrv): /readyz and the /ws gateway's lifecycle are then checked too, as extra evidence",
  },
  self: {
    type: 'boolean',
    description:
      'check an xnamesrv started inside this command, on a simulated clock (a demonstration: no target needed)',
  },
  flavor: {
    type: 'string',
    value: '<kind>',
    description: `what the target is: ${TARGET_KINDS.join(', ')} (default: inferred from its answers)`,
  },
  'wait-seconds': {
    type: 'string',
    value: '<N>',
    description:
      'the target was just started with needWaitForService=true and waitSecondsForService=N (0: started without a wait); lifecycle paths run only with this',
  },
  'wait-for-brokers': {
    type: 'string',
    value: '<N>',
    description: "xnamesrv's waitForBrokers the target was started with",
  },
  'wait-for-broker-names': {
    type: 'string',
    value: '<cluster/name,...>',
    description: "xnamesrv's waitForBrokerNames the target was started with",
  },
  'wait-timeout-seconds': {
    type: 'string',
    value: '<N>',
    description: "xnamesrv's waitTimeoutSeconds the target was started with (default 300)",
  },
  'wait-timeout-action': {
    type: 'string',
    value: '<serve|refuse>',
    description: "xnamesrv's waitTimeoutAction the target was started with (default serve)",
  },
  'heartbeat-timeout': {
    type: 'string',
    value: '<ms>',
    description:
      'heartbeatTimeoutMillis the test brokers register with (default 10000; 5.x and xnamesrv expire them after it)',
  },
  long: {
    type: 'boolean',
    description: 'also run the expiry paths on a target with a fixed 120 s expiry (RocketMQ 4.9): minutes per path',
  },
  settle: {
    type: 'string',
    value: '<ms>',
    description: 'how long a check may take to come true on the target (default 3000)',
  },
  timeout: { type: 'string', value: '<ms>', description: 'connect and request timeout (default 3000)' },
  parallel: { type: 'string', value: '<N>', description: 'broker paths run at once against a real target (default 4)' },
  paths: { type: 'string', value: '<regex>', description: 'run only the paths whose name matches' },
  'read-only': {
    type: 'boolean',
    description: 'run only the checks that register nothing (safe against any name server)',
  },
  'shortest-only': { type: 'boolean', description: 'generated shortest paths only, not also the simple ones' },
  junit: { type: 'string', value: '<file>', description: 'write JUnit XML here' },
  html: {
    type: 'string',
    value: '<file>',
    description: 'write the HTML report here (self-contained: each path drawn on its chart)',
  },
  json: { type: 'string', value: '<file>', description: 'write the report as JSON here' },
  'problems-only': { type: 'boolean', description: 'on the terminal, list only the paths that did not pass' },
  'no-progress': { type: 'boolean', description: 'no progress bar (there is none when stderr is not a terminal)' },
  help: { type: 'boolean', short: 'h', description: 'this help' },
};

export function conformUsage(): string {
  return `Usage: xnamesrv conform --target host:port [options]
       xnamesrv conform --self [options]

Checks a RocketMQ name server (xnamesrv, Apache RocketMQ 4.9.x or 5.x, or any
other) against xnamesrv's statecharts, over the RocketMQ protocol only: test
brokers of its own (cluster conform-<run id>, addresses in 192.0.2.0/24, topics
with no write queues) register, refresh, leave and fall silent; route reads and
cluster info must show them as the charts say. Everything it registered is
removed at the end. See docs/conformance.md.

Options:
${describeOptions(CONFORM_OPTIONS)}
Exit codes: 0 nothing failed (every path passed, was skipped, or is a known
divergence), 1 a path failed or the clean-up left brokers behind, 2 bad
arguments or an unreachable target.
`;
}

export interface ConformCliOptions {
  target?: HostPort;
  http?: HostPort;
  self: boolean;
  flavor?: TargetKind;
  startedWith?: LifecycleSettings;
  heartbeatTimeoutMs?: number;
  long: boolean;
  settleBudgetMs?: number;
  requestTimeoutMs?: number;
  concurrency?: number;
  only?: RegExp;
  readOnly: boolean;
  shortestOnly: boolean;
  junit?: string;
  html?: string;
  json?: string;
  problemsOnly: boolean;
  progress: boolean;
  help: boolean;
}

export type ParsedConformArgs = { ok: true; options: ConformCliOptions } | { ok: false; error: string };

const XNAMESRV_WAIT_FLAGS = [
  'wait-for-brokers',
  'wait-for-broker-names',
  'wait-timeout-seconds',
  'wait-timeout-action',
] as const;

export function parseConformArgs(argv: string[]): ParsedConformArgs {
  const parsed = parseToolArgv(argv, CONFORM_OPTIONS);
  if (!parsed.ok) return parsed;
  if (parsed.positionals.length > 0)
    return { ok: false, error: `unexpected argument ${JSON.stringify(parsed.positionals[0])} (options start with --)` };
  const v = parsed.values;
  const str = (name: string) => v[name] as string | undefined;
  const flag = (name: string) => v[name] === true;
  const options: ConformCliOptions = {
    self: flag('self'),
    long: flag('long'),
    readOnly: flag('read-only'),
    shortestOnly: flag('shortest-only'),
    problemsOnly: flag('problems-only'),
    progress: !flag('no-progress'),
    help: flag('help'),
  };
  if (options.help) return { ok: true, options };

  const target = str('target');
  if (target !== undefined && options.self)
    return {
      ok: false,
      error: '--target and --self exclude each other: check a name server at an address, or one started here',
    };
  if (target === undefined && !options.self)
    return {
      ok: false,
      error: 'no target: give --target host:port (or --self for a demonstration against an xnamesrv started here)',
    };
  if (target !== undefined) {
    const address = parseHostPort(target);
    if (typeof address === 'string') return { ok: false, error: `--target: ${address}` };
    options.target = address;
  }
  const http = str('http');
  if (http !== undefined) {
    if (options.self)
      return { ok: false, error: '--http is for a target at an address; with --self the HTTP port is known' };
    const address = parseHostPort(http);
    if (typeof address === 'string') return { ok: false, error: `--http: ${address}` };
    options.http = address;
  }
  const flavor = str('flavor');
  if (flavor !== undefined) {
    if (!(TARGET_KINDS as readonly string[]).includes(flavor))
      return {
        ok: false,
        error: `--flavor: expected one of ${TARGET_KINDS.join(', ')}, got ${JSON.stringify(flavor)}`,
      };
    options.flavor = flavor as TargetKind;
  }

  const number = (name: string, min: number, max: number): number | string | undefined => {
    const text = str(name);
    if (text === undefined) return undefined;
    const n = parseCount(text, `--${name}`, min, max);
    return n;
  };
  const numbers: Array<[string, number, number, (n: number) => void]> = [
    ['heartbeat-timeout', 1_000, 3_600_000, (n) => (options.heartbeatTimeoutMs = n)],
    ['settle', 0, 600_000, (n) => (options.settleBudgetMs = n)],
    ['timeout', 100, 600_000, (n) => (options.requestTimeoutMs = n)],
    ['parallel', 1, 64, (n) => (options.concurrency = n)],
  ];
  for (const [name, min, max, set] of numbers) {
    const n = number(name, min, max);
    if (typeof n === 'string') return { ok: false, error: n };
    if (n !== undefined) set(n);
  }

  const started = lifecycleSettingsFrom(str, options.self);
  if (typeof started === 'string') return { ok: false, error: started };
  if (started) options.startedWith = started;

  const only = str('paths');
  if (only !== undefined) {
    try {
      options.only = new RegExp(only);
    } catch (err) {
      return { ok: false, error: `--paths: not a regular expression: ${errorMessage(err)}` };
    }
  }
  for (const name of ['junit', 'html', 'json'] as const) {
    const file = str(name);
    if (file === '') return { ok: false, error: `--${name} needs a file name` };
    if (file !== undefined) options[name] = file;
  }
  return { ok: true, options };
}

function lifecycleSettingsFrom(
  str: (name: string) => string | undefined,
  self: boolean,
): LifecycleSettings | undefined | string {
  const seconds = str('wait-seconds');
  const given = XNAMESRV_WAIT_FLAGS.filter((name) => str(name) !== undefined);
  if (seconds === undefined) {
    return given.length > 0 ? `--${given[0]} describes how the target was started: give --wait-seconds too` : undefined;
  }
  if (self)
    return '--wait-seconds describes a target someone started; --self starts its own, once for every lifecycle configuration';
  const wait = parseCount(seconds, '--wait-seconds', 0, 86_400);
  if (typeof wait === 'string') return wait;
  if (wait === 0 && given.length > 0)
    return `--${given[0]} needs a wait: --wait-seconds 0 says the target was started without one`;
  const settings: LifecycleSettings = {
    needWaitForService: wait > 0,
    waitSecondsForService: wait,
    waitTimeoutSeconds: 300,
    waitForBrokers: 0,
    waitForBrokerNames: [],
    waitTimeoutAction: 'serve',
  };
  const brokers = str('wait-for-brokers');
  if (brokers !== undefined) {
    const n = parseCount(brokers, '--wait-for-brokers', 0, 10_000);
    if (typeof n === 'string') return n;
    settings.waitForBrokers = n;
  }
  const names = str('wait-for-broker-names');
  if (names !== undefined) {
    const list = names
      .split(/[,;]/)
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = list.find((entry) => !/^[^/\s]+\/[^/\s]+$/.test(entry));
    if (bad !== undefined || list.length === 0)
      return `--wait-for-broker-names: expected cluster/brokerName entries separated by ",", got ${JSON.stringify(bad ?? names)}`;
    settings.waitForBrokerNames = list;
  }
  const timeout = str('wait-timeout-seconds');
  if (timeout !== undefined) {
    const n = parseCount(timeout, '--wait-timeout-seconds', 1, 86_400);
    if (typeof n === 'string') return n;
    if (n < wait)
      return `--wait-timeout-seconds (${n}) must be at least --wait-seconds (${wait}), as xnamesrv requires`;
    settings.waitTimeoutSeconds = n;
  } else if (settings.waitTimeoutSeconds < wait) {
    settings.waitTimeoutSeconds = wait;
  }
  const action = str('wait-timeout-action');
  if (action !== undefined) {
    if (action !== 'serve' && action !== 'refuse')
      return `--wait-timeout-action: expected serve or refuse, got ${JSON.stringify(action)}`;
    settings.waitTimeoutAction = action;
  }
  return settings;
}

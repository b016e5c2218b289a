import { nameServerListFrom } from '../admin/address.js';
import { describeOptions, parseCount, parseSeconds, parseToolArgv, type OptionSpecs } from '../admin/argv.js';
import { processIo, stopSignal, usageError, whenAborted, type ToolIo } from '../admin/io.js';
import { FAULT_KINDS, parseFault, type FaultSpec } from '../sim/faults.js';
import { BrokerSimulator, type Counts, type SimEvent, type SimSummary } from '../sim/simulator.js';
import { systemTimer, type SimTimer } from '../sim/timer.js';
import { DEFAULT_BASE_PORT } from '../sim/topology.js';
import { errorMessage } from '../util/errorMessage.js';

const OPTIONS: OptionSpecs = {
  namesrvAddr: {
    type: 'string',
    short: 'n',
    value: '<host:port;...>',
    description: 'name servers; every broker registers with all (default $NAMESRV_ADDR, else 127.0.0.1:9876)',
  },
  clusters: { type: 'string', value: '<n>', description: 'clusters (default 1)' },
  brokers: { type: 'string', value: '<n>', description: 'broker names per cluster (default 2)' },
  replicas: {
    type: 'string',
    value: '<n>',
    description: 'instances per broker name: master + slaves with brokerId 1.. (default 1)',
  },
  topics: {
    type: 'string',
    value: '<n>',
    description:
      'topics per broker, SimTopic-0.. shared by all brokers (default 4; the cluster and broker name topics come on top)',
  },
  queues: { type: 'string', value: '<n>', description: 'read/write queues per topic (default 4)' },
  interval: { type: 'string', value: '<seconds>', description: 're-registration period (default 30)' },
  heartbeat: {
    type: 'boolean',
    description: 'send BROKER_HEARTBEAT between registrations (5.x, enableSlaveActingMaster style)',
  },
  heartbeatInterval: {
    type: 'string',
    value: '<seconds>',
    description: 'with --heartbeat: seconds between heartbeats (default 1)',
  },
  heartbeatTimeout: {
    type: 'string',
    value: '<seconds>',
    description: 'with --heartbeat: heartbeatTimeoutMillis sent with registrations, in seconds (default 10)',
  },
  compressed: { type: 'boolean', description: 'compressed register bodies instead of JSON' },
  brokerVersion: {
    type: 'string',
    value: '5.x|4.9',
    description: 'broker generation to imitate on the wire (default 5.x)',
  },
  basePort: {
    type: 'string',
    value: '<port>',
    description: `port of the first fake broker address (default ${DEFAULT_BASE_PORT}; nothing listens there)`,
  },
  duration: { type: 'string', value: '<seconds>', description: 'stop after this long (default: until SIGINT/SIGTERM)' },
  crash: { type: 'string', multiple: true, value: '<broker>@<sec>', description: 'drop the connections and stop' },
  partition: {
    type: 'string',
    multiple: true,
    value: '<broker>@<sec>',
    description: 'stop refreshing, keep the sockets (expires on the name server)',
  },
  restart: { type: 'string', multiple: true, value: '<broker>@<sec>', description: 'reconnect and register afresh' },
  bump: {
    type: 'string',
    multiple: true,
    value: '<broker>@<sec>',
    description: 'add a topic, bump the DataVersion, register at once',
  },
  timeout: { type: 'string', value: '<ms>', description: 'connect and request timeout (default 3000)' },
  help: { type: 'boolean', short: 'h', description: 'this text' },
};

export const SIM_USAGE = `Usage: xnamesrv sim [options]

Simulates RocketMQ brokers that register with name servers over the remoting
protocol: REGISTER_BROKER every interval to every name server, optional
BROKER_HEARTBEAT, UNREGISTER_BROKER on SIGINT/SIGTERM or after --duration.
Brokers are SimCluster-<c>/broker-<c>-<b>, brokerId 0 = master; a fault's
<broker> is a broker name (all replicas), <name>/<brokerId> or an address.
Progress goes to stderr, one line per interval.

${describeOptions(OPTIONS)}
Example: xnamesrv sim -n 127.0.0.1:9876 --clusters 1 --brokers 2 --replicas 2 --crash broker-0-1@20

Exit codes: 0 stopped (signal or --duration) after at least one acknowledged
registration, 1 no name server ever acknowledged one, 2 bad arguments.
`;

export interface SimIo extends ToolIo {
  /** The simulator's clock; the system timer by default. */
  timer?: SimTimer;
  /** Called once the simulator has started (tests reach the simulator through it). */
  onStarted?: (sim: BrokerSimulator) => void;
}

/** Seconds to one decimal, without a trailing .0: `30s`, `0.5s`, `23.7s`. */
function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}

function countsText(what: string, c: Counts): string {
  return `${what} sent ${c.sent}, acknowledged ${c.acknowledged}, failed ${c.failed}`;
}

export function formatSimEvent(event: SimEvent): string {
  switch (event.type) {
    case 'round': {
      const r = event.report;
      const parts = [countsText('registrations', r.registrations)];
      if (r.heartbeats.sent > 0) parts.push(countsText('heartbeats', r.heartbeats));
      const b = r.brokers;
      let states = `brokers running ${b.running}`;
      if (b.partitioned > 0) states += `, partitioned ${b.partitioned}`;
      if (b.crashed > 0) states += `, crashed ${b.crashed}`;
      parts.push(states);
      if (r.errors.length > 0) parts.push(`errors: ${r.errors.join(' | ')}`);
      return `[sim +${seconds(r.elapsedMs)}] round ${r.round}: ${parts.join('; ')}\n`;
    }
    case 'fault': {
      const f = event.report;
      const what = f.instances.length > 0 ? f.instances.join(', ') : 'no instance (already stopped)';
      const reg = f.registrations ? `; ${countsText('registrations', f.registrations)}` : '';
      return `[sim +${seconds(f.elapsedMs)}] ${f.kind} ${f.target}: ${what}${reg}\n`;
    }
    case 'stopped':
      return '';
  }
}

export function formatSummary(summary: SimSummary, why: string): string {
  const parts = [`${summary.rounds} round(s)`, countsText('registrations', summary.registrations)];
  if (summary.heartbeats.sent > 0) parts.push(countsText('heartbeats', summary.heartbeats));
  parts.push(`unregistered ${summary.unregistrations.acknowledged}/${summary.unregistrations.sent}`);
  if (summary.faults > 0) parts.push(`${summary.faults} fault(s) injected`);
  return `[sim] stopped after ${seconds(summary.elapsedMs)} (${why}): ${parts.join('; ')}\n`;
}

type Parsed =
  | { ok: true; sim: ConstructorParameters<typeof BrokerSimulator>[0]; durationMs?: number }
  | { ok: false; error: string }
  | { ok: 'help' };

function parse(argv: string[], env: Record<string, string | undefined>): Parsed {
  const args = parseToolArgv(argv, OPTIONS);
  if (!args.ok) return args;
  const v = args.values;
  if (v.help) return { ok: 'help' };
  if (args.positionals.length > 0)
    return { ok: false, error: `unexpected argument ${JSON.stringify(args.positionals[0])}` };
  const addrs = nameServerListFrom(v.namesrvAddr as string | undefined, env);
  if (!addrs.ok) return addrs;

  const errors: string[] = [];
  const count = (name: string, fallback: number, min: number, max: number): number => {
    const text = v[name] as string | undefined;
    if (text === undefined) return fallback;
    const n = parseCount(text, `--${name}`, min, max);
    if (typeof n === 'string') errors.push(n);
    return typeof n === 'number' ? n : fallback;
  };
  const secs = (name: string, fallback: number, min: number): number => {
    const text = v[name] as string | undefined;
    if (text === undefined) return fallback;
    const n = parseSeconds(text, `--${name}`, min);
    if (typeof n === 'string') errors.push(n);
    return typeof n === 'number' ? n : fallback;
  };
  const clusters = count('clusters', 1, 1, 1000);
  const brokers = count('brokers', 2, 1, 100_000);
  const replicas = count('replicas', 1, 1, 16);
  const topics = count('topics', 4, 0, 1_000_000);
  const queues = count('queues', 4, 1, 1024);
  const basePort = count('basePort', DEFAULT_BASE_PORT, 1, 63_000);
  const timeoutMs = count('timeout', 3000, 1, 600_000);
  const interval = secs('interval', 30, 0.001);
  const heartbeatInterval = secs('heartbeatInterval', 1, 0.001);
  const heartbeatTimeout = secs('heartbeatTimeout', 10, 0.001);
  const duration = v.duration === undefined ? undefined : secs('duration', 0, 0);
  const brokerVersion = (v.brokerVersion as string | undefined) ?? '5.x';
  if (brokerVersion !== '5.x' && brokerVersion !== '4.9')
    errors.push(`--brokerVersion: expected 5.x or 4.9, got ${JSON.stringify(brokerVersion)}`);
  if (v.heartbeat && brokerVersion === '4.9')
    errors.push('--heartbeat needs --brokerVersion 5.x: 4.9 brokers do not send BROKER_HEARTBEAT');
  if (!v.heartbeat && (v.heartbeatInterval !== undefined || v.heartbeatTimeout !== undefined)) {
    errors.push('--heartbeatInterval and --heartbeatTimeout only apply with --heartbeat');
  }
  const faults: FaultSpec[] = [];
  for (const kind of FAULT_KINDS) {
    for (const text of (v[kind] as string[] | undefined) ?? []) {
      const fault = parseFault(kind, text);
      if (typeof fault === 'string') errors.push(fault);
      else faults.push(fault);
    }
  }
  if (errors.length > 0) return { ok: false, error: errors[0]! };
  return {
    ok: true,
    sim: {
      nameServers: addrs.addrs,
      clusters,
      brokers,
      replicas,
      topics,
      queues,
      basePort,
      intervalMs: interval * 1000,
      heartbeat: v.heartbeat === true,
      heartbeatIntervalMs: heartbeatInterval * 1000,
      heartbeatTimeoutMillis: Math.round(heartbeatTimeout * 1000),
      compressed: v.compressed === true,
      brokerVersion: brokerVersion as '5.x' | '4.9',
      faults,
      requestTimeoutMs: timeoutMs,
    },
    ...(duration !== undefined ? { durationMs: duration * 1000 } : {}),
  };
}

/** Why exit 1: no name server ever acknowledged a registration, and what the last failures were. */
function noBrokerRegistered(summary: SimSummary, lastErrors: string[]): string {
  const why = lastErrors.length > 0 ? ` (last: ${lastErrors.join(' | ')})` : '';
  return (
    `xnamesrv sim: no broker ever registered: ${summary.registrations.sent} registration(s) sent, none acknowledged${why}; ` +
    "is -n the name servers' remoting address (listenPort, default 9876)?"
  );
}

/**
 * `xnamesrv sim [options]`: exit 0 after a clean stop (SIGINT, SIGTERM or
 * --duration) in which at least one registration was acknowledged, 1 when
 * none ever was (every name server unreachable or refusing), 2 on bad
 * arguments. Unreachable name servers are not fatal while it runs: brokers
 * keep retrying every interval, as real ones do, and the progress lines say
 * what failed.
 */
export async function runSimulator(
  argv: string[],
  env: Record<string, string | undefined>,
  io: SimIo = processIo(),
): Promise<number> {
  const parsed = parse(argv, env);
  if (parsed.ok === 'help') {
    io.stdout.write(SIM_USAGE);
    return 0;
  }
  if (!parsed.ok) {
    return usageError(io, 'sim', parsed.error);
  }
  const timer = io.timer ?? systemTimer();
  let sim: BrokerSimulator;
  let lastErrors: string[] = [];
  try {
    sim = new BrokerSimulator({
      ...parsed.sim,
      timer,
      onEvent: (event) => {
        if (event.type === 'round' && event.report.errors.length > 0) lastErrors = event.report.errors;
        io.stderr.write(formatSimEvent(event));
      },
    });
  } catch (err) {
    return usageError(io, 'sim', errorMessage(err));
  }
  const o = parsed.sim;
  const instances = o.clusters * o.brokers * o.replicas;
  io.stderr.write(
    `[sim] ${instances} broker instance(s) (${o.clusters} cluster(s) x ${o.brokers} broker name(s) x ${o.replicas} replica(s), ` +
      `${o.topics + 2} topics each) registering with ${sim.nameServers.map((a) => a.text).join(', ')} every ${seconds(o.intervalMs!)}` +
      `${o.heartbeat ? `, heartbeat every ${seconds(o.heartbeatIntervalMs!)}` : ''}${o.compressed ? ', compressed bodies' : ''}\n`,
  );

  const stop = stopSignal(io);
  let why = 'stopped';
  let durationTimer: unknown;
  const finished = new Promise<void>((resolve) => {
    void whenAborted(stop.signal).then(() => {
      why = typeof stop.signal.reason === 'string' ? stop.signal.reason : 'stop requested';
      resolve();
    });
    if (parsed.durationMs !== undefined) {
      durationTimer = timer.setTimeout(() => {
        why = `duration ${seconds(parsed.durationMs!)} reached`;
        resolve();
      }, parsed.durationMs);
    }
  });
  try {
    await sim.start();
    io.onStarted?.(sim);
    await finished;
    if (durationTimer !== undefined) timer.clearTimeout(durationTimer);
    const summary = await sim.stop();
    io.stderr.write(formatSummary(summary, why));
    if (summary.registrations.acknowledged === 0) {
      io.stderr.write(`${noBrokerRegistered(summary, lastErrors)}\n`);
      return 1;
    }
    return 0;
  } finally {
    stop.dispose();
  }
}

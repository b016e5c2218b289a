/**
 * Figures 1 and 2: route reads against the framing ceiling, without and with
 * brokers re-registering every second.
 */
import { Histogram, summarize, type LatencySummary } from '../lib/hist.js';
import { fmt, load, median, type BenchContext } from '../lib/context.js';
import { Child } from '../lib/rpc.js';
import { READ_TOPOLOGY, entryCount, topicCount } from '../lib/topology.js';
import type { RunResult } from '../procs/readLoad.js';

const CONNECTIONS = 64;
const WINDOW = 8;

interface Phase {
  writes: number;
  bytes: number;
  cpu: number;
  sleeps: number;
  loopMaxMs: number;
  loopP99Ms: number;
}

interface Measured {
  rps: number;
  latency: LatencySummary;
  serverCpu: number;
  clientCpu: number;
  loopMaxMs: number;
  codes: Record<string, number>;
  /** answers per socket write on the server */
  perWrite: number;
  /** Voluntary context switches per 1,000 answers: how often the server and the load generator slept waiting. */
  serverSleepsPerK: number;
  clientSleepsPerK: number;
}

function measured(r: RunResult, p: Phase): Measured {
  return {
    rps: r.rps,
    latency: summarize(Histogram.from(r.latency)),
    serverCpu: p.cpu,
    clientCpu: r.clientCpu,
    loopMaxMs: p.loopMaxMs,
    codes: r.codes,
    perWrite: p.bytes / r.responseBytesMean / Math.max(1, p.writes),
    serverSleepsPerK: (p.sleeps * 1000) / Math.max(1, r.requests),
    clientSleepsPerK: (r.clientSleeps * 1000) / Math.max(1, r.requests),
  };
}

export interface ReadSetup {
  ns: Child;
  port: number;
  ceiling: Child;
  ceilingPort: number;
  reads: Child;
  brokers: Child;
  memEmpty: any;
  memLoaded: any;
  responseBytes: number;
}

export async function setupReads(ctx: BenchContext): Promise<ReadSetup> {
  const { child: ns, port } = await ctx.startServer('xnamesrv');
  const memEmpty = await ns.call('mem');
  const brokers = ctx.own(Child.start('brokers', 'brokerLoad'));
  const prep = await brokers.call('prepare', { topology: READ_TOPOLOGY });
  ctx.log(`  ${prep.brokers} broker bodies of ${fmt(prep.bodyBytesMean / 1e6)} MB made in ${fmt(prep.ms)} ms`);
  // One connection per broker, as real brokers have.
  const reg = await brokers.call('registerAll', { port, topology: READ_TOPOLOGY, connections: 32, window: 1 });
  ctx.log(`  32 x 10,000-topic registrations in ${fmt(reg.totalMs)} ms (codes ${JSON.stringify(reg.codes)})`);
  const memLoaded = await ns.call('mem');
  const reads = ctx.own(Child.start('reads', 'readLoad'));
  await reads.call('setup', { topology: READ_TOPOLOGY });
  // Warm-up: every topic's route encoded once, JIT warm; keeps one real answer.
  const warm: RunResult = await reads.call('run', {
    port,
    connections: CONNECTIONS,
    mode: 'closed',
    window: WINDOW,
    durationMs: ctx.quick ? 2000 : 4000,
  });
  if (!warm.sample) throw new Error(`no successful route answer in warm-up: codes ${JSON.stringify(warm.codes)}`);
  const ceiling = ctx.own(Child.start('ceiling', 'ceiling'));
  const { port: ceilingPort } = await ceiling.call('start', { response: warm.sample });
  ctx.log(`  warm-up ${fmt(warm.rps)} req/s; route answer ${warm.sample.length} bytes; ceiling answers the same bytes`);
  return { ns, port, ceiling, ceilingPort, reads, brokers, memEmpty, memLoaded, responseBytes: warm.sample.length };
}

/** One read run against xnamesrv ('x') or the ceiling ('c'): closed loop (WINDOW outstanding) or open loop at `rate`. */
async function readRun(
  s: ReadSetup,
  target: 'x' | 'c',
  load: { mode: 'closed' } | { mode: 'open'; rate: number },
  durationMs: number,
): Promise<Measured> {
  const server = target === 'x' ? s.ns : s.ceiling;
  await server.call('phase');
  const r: RunResult = await s.reads.call('run', {
    port: target === 'x' ? s.port : s.ceilingPort,
    connections: CONNECTIONS,
    ...(load.mode === 'closed' ? { mode: 'closed', window: WINDOW } : { mode: 'open', rate: load.rate }),
    warmupMs: 500,
    durationMs,
  });
  return measured(r, await server.call('phase'));
}

const closedRun = (s: ReadSetup, target: 'x' | 'c', durationMs: number) =>
  readRun(s, target, { mode: 'closed' }, durationMs);
const openRun = (s: ReadSetup, target: 'x' | 'c', rate: number, durationMs: number) =>
  readRun(s, target, { mode: 'open', rate }, durationMs);

function describe(m: Measured): string {
  return `${fmt(m.rps)} req/s p50 ${fmt(m.latency.p50Ms)} p99 ${fmt(m.latency.p99Ms)} max ${fmt(m.latency.maxMs)} ms, server cpu ${fmt(m.serverCpu * 100, 0)}%, client cpu ${fmt(m.clientCpu * 100, 0)}%, ${fmt(m.perWrite, 1)} answers/write, sleeps per 1k answers: server ${fmt(m.serverSleepsPerK, 0)}, client ${fmt(m.clientSleepsPerK, 0)}`;
}

export async function figure1(ctx: BenchContext, s: ReadSetup): Promise<void> {
  const rounds = ctx.quick ? 1 : 5;
  const dur = ctx.quick ? 2000 : 4000;
  const xs: Measured[] = [];
  const cs: Measured[] = [];
  for (let r = 0; r < rounds; r++) {
    const c = await closedRun(s, 'c', dur);
    const x = await closedRun(s, 'x', dur);
    cs.push(c);
    xs.push(x);
    ctx.log(`  round ${r + 1}: ceiling ${describe(c)}`);
    ctx.log(`  round ${r + 1}: xnamesrv ${describe(x)}  -> ${fmt(x.rps / c.rps)} (load ${load()})`);
  }
  const ratio = median(xs.map((x, i) => x.rps / cs[i]!.rps));
  const xMax = median(xs.map((x) => x.rps));
  const cMax = median(cs.map((c) => c.rps));
  // Per server CPU-second: fair even if the client, not the ceiling server, was the limit.
  const effRatio = median(xs.map((x, i) => x.rps / x.serverCpu / (cs[i]!.rps / cs[i]!.serverCpu)));

  // Latency under open-loop load: the target's 80 % of xnamesrv's maximum,
  // and lighter loads for the shape of the curve; the ceiling at each rate beside.
  const latDur = ctx.quick ? 3000 : 6000;
  const curve: Array<{ share: number; rate: number; xnamesrv: Measured; ceiling: Measured }> = [];
  for (const share of [0.25, 0.5, 0.8]) {
    const rate = Math.round(share * xMax);
    const c = await openRun(s, 'c', rate, latDur);
    const x = await openRun(s, 'x', rate, latDur);
    ctx.log(`  ${share * 100} % (${fmt(rate)} req/s) ceiling ${describe(c)}`);
    ctx.log(`  ${share * 100} % (${fmt(rate)} req/s) xnamesrv ${describe(x)}`);
    curve.push({ share, rate, xnamesrv: x, ceiling: c });
  }
  const { rate, xnamesrv: x80, ceiling: c80 } = curve[curve.length - 1]!;

  ctx.details.figure1 = {
    topology: READ_TOPOLOGY,
    topics: topicCount(READ_TOPOLOGY),
    entries: entryCount(READ_TOPOLOGY),
    connections: CONNECTIONS,
    window: WINDOW,
    responseBytes: s.responseBytes,
    rounds: xs.map((x, i) => ({ xnamesrv: x, ceiling: cs[i] })),
    ratio,
    effRatio,
    at80: { rate, xnamesrv: x80, ceiling: c80 },
    curve,
  };
  ctx.rows.push(
    {
      figure: '1 reads',
      metric: 'GET_ROUTEINFO_BY_TOPIC max req/s',
      value: fmt(xMax),
      reference: `ceiling ${fmt(cMax)}`,
      ratio: fmt(ratio),
      target: '>= 0.8',
      met: ratio >= 0.8 ? 'yes' : 'no',
    },
    {
      figure: '1 reads',
      metric: 'same, per server CPU-second',
      value: fmt(median(xs.map((x) => x.rps / x.serverCpu))),
      reference: `ceiling ${fmt(median(cs.map((c) => c.rps / c.serverCpu)))}`,
      ratio: fmt(effRatio),
      target: '-',
      met: '-',
    },
    ...curve.slice(0, -1).map((point) => ({
      figure: '1 reads',
      metric: `p50 / p99 at ${point.share * 100} % (${fmt(point.rate)} req/s), ms`,
      value: `${fmt(point.xnamesrv.latency.p50Ms)} / ${fmt(point.xnamesrv.latency.p99Ms)}`,
      reference: `ceiling ${fmt(point.ceiling.latency.p50Ms)} / ${fmt(point.ceiling.latency.p99Ms)}`,
      ratio: fmt(point.xnamesrv.latency.p99Ms / point.ceiling.latency.p99Ms),
      target: '-',
      met: '-' as const,
    })),
    {
      figure: '1 reads',
      metric: `p50 / p99 at 80 % (${fmt(rate)} req/s), ms`,
      value: `${fmt(x80.latency.p50Ms)} / ${fmt(x80.latency.p99Ms)}`,
      reference: `ceiling ${fmt(c80.latency.p50Ms)} / ${fmt(c80.latency.p99Ms)}`,
      ratio: fmt(x80.latency.p99Ms / c80.latency.p99Ms),
      target: 'p99 < 5',
      met: x80.latency.p99Ms < 5 ? 'yes' : 'no',
    },
  );
}

export async function figure2(ctx: BenchContext, s: ReadSetup): Promise<void> {
  const rounds = ctx.quick ? 1 : 5;
  const dur = ctx.quick ? 2000 : 4000;
  const xs: Measured[] = [];
  const cs: Measured[] = [];
  const regs: any[] = [];
  for (let r = 0; r < rounds; r++) {
    const c = await closedRun(s, 'c', dur);
    await s.brokers.call('startReregister', { periodMs: 1000, changedEvery: 4 });
    const x = await closedRun(s, 'x', dur);
    const reg = await s.brokers.call('stopReregister');
    regs.push(reg);
    cs.push(c);
    xs.push(x);
    ctx.log(`  round ${r + 1}: ceiling ${describe(c)}`);
    ctx.log(
      `  round ${r + 1}: xnamesrv+rereg ${describe(x)} -> ${fmt(x.rps / c.rps)}; registrations ${JSON.stringify({ changed: reg.changed, unchanged: reg.unchanged, failed: reg.failed })} rtt p50 ${fmt(reg.rtt.p50Ms)} max ${fmt(reg.rtt.maxMs)} ms`,
    );
  }
  const ratio = median(xs.map((x, i) => x.rps / cs[i]!.rps));
  const cMax = median(cs.map((c) => c.rps));
  const xMax = median(xs.map((x) => x.rps));

  // 80 % of what the server sustains while re-registrations run: figure 1's
  // 80 % would be past that maximum and measure a growing queue.
  const rate = Math.round(0.8 * xMax);
  const latDur = ctx.quick ? 4000 : 8000;
  const base = await openRun(s, 'x', rate, latDur);
  await s.brokers.call('startReregister', { periodMs: 1000, changedEvery: 4 });
  const x80 = await openRun(s, 'x', rate, latDur);
  const reg = await s.brokers.call('stopReregister');
  ctx.log(`  80 % (${fmt(rate)} req/s) xnamesrv alone ${describe(base)}`);
  ctx.log(
    `  80 % (${fmt(rate)} req/s) xnamesrv+rereg ${describe(x80)}, event loop max block ${fmt(x80.loopMaxMs)} ms; registrations rtt p50 ${fmt(reg.rtt.p50Ms)} max ${fmt(reg.rtt.maxMs)} ms`,
  );
  ctx.details.figure2 = {
    rounds: xs.map((x, i) => ({ xnamesrv: x, ceiling: cs[i], registrations: regs[i] })),
    ratio,
    at80: { rate, alone: base, reregistering: x80, registrations: reg },
  };
  ctx.rows.push(
    {
      figure: '2 reads+rereg',
      metric: 'max req/s, 32 brokers re-registering 1/s',
      value: fmt(xMax),
      reference: `ceiling ${fmt(cMax)}`,
      ratio: fmt(ratio),
      target: '>= 0.7',
      met: ratio >= 0.7 ? 'yes' : 'no',
    },
    {
      figure: '2 reads+rereg',
      metric: `p99 / max read at ${fmt(rate)} req/s, ms`,
      value: `${fmt(x80.latency.p99Ms)} / ${fmt(x80.latency.maxMs)}`,
      reference: `no rereg ${fmt(base.latency.p99Ms)} / ${fmt(base.latency.maxMs)}`,
      ratio: fmt(x80.latency.maxMs / base.latency.maxMs),
      target: 'no read behind a whole registration',
      met: '-',
    },
  );
}

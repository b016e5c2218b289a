/**
 * Figure 5 (memory after loading 32 x 10,000 and 300 x 10,000 topic
 * registrations) and figure 4 (RIP-29 storm: 300 brokers x 10,000 topics
 * registering as fast as 10 connections can send, with reads running).
 */
import { Histogram, summarize, type LatencySummary } from '../lib/hist.js';
import { fmt, load, median, type BenchContext } from '../lib/context.js';
import { Child } from '../lib/rpc.js';
import { READ_TOPOLOGY, STORM_TOPOLOGY, brokerCount, entryCount, topicCount, type Topology } from '../lib/topology.js';
import type { RunResult } from '../procs/readLoad.js';

const JAVA = { stormSeconds: 12.6, readP99Ms: 5, readMaxMs: 729, bytesPerEntry: 390 };
const STORM_CONNECTIONS = 10;
/** registrations outstanding per storm connection */
const STORM_WINDOW = 2;

export function stormTopology(quick: boolean): Topology {
  return quick ? { ...STORM_TOPOLOGY, clusters: 10 } : STORM_TOPOLOGY;
}

interface Mem {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  stats: { topics: number; queueEntries: number; liveBrokers: number; cachedRouteBytes: number };
}

function perEntry(before: Mem, after: Mem, entries: number) {
  return {
    heapBytes: (after.heapUsed - before.heapUsed) / entries,
    rssBytes: (after.rss - before.rss) / entries,
    externalBytes: (after.external - before.external) / entries,
  };
}

async function loadAndMeasure(
  ctx: BenchContext,
  name: string,
  registrar: Child,
  topology: Topology,
  connections: number,
  window: number,
) {
  const { child: ns, port } = await ctx.startServer(name);
  const before: Mem = await ns.call('mem');
  const reg = await registrar.call('registerAll', { port, topology, connections, window });
  const after: Mem = await ns.call('mem');
  await ns.stop();
  const entries = entryCount(topology);
  return { before, after, reg, entries, per: perEntry(before, after, entries) };
}

interface StormRun {
  seconds: number;
  registration: { codes: Record<string, number>; rtt: LatencySummary };
  during: LatencySummary;
  duringRps: number;
  duringCodes: Record<string, number>;
  after: LatencySummary;
  loopMaxMs: number;
  serverCpu: number;
  gcMaxMs: number;
  mem: Mem;
}

/** One storm on a fresh server, reads running at `rate` before, during and after. */
async function stormRun(
  ctx: BenchContext,
  registrar: Child,
  storm: Topology,
  rate: number,
  n: number,
): Promise<StormRun> {
  const { child: ns, port } = await ctx.startServer(`xnamesrv-storm${n}`);
  const reads = ctx.own(Child.start('reads-storm', 'readLoad'));
  await reads.call('setup', { topology: storm });
  // A second of reads first (JIT warm), not counted.
  await reads.call('run', { port, connections: 64, mode: 'open', rate, durationMs: 1000 });
  await reads.call('start', { port, connections: 64, mode: 'open', rate, durationMs: 0 });
  await ns.call('phase');
  const reg = await registrar.call('registerAll', {
    port,
    topology: storm,
    connections: STORM_CONNECTIONS,
    window: STORM_WINDOW,
  });
  const during: RunResult = await reads.call('stop');
  const phase = await ns.call('phase');
  // Reference in the same run: the same read rate once the storm is over.
  const after: RunResult = await reads.call('run', {
    port,
    connections: 64,
    mode: 'open',
    rate,
    durationMs: ctx.quick ? 2000 : 4000,
  });
  const afterPhase = await ns.call('phase');
  const mem: Mem = await ns.call('mem');
  await reads.stop();
  await ns.stop();
  const lat = summarize(Histogram.from(during.latency));
  const latAfter = summarize(Histogram.from(after.latency));
  const seconds = reg.totalMs / 1000;
  ctx.log(
    `  storm ${n}: ${brokerCount(storm)} x 10,000 (${topicCount(storm)} topics) over ${STORM_CONNECTIONS} connections x ${STORM_WINDOW}: absorbed in ${fmt(seconds)} s (codes ${JSON.stringify(reg.codes)}; registration rtt p50 ${fmt(reg.rtt.p50Ms)} max ${fmt(reg.rtt.maxMs)} ms); load ${load()}`,
  );
  ctx.log(
    `    reads at ${rate}/s during: ${fmt(during.rps)} req/s p50 ${fmt(lat.p50Ms)} p99 ${fmt(lat.p99Ms)} max ${fmt(lat.maxMs)} ms codes ${JSON.stringify(during.codes)}; event loop max block ${fmt(phase.loopMaxMs)} ms, longest GC pause ${fmt(phase.gcMaxMs)} ms; server cpu ${fmt(phase.cpu * 100, 0)}%`,
  );
  ctx.log(
    `    reads after: p50 ${fmt(latAfter.p50Ms)} p99 ${fmt(latAfter.p99Ms)} max ${fmt(latAfter.maxMs)} ms (event loop max block ${fmt(afterPhase.loopMaxMs)} ms); server rss ${fmt(mem.rss / 2 ** 20, 0)} MiB heap ${fmt(mem.heapUsed / 2 ** 20, 0)} MiB route cache ${fmt(mem.stats.cachedRouteBytes / 2 ** 20, 0)} MiB; ${mem.stats.liveBrokers} live brokers, ${mem.stats.queueEntries} entries`,
  );
  if (process.env.BENCH_DEBUG) {
    const t = (x: number) => new Date(x).toISOString().slice(17, 23);
    ctx.log(
      `    debug slow reads during: ${during.slowest
        .slice(0, 10)
        .map((r) => `${t(r[0])}:${fmt(r[1])}`)
        .join(' ')}; long GC ${phase.gcLong.map((g: number[]) => `${t(g[0]!)}:${fmt(g[1]!)}`).join(' ')}`,
    );
  }
  return {
    seconds,
    registration: { codes: reg.codes, rtt: reg.rtt },
    during: lat,
    duringRps: during.rps,
    duringCodes: during.codes,
    after: latAfter,
    loopMaxMs: phase.loopMaxMs,
    serverCpu: phase.cpu,
    gcMaxMs: phase.gcMaxMs,
    mem,
  };
}

export async function figures4and5(ctx: BenchContext, which: Set<number>): Promise<void> {
  const storm = stormTopology(ctx.quick);
  const details: Record<string, unknown> = {};
  let noReadsMs: number | undefined;

  if (which.has(5)) {
    const small = ctx.own(Child.start('brokers-32', 'brokerLoad'));
    await small.call('prepare', { topology: READ_TOPOLOGY });
    const m32 = await loadAndMeasure(ctx, 'xnamesrv-mem32', small, READ_TOPOLOGY, 32, 1);
    await small.stop();
    ctx.log(
      `  32 x 10,000: ${m32.after.stats.queueEntries} entries; heap +${fmt((m32.after.heapUsed - m32.before.heapUsed) / 2 ** 20)} MiB, rss +${fmt((m32.after.rss - m32.before.rss) / 2 ** 20)} MiB -> ${fmt(m32.per.heapBytes, 0)} B/entry heap, ${fmt(m32.per.rssBytes, 0)} B/entry rss`,
    );
    details.memory32 = m32;
    ctx.rows.push({
      figure: '5 memory',
      metric: '32 x 10k: heap bytes per topic-broker entry',
      value: fmt(m32.per.heapBytes, 0),
      reference: `Java ${JAVA.bytesPerEntry}`,
      ratio: fmt(m32.per.heapBytes / JAVA.bytesPerEntry),
      target: '<= 200',
      met: m32.per.heapBytes <= 200 ? 'yes' : 'no',
    });
    ctx.rows.push({
      figure: '5 memory',
      metric: '32 x 10k: RSS bytes per entry (heap RSS after)',
      value: `${fmt(m32.per.rssBytes, 0)} (${fmt(m32.after.rss / 2 ** 20, 0)} MiB)`,
      reference: `Java ${JAVA.bytesPerEntry}`,
      ratio: fmt(m32.per.rssBytes / JAVA.bytesPerEntry),
      target: '-',
      met: '-',
    });
  }

  const registrar = ctx.own(Child.start('brokers-storm', 'brokerLoad'));
  const prep = await registrar.call('prepare', { topology: storm });
  ctx.log(`  ${prep.brokers} storm bodies of ${fmt(prep.bodyBytesMean / 1e6)} MB made in ${fmt(prep.ms)} ms`);

  if (which.has(5) || which.has(4)) {
    // Also the storm's in-run reference: the same registrations with no reads.
    const m = await loadAndMeasure(ctx, 'xnamesrv-mem300', registrar, storm, STORM_CONNECTIONS, STORM_WINDOW);
    noReadsMs = m.reg.totalMs;
    ctx.log(
      `  ${brokerCount(storm)} x 10,000 without reads: ${fmt(m.reg.totalMs)} ms (codes ${JSON.stringify(m.reg.codes)}); ${m.after.stats.queueEntries} entries; heap +${fmt((m.after.heapUsed - m.before.heapUsed) / 2 ** 20)} MiB, rss ${fmt(m.after.rss / 2 ** 20, 0)} MiB -> ${fmt(m.per.heapBytes, 0)} B/entry heap, ${fmt(m.per.rssBytes, 0)} B/entry rss`,
    );
    details.memoryStorm = m;
    if (which.has(5)) {
      ctx.rows.push({
        figure: '5 memory',
        metric: `${brokerCount(storm)} x 10k: heap bytes per entry`,
        value: fmt(m.per.heapBytes, 0),
        reference: `Java ${JAVA.bytesPerEntry}`,
        ratio: fmt(m.per.heapBytes / JAVA.bytesPerEntry),
        target: '<= 200',
        met: m.per.heapBytes <= 200 ? 'yes' : 'no',
      });
      ctx.rows.push({
        figure: '5 memory',
        metric: `${brokerCount(storm)} x 10k: RSS bytes per entry (RSS after)`,
        value: `${fmt(m.per.rssBytes, 0)} (${fmt(m.after.rss / 2 ** 20, 0)} MiB)`,
        reference: `Java ${JAVA.bytesPerEntry}`,
        ratio: fmt(m.per.rssBytes / JAVA.bytesPerEntry),
        target: '-',
        met: '-',
      });
    }
  }

  if (which.has(4)) {
    const rate = Number(process.env.BENCH_STORM_READ_RATE ?? 10_000);
    const runs: StormRun[] = [];
    for (let i = 0; i < (ctx.quick ? 1 : 2); i++) runs.push(await stormRun(ctx, registrar, storm, rate, i + 1));
    const mid = (f: (r: StormRun) => number) => median(runs.map(f));
    const seconds = mid((r) => r.seconds);
    const p99 = mid((r) => r.during.p99Ms);
    const max = mid((r) => r.during.maxMs);
    details.storm = { topology: storm, readRate: rate, noReadsMs, runs };
    const scale = brokerCount(storm) === 300 ? '' : ` (${brokerCount(storm)} brokers: quick)`;
    const each = (f: (r: StormRun) => string) => (runs.length > 1 ? ` (runs: ${runs.map(f).join(', ')})` : '');
    ctx.rows.push(
      {
        figure: '4 storm',
        metric: `absorbed, s${scale}${each((r) => fmt(r.seconds))}`,
        value: fmt(seconds),
        reference: `no reads ${fmt((noReadsMs ?? NaN) / 1000)}; Java ${JAVA.stormSeconds}`,
        ratio: fmt(seconds / JAVA.stormSeconds),
        target: '<= 12',
        met: seconds <= 12 ? 'yes' : 'no',
      },
      {
        figure: '4 storm',
        metric: `reads at ${rate}/s during storm: p99 / max, ms${each((r) => `${fmt(r.during.p99Ms, 0)}/${fmt(r.during.maxMs, 0)}`)}`,
        value: `${fmt(p99)} / ${fmt(max)}`,
        reference: `after ${fmt(mid((r) => r.after.p99Ms))} / ${fmt(mid((r) => r.after.maxMs))}; Java ${JAVA.readP99Ms} / ${JAVA.readMaxMs}`,
        ratio: fmt(max / JAVA.readMaxMs),
        target: 'p99 < 5, max < 100',
        met: p99 < 5 && max < 100 ? 'yes' : 'no',
      },
      {
        figure: '4 storm',
        metric: 'server RSS after storm, MiB',
        value: fmt(mid((r) => r.mem.rss) / 2 ** 20, 0),
        reference: `heap ${fmt(mid((r) => r.mem.heapUsed) / 2 ** 20, 0)}, route cache ${fmt(mid((r) => r.mem.stats.cachedRouteBytes) / 2 ** 20, 0)}`,
        ratio: '-',
        target: '-',
        met: '-',
      },
    );
  }
  ctx.details.storm = details;
  await registrar.stop();
}

/**
 * A real xnamesrv NameServer (the composition root, system clock) on
 * 127.0.0.1, in a process of its own. Reports CPU, event-loop blocking and
 * memory on request.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { NameServer } from '../../src/nameServer.js';
import { cpuMeter, serveParent } from '../lib/rpc.js';
import { countSocketWrites } from '../lib/writes.js';

let server: NameServer | undefined;
let dataDir: string | undefined;
const cpu = cpuMeter();
// How many socket writes (and bytes) each phase made: answers per write.
const socketWrites = countSocketWrites();
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
let elu = performance.eventLoopUtilization();
/** GC pauses of this phase: count, total, longest, and the long ones (epoch ms, ms, kind). */
const gc = { count: 0, totalMs: 0, maxMs: 0, long: [] as Array<[number, number, number]> };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.count++;
    gc.totalMs += e.duration;
    if (e.duration > gc.maxMs) gc.maxMs = e.duration;
    if (e.duration >= 20 && gc.long.length < 50)
      gc.long.push([
        performance.timeOrigin + e.startTime,
        e.duration,
        (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0,
      ]);
  }
}).observe({ entryTypes: ['gc'] });
function takeGc() {
  const r = { gcCount: gc.count, gcTotalMs: gc.totalMs, gcMaxMs: gc.maxMs, gcLong: gc.long.slice() };
  gc.count = 0;
  gc.totalMs = 0;
  gc.maxMs = 0;
  gc.long.length = 0;
  return r;
}

function gcNow(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
}

serveParent({
  async start(args: { settings?: Record<string, string> }) {
    dataDir = mkdtempSync(join(tmpdir(), 'xnamesrv-bench-'));
    const argv = ['--data-dir', dataDir, '--listenPort', '0', '--httpPort', '0', '--bindAddress', '127.0.0.1'];
    for (const [k, v] of Object.entries(args.settings ?? {})) argv.push(`--${k}`, v);
    const loaded = loadConfig({ argv, env: {}, homeDir: dataDir });
    if (!loaded.ok) throw new Error(loaded.errors.join('; '));
    server = await NameServer.start({ config: loaded.config, logger: silentLogger() });
    if (process.env.BENCH_NO_METRICS === '1') {
      // Diagnostic only: what the per-request Prometheus hook costs reads.
      (server.metrics as unknown as { recordRequest: () => void }).recordRequest = () => undefined;
    }
    cpu.read();
    loop.reset();
    elu = performance.eventLoopUtilization();
    takeGc();
    return { port: server.remotingPort, httpPort: server.httpPort, pid: process.pid };
  },

  /** CPU (fraction of a core) and event-loop delay since the last call. */
  phase() {
    const c = cpu.read();
    const u = performance.eventLoopUtilization(elu);
    elu = performance.eventLoopUtilization();
    // mainThreadMs: time the event loop spent running callbacks (not waiting), worker threads excluded.
    const result = {
      cpu: c.cpu,
      wallMs: c.wallMs,
      sleeps: c.sleeps,
      loopMaxMs: loop.max / 1e6,
      loopP99Ms: loop.percentile(99) / 1e6,
      mainThreadMs: u.active,
      ...socketWrites.take(),
      ...takeGc(),
    };
    loop.reset();
    return result;
  },

  mem() {
    gcNow();
    const m = process.memoryUsage();
    return {
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      stats: server?.routes.stats(),
      liveBrokers: server?.brokerSnapshots().length,
    };
  },

  stats() {
    return server?.routes.stats();
  },

  async exit() {
    // No graceful close: peers are going away too, and a CPU profile is written on exit.
    setImmediate(() => {
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
    return null;
  },
});

/**
 * `npm run bench:console`: the browser console under load, in a real browser.
 *
 * A name server (its own process, bench/procs/nameServer.ts), 1,000 brokers
 * registered over the remoting protocol (src/sim), and the console opened in
 * headless Debian chromium (playwright-core, no browser download). Measures:
 * - time to the first render of the 1,000-row brokers table after navigation;
 * - frame times (requestAnimationFrame deltas, p50/p95/p99/max) while idle,
 *   then while BROKER_HEARTBEATs stream at 200 per second (each one a
 *   `registered -> registered` transition the page receives), paced evenly;
 * - long tasks (over 50 ms) and what the page received.
 * CONSOLE_BENCH_BROKERS, CONSOLE_BENCH_RATE and CONSOLE_BENCH_SECONDS change the load.
 */
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { chromium, type CDPSession, type Page } from 'playwright-core';
import { RemotingClient } from '../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../src/remoting/requestCode.js';
import { BrokerSimulator } from '../src/sim/simulator.js';
import { sortedPercentile } from './lib/hist.js';
import { Child, sleep } from './lib/rpc.js';
import { errorStack } from '../src/util/errorMessage.js';

const BROKERS = Number(process.env.CONSOLE_BENCH_BROKERS ?? 1000);
const RATE = Number(process.env.CONSOLE_BENCH_RATE ?? 200);
const SECONDS = Number(process.env.CONSOLE_BENCH_SECONDS ?? 10);
const IDLE_SECONDS = 3;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Heartbeats are sent in ticks of this many ms, RATE * TICK_MS / 1000 per tick. */
const TICK_MS = 20;

interface FrameStats {
  frames: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  over50: number;
  longTasks: number;
  longTaskMs: number;
}

const log = (message: string) => process.stdout.write(`${message}\n`);

/** Starts recording rAF deltas and long tasks in the page (bench instrumentation, not page code). */
async function startFrameRecording(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __bench: { deltas: number[]; longTasks: number[]; stop: boolean } };
    w.__bench = { deltas: [], longTasks: [], stop: false };
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.__bench.longTasks.push(entry.duration);
    }).observe({ type: 'longtask' });
    let last = performance.now();
    const tick = (now: number) => {
      w.__bench.deltas.push(now - last);
      last = now;
      if (!w.__bench.stop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}

async function takeFrames(page: Page): Promise<FrameStats> {
  const { deltas, longTasks } = await page.evaluate(() => {
    const w = window as unknown as { __bench: { deltas: number[]; longTasks: number[]; stop: boolean } };
    const taken = { deltas: w.__bench.deltas.slice(1), longTasks: w.__bench.longTasks.slice() };
    w.__bench.deltas.length = 0;
    w.__bench.longTasks.length = 0;
    return taken;
  });
  const sorted = [...deltas].sort((a, b) => a - b);
  return {
    frames: deltas.length,
    p50: sortedPercentile(sorted, 50) ?? NaN,
    p95: sortedPercentile(sorted, 95) ?? NaN,
    p99: sortedPercentile(sorted, 99) ?? NaN,
    max: sorted.at(-1) ?? NaN,
    over50: deltas.filter((d) => d > 50).length,
    longTasks: longTasks.length,
    longTaskMs: longTasks.reduce((sum, d) => sum + d, 0),
  };
}

/** Sends BROKER_HEARTBEAT round-robin over the brokers, evenly paced at `rate` per second, for `seconds`. */
async function streamHeartbeats(
  clients: RemotingClient[],
  brokers: Array<{ clusterName: string; brokerName: string; brokerAddr: string }>,
  rate: number,
  seconds: number,
): Promise<{ sent: number; acknowledged: number; elapsedMs: number }> {
  let sent = 0;
  let acknowledged = 0;
  const inFlight: Promise<void>[] = [];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let next = 0;
  while (performance.now() < end) {
    // Catch up to the schedule: rate * elapsed heartbeats by now.
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    while (sent < due) {
      const broker = brokers[next++ % brokers.length]!;
      const client = clients[sent % clients.length]!;
      sent++;
      inFlight.push(
        client
          .invoke(
            RequestCode.BROKER_HEARTBEAT,
            { clusterName: broker.clusterName, brokerName: broker.brokerName, brokerAddr: broker.brokerAddr },
            null,
            10_000,
          )
          .then((r) => {
            if (r.code === ResponseCode.SUCCESS) acknowledged++;
          }),
      );
    }
    await sleep(TICK_MS);
  }
  await Promise.all(inFlight);
  return { sent, acknowledged, elapsedMs: performance.now() - t0 };
}

/** Chromium's main-thread time by kind, from the DevTools protocol (bench instrumentation only). */
async function mainThreadMetrics(cdp: CDPSession): Promise<Record<string, number>> {
  const { metrics }: { metrics: Array<{ name: string; value: number }> } = await cdp.send('Performance.getMetrics');
  const wanted = [
    'TaskDuration',
    'ScriptDuration',
    'LayoutDuration',
    'RecalcStyleDuration',
    'LayoutCount',
    'RecalcStyleCount',
  ];
  return Object.fromEntries(metrics.filter((m) => wanted.includes(m.name)).map((m) => [m.name, m.value]));
}

function metricsDelta(before: Record<string, number>, after: Record<string, number>, seconds: number): string {
  const ms = (name: string) => (((after[name] ?? 0) - (before[name] ?? 0)) * 1000) / seconds;
  const count = (name: string) => ((after[name] ?? 0) - (before[name] ?? 0)) / seconds;
  return `main thread per second: busy ${ms('TaskDuration').toFixed(0)} ms (script ${ms('ScriptDuration').toFixed(0)}, layout ${ms('LayoutDuration').toFixed(0)} in ${count('LayoutCount').toFixed(0)} layouts, style ${ms('RecalcStyleDuration').toFixed(0)})`;
}

/** GET with brotli accepted, as a browser asks: the first one makes the server compress the console's files. */
function timedGet(port: number, path: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { 'accept-encoding': 'br, gzip' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - t0));
    });
    req.on('error', reject);
    req.end();
  });
}

function row(name: string, s: FrameStats): string {
  const ms = (n: number) => n.toFixed(1).padStart(6);
  return `| ${name.padEnd(28)} | ${String(s.frames).padStart(6)} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} | ${ms(s.max)} | ${String(s.over50).padStart(8)} | ${String(s.longTasks).padStart(5)} / ${s.longTaskMs.toFixed(0).padStart(5)} ms |`;
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM))
    throw new Error(`no browser at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH`);
  const nameServer = Child.start('nameServer', 'nameServer', { execArgv: ['--expose-gc'] });
  const clients: RemotingClient[] = [];
  let simulator: BrokerSimulator | undefined;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  try {
    const { port, httpPort } = await nameServer.call<{ port: number; httpPort: number }>('start', { settings: {} });
    log(`name server: remoting 127.0.0.1:${port}, http 127.0.0.1:${httpPort}`);

    // 10 clusters of 100 master brokers; registrations tied to their connections, no timers armed.
    const clusters = Math.max(1, Math.round(BROKERS / 100));
    simulator = new BrokerSimulator({
      nameServers: [`127.0.0.1:${port}`],
      clusters,
      brokers: Math.ceil(BROKERS / clusters),
      replicas: 1,
      topics: 4,
      queues: 4,
      intervalMs: 3_600_000,
    });
    const round = await simulator.step();
    log(`registered ${round.registrations.acknowledged} brokers (${round.registrations.failed} failed)`);
    const brokers = simulator.brokers();

    // The server compresses the console's files on the first request (elk.bundled.js is 1.6 MB):
    // measured apart, so the page's own figures are those of every later load.
    const coldAssetsMs = await timedGet(httpPort, '/console/vendor/elk.bundled.js');
    const warmAssetsMs = await timedGet(httpPort, '/console/vendor/elk.bundled.js');

    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));

    await page.goto(`http://127.0.0.1:${httpPort}/`);
    const firstRender = await page.waitForFunction(
      (n) => (document.querySelectorAll('#brokers tbody tr').length >= n ? performance.now() : false),
      brokers.length,
      { polling: 'raf', timeout: 60_000 },
    );
    const firstRenderMs = (await firstRender.jsonValue()) as number;
    // Let the start-up settle (chart layout, history replay, the first getBrokers).
    await sleep(4000);
    // The page's own marks (main.js): where the time to the first render went.
    const marks = await page.evaluate(() => {
      const entry = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
      const at: Record<string, number> = { domContentLoaded: entry?.domContentLoadedEventEnd ?? NaN };
      for (const mark of performance.getEntriesByType('mark'))
        if (mark.name.startsWith('console:')) at[mark.name.slice('console:'.length)] ??= mark.startTime;
      return at;
    });

    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    await startFrameRecording(page);
    const idleMetrics = await mainThreadMetrics(cdp);
    await sleep(IDLE_SECONDS * 1000);
    const idle = await takeFrames(page);
    const loadMetrics = await mainThreadMetrics(cdp);
    const logCount = () => page.evaluate(() => document.querySelector('#log-count')?.textContent ?? '');
    const before = await logCount();

    for (let i = 0; i < 4; i++) clients.push(await RemotingClient.connect({ host: '127.0.0.1', port }));
    const streamed = await streamHeartbeats(clients, brokers, RATE, SECONDS);
    await sleep(300);
    const loaded = await takeFrames(page);
    const endMetrics = await mainThreadMetrics(cdp);
    const after = await logCount();
    const domRows = await page.evaluate(() => ({
      table: document.querySelectorAll('#brokers tbody tr').length,
      log: document.querySelectorAll('#log .log-row').length,
      heapMb: ((performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? NaN) / 1e6,
    }));

    log('');
    log(
      `load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} on ${availableParallelism()} cores (the browser, the name server and this process share them)`,
    );
    log(
      `brokers ${brokers.length}; heartbeats ${streamed.sent} in ${(streamed.elapsedMs / 1000).toFixed(1)} s = ${((streamed.sent * 1000) / streamed.elapsedMs).toFixed(0)}/s (${streamed.acknowledged} acknowledged)`,
    );
    log(`first render of the ${domRows.table}-row table: ${firstRenderMs.toFixed(0)} ms after navigation start`);
    log(
      `  on the way (ms after navigation start): ${Object.entries(marks)
        .sort((a, b) => a[1] - b[1])
        .map(([name, ms]) => `${name} ${ms.toFixed(0)}`)
        .join(', ')}`,
    );
    log(
      `console files, first request after start (server compresses them once): ${coldAssetsMs.toFixed(0)} ms; later requests ${warmAssetsMs.toFixed(0)} ms`,
    );
    log(
      `transition log count ${before} -> ${after}; log rows in the DOM: ${domRows.log}; JS heap ${domRows.heapMb.toFixed(1)} MB`,
    );
    log('');
    log('| phase                        | frames |    p50 |    p95 |    p99 |    max | > 50 ms | long tasks / total |');
    log('|---|---|---|---|---|---|---|---|');
    log(row(`idle, ${IDLE_SECONDS} s`, idle));
    log(row(`${RATE} transitions/s, ${SECONDS} s`, loaded));
    log('');
    log(`idle: ${metricsDelta(idleMetrics, loadMetrics, IDLE_SECONDS)}`);
    log(`load: ${metricsDelta(loadMetrics, endMetrics, streamed.elapsedMs / 1000)}`);
    if (errors.length > 0) log(`\nbrowser errors:\n${errors.join('\n')}`);
    await context.close();
  } finally {
    await browser.close();
    await Promise.all(clients.map((c) => c.close()));
    await simulator?.stop({ unregister: false }).catch(() => undefined);
    await nameServer.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${errorStack(err)}\n`);
  process.exit(1);
});

/**
 * `npm run bench:limits`: does holding many idle connections hurt route reads?
 *
 * Starts one name server (the real command, `dist/src/cli/main.js`, in its
 * own process) on 127.0.0.1, registers a broker, and measures
 * GET_ROUTEINFO_BY_TOPIC throughput and latency from a few pipelining
 * readers: first on an otherwise empty server, then while this process holds
 * 5,000 idle remoting connections and 1,000 gateway (WebSocket) clients, and
 * finally with those clients receiving a route push every 100 ms. It prints
 * each phase and whether reads degrade (throughput below 80 % of the
 * baseline, or p99 latency above twice the baseline's plus 1 ms).
 *
 * Bounded: fixed counts, fixed phase lengths, a watchdog that ends
 * everything after BENCH_LIMITS_DEADLINE_S (default 120 s). It checks the
 * file descriptor limit (`ulimit -n`) first and scales the connection counts
 * down to fit, saying so. Standalone: nothing else under bench/ is used.
 *
 * Environment: BENCH_LIMITS_IDLE (5000), BENCH_LIMITS_GATEWAY (1000),
 * BENCH_LIMITS_PHASE_S (5), BENCH_LIMITS_READERS (4), BENCH_LIMITS_DEPTH (32).
 */
import { wsMessageText } from '../src/util/wsText.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { RemotingClient } from '../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../src/remoting/requestCode.js';
import { encodeRegisterBrokerBody } from '../src/protocol/registerBody.js';
import type { TopicConfig } from '../src/protocol/types.js';
import { errorStack } from '../src/util/errorMessage.js';
import { sortedPercentile } from './lib/hist.js';

const env = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const value = raw === undefined ? fallback : Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : fallback;
};

const WANT_IDLE = env('BENCH_LIMITS_IDLE', 5000);
const WANT_GATEWAY = env('BENCH_LIMITS_GATEWAY', 1000);
const PHASE_MS = env('BENCH_LIMITS_PHASE_S', 5) * 1000;
const READERS = Math.max(1, env('BENCH_LIMITS_READERS', 4));
const DEPTH = Math.max(1, env('BENCH_LIMITS_DEPTH', 32));
const DEADLINE_MS = env('BENCH_LIMITS_DEADLINE_S', 120) * 1000;
const TOPICS = 100;
/** Descriptors this process and the server need besides the connections (stdio, listeners, readers, files). */
const FD_HEADROOM = 256;

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const started = Date.now();
const log = (message: string) =>
  process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${message}\n`);

interface PhaseResult {
  phase: string;
  requests: number;
  errors: number;
  perSecond: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

function fdLimits(): { soft: number; hard: number } {
  const run = spawnSync('sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' });
  const read = (v: string | undefined): number =>
    v === 'unlimited' ? Infinity : Number.isFinite(Number(v)) && v !== '' && v !== undefined ? Number(v) : 1024;
  const [soft, hard] = (run.stdout ?? '').trim().split(/\s+/);
  return { soft: read(soft), hard: read(hard) };
}

function rssOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function startServer(
  dataDir: string,
  idle: number,
  gateway: number,
): Promise<{ child: ChildProcess; port: number; httpPort: number }> {
  const args = [
    MAIN,
    '--data-dir',
    dataDir,
    '--bindAddress',
    '127.0.0.1',
    '--listenPort',
    '0',
    '--httpPort',
    '0',
    '--logLevel',
    'warn',
    '--remotingMaxConnections',
    String(idle + READERS + 64),
    '--gatewayMaxClients',
    String(gateway + 16),
    '--httpMaxConnections',
    String(gateway + 64),
    '--serverSocketBacklog',
    '4096',
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  return new Promise((resolve, reject) => {
    // The start-up line is on stdout; stderr has the log lines.
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /remoting on [^\n]*:(\d+), http on [^\n]*:(\d+)/.exec(stdout);
      if (match) resolve({ child, port: Number(match[1]), httpPort: Number(match[2]) });
    });
    child.once('exit', (code) => reject(new Error(`name server exited (${code}) before listening: ${stderr}`)));
  });
}

async function registerBroker(client: RemotingClient, counter: number): Promise<void> {
  const topicConfigTable: Record<string, TopicConfig> = {};
  const names = ['bench-broker', ...Array.from({ length: TOPICS }, (_, i) => `BenchTopic${i}`)];
  for (const name of names) {
    // The queue count alternates with the DataVersion, so each registration changes every route.
    const queues = 8 + (counter % 2);
    topicConfigTable[name] = {
      topicName: name,
      readQueueNums: queues,
      writeQueueNums: queues,
      perm: 6,
      topicFilterType: 'SINGLE_TAG',
      topicSysFlag: 0,
      order: false,
    };
  }
  const body = encodeRegisterBrokerBody(
    {
      topicConfigSerializeWrapper: { topicConfigTable, dataVersion: { timestamp: counter, counter } },
      filterServerList: [],
    },
    { compressed: false },
  );
  const answer = await client.invoke(
    RequestCode.REGISTER_BROKER,
    {
      brokerName: 'bench-broker',
      brokerAddr: '127.0.0.1:10911',
      clusterName: 'BenchCluster',
      haServerAddr: '127.0.0.1:10912',
      brokerId: '0',
      compressed: 'false',
      bodyCrc32: '0',
    },
    body,
  );
  if (answer.code !== ResponseCode.SUCCESS) throw new Error(`registration refused: ${answer.remark}`);
}

/** READERS connections, DEPTH requests outstanding on each, for PHASE_MS. */
async function measureReads(port: number, phase: string): Promise<PhaseResult> {
  const clients = await Promise.all(
    Array.from({ length: READERS }, () => RemotingClient.connect({ host: '127.0.0.1', port })),
  );
  const latencies: number[] = [];
  let errors = 0;
  const end = Date.now() + PHASE_MS;
  let topic = 0;
  const loop = async (client: RemotingClient) => {
    while (Date.now() < end) {
      const t0 = process.hrtime.bigint();
      try {
        const answer = await client.invoke(RequestCode.GET_ROUTEINFO_BY_TOPIC, {
          topic: `BenchTopic${topic++ % TOPICS}`,
        });
        if (answer.code !== ResponseCode.SUCCESS) errors++;
      } catch {
        errors++;
      }
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  };
  const measureStart = Date.now();
  await Promise.all(clients.flatMap((client) => Array.from({ length: DEPTH }, () => loop(client))));
  const elapsed = (Date.now() - measureStart) / 1000;
  await Promise.all(clients.map((c) => c.close()));
  const sorted = Float64Array.from(latencies).sort();
  return {
    phase,
    requests: latencies.length,
    errors,
    perSecond: latencies.length / elapsed,
    p50: sortedPercentile(sorted, 50) ?? 0,
    p99: sortedPercentile(sorted, 99) ?? 0,
    p999: sortedPercentile(sorted, 99.9) ?? 0,
    max: sorted.length > 0 ? sorted[sorted.length - 1]! : 0,
  };
}

function openIdle(port: number, count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  let next = 0;
  let failed = 0;
  // A few hundred connects at a time: the listen backlog is finite.
  const worker = async () => {
    while (next < count) {
      next++;
      await new Promise<void>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port });
        socket.once('connect', () => {
          sockets.push(socket);
          resolve();
        });
        socket.once('error', () => {
          failed++;
          resolve();
        });
      });
    }
  };
  return Promise.all(Array.from({ length: 200 }, worker)).then(() => {
    if (failed > 0) log(`  ${failed} idle connections failed to connect`);
    return sockets;
  });
}

function openGateway(httpPort: number, count: number): Promise<{ clients: WebSocket[]; pushes: () => number }> {
  const clients: WebSocket[] = [];
  let pushes = 0;
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await new Promise<void>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/ws?topics=BenchTopic${i % TOPICS}`, {
          perMessageDeflate: false,
        });
        ws.on('message', (data) => {
          if (wsMessageText(data).startsWith('{"type":"route"')) pushes++;
        });
        ws.once('open', () => {
          clients.push(ws);
          resolve();
        });
        ws.once('error', () => {
          failed++;
          resolve();
        });
      });
    }
  };
  return Promise.all(Array.from({ length: 50 }, worker)).then(() => {
    if (failed > 0) log(`  ${failed} gateway clients failed to connect`);
    return { clients, pushes: () => pushes };
  });
}

async function serverGauge(httpPort: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : Number.NaN;
}

function row(r: PhaseResult): string {
  return `${r.phase.padEnd(34)} ${r.perSecond.toFixed(0).padStart(8)} req/s  p50 ${r.p50.toFixed(2).padStart(6)} ms  p99 ${r.p99.toFixed(2).padStart(6)} ms  p99.9 ${r.p999.toFixed(2).padStart(6)} ms  max ${r.max.toFixed(1).padStart(6)} ms  errors ${r.errors}`;
}

function degraded(base: PhaseResult, loaded: PhaseResult): string[] {
  const reasons: string[] = [];
  if (loaded.errors > 0) reasons.push(`${loaded.errors} failed reads`);
  if (loaded.perSecond < base.perSecond * 0.8)
    reasons.push(`throughput ${((loaded.perSecond / base.perSecond) * 100).toFixed(0)} % of the baseline`);
  if (loaded.p99 > base.p99 * 2 + 1) reasons.push(`p99 ${loaded.p99.toFixed(2)} ms vs ${base.p99.toFixed(2)} ms`);
  return reasons;
}

async function main(): Promise<number> {
  const { soft, hard } = fdLimits();
  // Each connection is one descriptor here and one in the server (a separate process with the same limit).
  const room = Math.max(0, Math.min(soft, hard) - FD_HEADROOM - READERS);
  const wanted = WANT_IDLE + WANT_GATEWAY;
  const scale = wanted > room ? room / wanted : 1;
  const idleCount = Math.floor(WANT_IDLE * scale);
  const gatewayCount = Math.floor(WANT_GATEWAY * scale);
  log(
    `xnamesrv limits bench: ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}, ulimit -n ${soft} (hard ${hard})`,
  );
  if (scale < 1)
    log(
      `  the descriptor limit allows ${room} connections: scaled down to ${idleCount} idle + ${gatewayCount} gateway (raise with 'ulimit -n ${wanted + 2 * FD_HEADROOM}')`,
    );
  log(`  ${READERS} readers x ${DEPTH} outstanding requests, ${PHASE_MS / 1000} s per phase, ${TOPICS} topics`);

  const dataDir = mkdtempSync(join(tmpdir(), 'xnamesrv-bench-limits-'));
  const server = await startServer(dataDir, idleCount, gatewayCount);
  const watchdog = setTimeout(() => {
    log(`deadline of ${DEADLINE_MS / 1000} s passed: stopping`);
    server.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(2);
  }, DEADLINE_MS);
  watchdog.unref();

  let idle: Socket[] = [];
  let gateway: WebSocket[] = [];
  try {
    const broker = await RemotingClient.connect({ host: '127.0.0.1', port: server.port });
    await registerBroker(broker, 1);
    // Warm up (JIT, route cache), not measured.
    await measureReads(server.port, 'warm-up');
    const rssBase = rssOf(server.child.pid);

    const base = await measureReads(server.port, 'baseline (no other connections)');
    log(row(base));

    log(`opening ${idleCount} idle remoting connections and ${gatewayCount} gateway clients...`);
    idle = await openIdle(server.port, idleCount);
    const opened = await openGateway(server.httpPort, gatewayCount);
    gateway = opened.clients;
    const remoting = await serverGauge(server.httpPort, 'xnamesrv_remoting_connections');
    const wsClients = await serverGauge(server.httpPort, 'xnamesrv_gateway_clients');
    const rssLoaded = rssOf(server.child.pid);
    log(
      `  server holds ${remoting} remoting connections (broker included) and ${wsClients} gateway clients; RSS ${mib(rssBase)} -> ${mib(rssLoaded)} (${((rssLoaded - rssBase) / Math.max(1, idle.length + gateway.length) / 1024).toFixed(1)} KiB per connection)`,
    );

    const loaded = await measureReads(server.port, `with ${idle.length} idle + ${gateway.length} gateway`);
    log(row(loaded));

    // Route pushes to every gateway client (each watches one topic; a registration with a new DataVersion changes all).
    let counter = 2;
    const churn = setInterval(() => void registerBroker(broker, counter++).catch(() => undefined), 100);
    const pushesBefore = opened.pushes();
    const pushing = await measureReads(server.port, '... and a route push every 100 ms');
    clearInterval(churn);
    log(row(pushing));
    log(`  ${opened.pushes() - pushesBefore} route messages delivered to gateway clients during the phase`);

    const reasons = degraded(base, loaded);
    const pushReasons = degraded(base, pushing);
    log(
      `reads degrade with idle connections and gateway clients: ${reasons.length === 0 ? 'no' : `YES (${reasons.join('; ')})`}`,
    );
    log(
      `reads degrade while routes are pushed to every client: ${pushReasons.length === 0 ? 'no' : `YES (${pushReasons.join('; ')})`}`,
    );
    await broker.close();
    return 0;
  } finally {
    for (const ws of gateway) ws.terminate();
    for (const socket of idle) socket.destroy();
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));
    clearTimeout(watchdog);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`bench:limits failed: ${errorStack(err)}\n`);
    process.exitCode = 1;
  },
);

/**
 * The read load generator: GET_ROUTEINFO_BY_TOPIC over many connections with
 * pipelining, random topics, in a process of its own.
 *
 * closed loop: each connection keeps `window` requests outstanding (max throughput).
 * open loop:   requests are scheduled at a fixed rate whatever the answers do;
 *              latency counts from the scheduled send time (no coordinated omission).
 *
 * Responses on one connection come back in request order (both servers answer
 * synchronously), so each connection matches them FIFO and reads only length
 * words and the response code.
 */
import { connect, type Socket } from 'node:net';
import { Histogram, type HistogramSnapshot } from '../lib/hist.js';
import { jsonResponseCode, routeRequestFrame } from '../lib/frames.js';
import { cpuMeter, serveParent, sleep } from '../lib/rpc.js';
import { topicCount, topicName, type Topology } from '../lib/topology.js';

let frames: Buffer[] = [];
const cpu = cpuMeter();

class Fifo {
  private buf = new Float64Array(1024);
  private head = 0;
  private tail = 0;
  get size(): number {
    return this.tail - this.head;
  }
  push(v: number): void {
    if (this.tail - this.head === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      for (let i = 0; i < this.size; i++) next[i] = this.buf[(this.head + i) % this.buf.length]!;
      this.tail = this.size;
      this.head = 0;
      this.buf = next;
    }
    this.buf[this.tail++ % this.buf.length] = v;
  }
  shift(): number {
    return this.buf[this.head++ % this.buf.length]!;
  }
}

interface Conn {
  socket: Socket;
  pending: Buffer | undefined;
  sent: Fifo;
  /** Bytes just read (valid only during the call). */
  onBytes: (bytes: Buffer) => void;
}

/**
 * Each connection reads into one buffer of its own, reused for every read
 * (net's `onread`), instead of a fresh buffer per read: hundreds of MB/s of
 * answers would otherwise be allocated as external memory, and the GC pauses
 * that follow (mark-compacts, several ms) showed up as tail latency of
 * whichever server was being measured.
 */
const READ_BUFFER_BYTES = 256 * 1024;

interface RunArgs {
  port: number;
  connections: number;
  mode: 'closed' | 'open';
  /** closed loop: outstanding requests per connection */
  window?: number;
  /** open loop: requests per second over all connections */
  rate?: number;
  /** ignored at the start (not counted) */
  warmupMs?: number;
  /** measured; 0 = until `stop` */
  durationMs: number;
}

export interface RunResult {
  requests: number;
  durationMs: number;
  rps: number;
  latency: HistogramSnapshot;
  codes: Record<string, number>;
  bytesIn: number;
  responseBytesMean: number;
  clientCpu: number;
  /** Times the load generator went to sleep waiting for answers (voluntary context switches). */
  clientSleeps: number;
  /** open loop: requests that were due but not sent (connection backlog) */
  lateSends: number;
  sample?: number[];
  /** The slowest answers: [epoch ms when due, latency ms] */
  slowest: Array<[number, number]>;
}

let current: { stop: () => Promise<RunResult> } | undefined;

function pick(): Buffer {
  return frames[(Math.random() * frames.length) | 0]!;
}

async function openConnections(port: number, n: number): Promise<Conn[]> {
  const conns = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Conn>((resolve, reject) => {
          const conn: Conn = {
            socket: undefined as unknown as Socket,
            pending: undefined,
            sent: new Fifo(),
            onBytes: () => undefined,
          };
          const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
          const socket = connect({
            host: '127.0.0.1',
            port,
            noDelay: true,
            onread: {
              buffer: readBuffer,
              callback: (nread: number) => {
                conn.onBytes(readBuffer.subarray(0, nread));
                return true;
              },
            },
          });
          conn.socket = socket;
          socket.once('connect', () => resolve(conn));
          socket.once('error', reject);
        }),
    ),
  );
  for (const c of conns) c.socket.on('error', () => undefined);
  return conns;
}

async function start(args: RunArgs): Promise<{ stop: () => Promise<RunResult> }> {
  const conns = await openConnections(args.port, args.connections);
  const hist = new Histogram();
  const codes: Record<string, number> = {};
  let counting = false;
  let running = true;
  let completed = 0;
  let bytesIn = 0;
  let lateSends = 0;
  let sample: number[] | undefined;
  const slowest: Array<[number, number]> = [];
  let slowFloor = 0;
  const t0 = performance.now();
  let countFrom = t0;

  const onResponse = (conn: Conn, buf: Buffer, start: number, length: number, now: number): void => {
    const sentAt = conn.sent.shift();
    if (!counting) return;
    completed++;
    bytesIn += length;
    const ms = now - sentAt;
    hist.record(ms * 1000);
    if (ms > slowFloor) {
      slowest.push([performance.timeOrigin + sentAt, ms]);
      if (slowest.length > 40) {
        slowest.sort((a, b) => b[1] - a[1]);
        slowest.length = 20;
        slowFloor = slowest[19]![1];
      }
    }
    const code = jsonResponseCode(buf, start);
    codes[code] = (codes[code] ?? 0) + 1;
    if (sample === undefined && code === 0) sample = [...buf.subarray(start, start + length)];
  };

  const closed = args.mode === 'closed';
  for (const conn of conns) {
    conn.onBytes = (chunk: Buffer) => {
      const now = performance.now();
      let buf = chunk;
      if (conn.pending) {
        buf = Buffer.concat([conn.pending, chunk]);
        conn.pending = undefined;
      }
      let pos = 0;
      let n = 0;
      while (buf.length - pos >= 4) {
        const total = buf.readInt32BE(pos);
        if (buf.length - pos - 4 < total) break;
        onResponse(conn, buf, pos, total + 4, now);
        pos += 4 + total;
        n++;
      }
      // The read buffer is reused: a partial frame is copied out.
      if (pos < buf.length) conn.pending = Buffer.from(buf.subarray(pos));
      if (closed && running && n > 0) {
        const out: Buffer[] = new Array(n);
        const at = performance.now();
        for (let i = 0; i < n; i++) {
          out[i] = pick();
          conn.sent.push(at);
        }
        conn.socket.write(n === 1 ? out[0]! : Buffer.concat(out));
      }
    };
  }

  let timer: NodeJS.Timeout | undefined;
  if (closed) {
    const window = args.window ?? 8;
    for (const conn of conns) {
      const out: Buffer[] = [];
      const at = performance.now();
      for (let i = 0; i < window; i++) {
        out.push(pick());
        conn.sent.push(at);
      }
      conn.socket.write(Buffer.concat(out));
    }
  } else {
    const rate = args.rate!;
    let scheduled = 0;
    let rr = 0;
    const batches: Buffer[][] = conns.map(() => []);
    const tick = () => {
      if (!running) return;
      const now = performance.now();
      const due = Math.floor(((now - t0) * rate) / 1000);
      // Never more than 1 s of backlog in one tick (a stalled client would otherwise flood).
      let n = due - scheduled;
      if (n > rate) {
        lateSends += n - rate;
        scheduled += n - rate;
        n = rate;
      }
      for (let i = 0; i < n; i++) {
        const c = rr++ % conns.length;
        batches[c]!.push(pick());
        conns[c]!.sent.push(t0 + ((scheduled + i + 1) * 1000) / rate);
      }
      scheduled += n;
      for (let c = 0; c < conns.length; c++) {
        const b = batches[c]!;
        if (b.length === 0) continue;
        conns[c]!.socket.write(b.length === 1 ? b[0]! : Buffer.concat(b));
        b.length = 0;
      }
      timer = setTimeout(tick, 1);
    };
    tick();
  }

  const warmupMs = args.warmupMs ?? 0;
  const beginCounting = () => {
    counting = true;
    countFrom = performance.now();
    cpu.read();
  };
  let warmTimer: NodeJS.Timeout | undefined;
  if (warmupMs > 0) warmTimer = setTimeout(beginCounting, warmupMs);
  else beginCounting();

  return {
    async stop() {
      if (warmTimer) clearTimeout(warmTimer);
      const countTo = performance.now();
      const { cpu: clientCpu, sleeps: clientSleeps } = cpu.read();
      counting = false;
      running = false;
      if (timer) clearTimeout(timer);
      const durationMs = countTo - countFrom;
      for (const c of conns) c.socket.destroy();
      return {
        requests: completed,
        durationMs,
        rps: (completed * 1000) / durationMs,
        latency: hist.snapshot(),
        codes,
        bytesIn,
        responseBytesMean: completed ? bytesIn / completed : 0,
        clientCpu,
        clientSleeps,
        lateSends,
        sample,
        slowest: slowest.sort((a, b) => b[1] - a[1]).slice(0, 20),
      };
    },
  };
}

serveParent({
  /** Pre-encodes request frames for a random sample of the topology's topics. */
  setup(args: { topology: Topology; sample?: number; missingFraction?: number }) {
    const total = topicCount(args.topology);
    const n = Math.min(total, args.sample ?? 65_536);
    frames = [];
    let opaque = 1;
    for (let i = 0; i < n; i++) {
      const index = n === total ? i : Math.floor(Math.random() * total);
      frames.push(routeRequestFrame(topicName(args.topology, index), opaque++));
    }
    return { frames: frames.length, requestBytes: frames[0]!.length };
  },

  async run(args: RunArgs) {
    const run = await start(args);
    await sleep((args.warmupMs ?? 0) + args.durationMs);
    return run.stop();
  },

  async start(args: RunArgs) {
    if (current) throw new Error('a run is already going');
    current = await start({ ...args, durationMs: 0 });
    return null;
  },

  async stop() {
    if (!current) throw new Error('nothing running');
    const r = await current.stop();
    current = undefined;
    return r;
  },

  exit() {
    setImmediate(() => process.exit(0));
    return null;
  },
});

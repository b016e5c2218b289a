/**
 * Brokers: REGISTER_BROKER senders, in a process of their own. Keeps its
 * connections open until `exit` (a closed connection unregisters its brokers).
 */
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode } from '../../src/remoting/requestCode.js';
import { Histogram, summarize, type HistogramSnapshot } from '../lib/hist.js';
import { cpuMeter, serveParent } from '../lib/rpc.js';
import { brokers, registerRequest, type BrokerSpec, type RegisterRequest, type Topology } from '../lib/topology.js';

const REGISTER_TIMEOUT_MS = 120_000;
const clients: RemotingClient[] = [];
/** Broker index -> the connection it registered over. */
const brokerClient = new Map<number, RemotingClient>();
let specs: BrokerSpec[] = [];
let topology: Topology | undefined;
const cpu = cpuMeter();

async function connectMany(port: number, n: number): Promise<RemotingClient[]> {
  const out = await Promise.all(Array.from({ length: n }, () => RemotingClient.connect({ host: '127.0.0.1', port })));
  clients.push(...out);
  return out;
}

async function register(
  client: RemotingClient,
  req: RegisterRequest,
): Promise<{ ms: number; code: number; remark?: string | null }> {
  const t0 = performance.now();
  const response = await client.invoke(RequestCode.REGISTER_BROKER, req.extFields, req.body, REGISTER_TIMEOUT_MS);
  return { ms: performance.now() - t0, code: response.code, remark: response.remark };
}

interface RegisterAllArgs {
  port: number;
  topology: Topology;
  connections: number;
  /** registrations outstanding per connection */
  window: number;
  compressed?: boolean;
}

/** Bodies made before the clock starts (making them is the broker's work, not the server's). */
let prepared: RegisterRequest[] = [];

let reregLoop: { stop: () => Promise<unknown> } | undefined;
let heartbeats: { stop: () => Promise<unknown> } | undefined;
let cost: { bodies: RegisterRequest[]; changed: RegisterRequest; conns: RemotingClient[] } | undefined;

serveParent({
  prepare(args: { topology: Topology; compressed?: boolean }) {
    const t0 = performance.now();
    topology = args.topology;
    specs = brokers(args.topology);
    prepared = specs.map((b) => registerRequest(args.topology, b, { counter: 1_000_000, compressed: args.compressed }));
    const bytes = prepared.reduce((n, r) => n + r.body.length, 0);
    return { brokers: prepared.length, bodyBytesMean: bytes / prepared.length, ms: performance.now() - t0 };
  },

  /**
   * Registers every prepared broker as fast as `connections` connections with
   * `window` outstanding registrations each can send. Resolves when the last
   * answer is in.
   */
  async registerAll(args: RegisterAllArgs) {
    const conns = await connectMany(args.port, args.connections);
    const rtt = new Histogram();
    const codes: Record<string, number> = {};
    let next = 0;
    const t0 = performance.now();
    let firstDoneMs = 0;
    const worker = async (client: RemotingClient) => {
      while (next < prepared.length) {
        const i = next++;
        brokerClient.set(specs[i]!.index, client);
        const r = await register(client, prepared[i]!);
        rtt.record(r.ms * 1000);
        codes[r.code] = (codes[r.code] ?? 0) + 1;
        if (!firstDoneMs) firstDoneMs = performance.now() - t0;
      }
    };
    cpu.read();
    await Promise.all(conns.flatMap((c) => Array.from({ length: args.window }, () => worker(c))));
    const totalMs = performance.now() - t0;
    return {
      totalMs,
      firstDoneMs,
      registrations: prepared.length,
      codes,
      rtt: summarize(rtt),
      clientCpu: cpu.read().cpu,
    };
  },

  /**
   * Every broker re-registers on its own connection every `periodMs` (phases
   * spread evenly); each round a quarter (rotating) sends a changed
   * DataVersion with one topic changed, the rest send their last body again.
   */
  async startReregister(args: { periodMs: number; changedEvery: number }) {
    if (!topology) throw new Error('prepare first');
    const t = topology;
    const alt = specs.map((b) => registerRequest(t, b, { counter: 1_000_001, tweak: true }));
    const last = prepared.slice();
    const rtt = new Histogram();
    const counts = { changed: 0, unchanged: 0, failed: 0 };
    let round = 0;
    let running = true;
    const timers: NodeJS.Timeout[] = [];
    const inFlight = new Set<Promise<unknown>>();
    const fire = (i: number) => {
      if (!running) return;
      const changed = (i + round) % args.changedEvery === 0;
      let req = last[i]!;
      if (changed) {
        req = req === prepared[i] ? alt[i]! : prepared[i]!;
        last[i] = req;
      }
      const client = brokerClient.get(specs[i]!.index)!;
      const p = register(client, req).then(
        (r) => {
          rtt.record(r.ms * 1000);
          if (r.code !== 0) counts.failed++;
          else if (changed) counts.changed++;
          else counts.unchanged++;
        },
        () => counts.failed++,
      );
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    };
    const roundTimer = setInterval(() => round++, args.periodMs);
    timers.push(roundTimer);
    specs.forEach((_, i) => {
      const offset = (i * args.periodMs) / specs.length;
      timers.push(
        setTimeout(() => {
          fire(i);
          timers.push(setInterval(() => fire(i), args.periodMs));
        }, offset),
      );
    });
    reregLoop = {
      async stop() {
        running = false;
        for (const t of timers) {
          clearTimeout(t);
          clearInterval(t);
        }
        await Promise.allSettled([...inFlight]);
        return { ...counts, rtt: summarize(rtt) };
      },
    };
    return null;
  },

  async stopReregister() {
    const r = await reregLoop?.stop();
    reregLoop = undefined;
    return r;
  },

  /**
   * Figure 3, one broker at a time. costPrepare makes the bodies; costFirst
   * registers fresh brokers (all their topics new to the table); costUnchanged
   * and costChanged re-register the first of them.
   */
  async costPrepare(args: { port: number; topology: Topology; compressed: boolean; firsts: number }) {
    const t = args.topology;
    const list = brokers(t).slice(0, args.firsts);
    const bodies = list.map((b) => registerRequest(t, b, { counter: 1_000_000, compressed: args.compressed }));
    const changed = registerRequest(t, list[0]!, { counter: 1_000_001, compressed: args.compressed, tweak: true });
    const conns = await connectMany(args.port, list.length);
    cost = { bodies, changed, conns };
    let jsonParseMs = NaN;
    if (!args.compressed) {
      // Calibration, in this process and run: JSON.parse of the same body.
      const body = bodies[0]!.body;
      JSON.parse(body.toString('utf8'));
      const t0 = performance.now();
      for (let i = 0; i < 5; i++) JSON.parse(body.toString('utf8'));
      jsonParseMs = (performance.now() - t0) / 5;
    }
    return { bodyBytes: bodies[0]!.body.length, jsonParseMs };
  },

  async costFirst() {
    const c = cost!;
    const h = new Histogram();
    const codes: Record<string, number> = {};
    for (let i = 0; i < c.bodies.length; i++) {
      const r = await register(c.conns[i]!, c.bodies[i]!);
      h.record(r.ms * 1000);
      codes[r.code] = (codes[r.code] ?? 0) + 1;
    }
    return { ...summarize(h), codes };
  },

  async costUnchanged(args: { repeats: number }) {
    const c = cost!;
    await register(c.conns[0]!, c.bodies[0]!); // warm this path once
    const h = new Histogram();
    const codes: Record<string, number> = {};
    for (let i = 0; i < args.repeats; i++) {
      const r = await register(c.conns[0]!, c.bodies[0]!);
      h.record(r.ms * 1000);
      codes[r.code] = (codes[r.code] ?? 0) + 1;
    }
    return { ...summarize(h), codes };
  },

  async costChanged(args: { repeats: number }) {
    const c = cost!;
    const h = new Histogram();
    const codes: Record<string, number> = {};
    for (let i = 0; i < args.repeats; i++) {
      // alternating bodies: each one's DataVersion differs from the last
      const r = await register(c.conns[0]!, i % 2 === 0 ? c.changed : c.bodies[0]!);
      h.record(r.ms * 1000);
      codes[r.code] = (codes[r.code] ?? 0) + 1;
    }
    return { ...summarize(h), codes };
  },

  /**
   * Figure 7's transitions: BROKER_HEARTBEAT at `rate` per second, round
   * robin over the registered brokers, each on its own connection. Every one
   * refreshes its broker actor: one `registered -> registered` transition.
   */
  startHeartbeats(args: { rate: number }) {
    const list = specs.filter((b) => brokerClient.has(b.index));
    let sent = 0;
    let answered = 0;
    let failed = 0;
    const t0 = performance.now();
    let running = true;
    let rr = 0;
    let timer: NodeJS.Timeout | undefined;
    /** brokerKey -> epoch ms each heartbeat was sent, in order */
    const sentAt = new Map<string, number[]>();
    const tick = () => {
      if (!running) return;
      const due = Math.floor(((performance.now() - t0) * args.rate) / 1000);
      for (; sent < due; sent++) {
        const b = list[rr++ % list.length]!;
        const key = `${b.clusterName}|${b.brokerAddr}`;
        let times = sentAt.get(key);
        if (!times) sentAt.set(key, (times = []));
        times.push(performance.timeOrigin + performance.now());
        brokerClient
          .get(b.index)!
          .invoke(RequestCode.BROKER_HEARTBEAT, {
            clusterName: b.clusterName,
            brokerAddr: b.brokerAddr,
            brokerName: b.brokerName,
            brokerId: '0',
          })
          .then(
            (r) => (r.code === 0 ? answered++ : failed++),
            () => failed++,
          );
      }
      timer = setTimeout(tick, 1);
    };
    tick();
    heartbeats = {
      stop: async () => {
        running = false;
        if (timer) clearTimeout(timer);
        const seconds = (performance.now() - t0) / 1000;
        // Wait (bounded) for the answers still on their way.
        const waitFrom = performance.now();
        while (answered + failed < sent && performance.now() - waitFrom < 20_000)
          await new Promise((r) => setTimeout(r, 20));
        return {
          sent,
          answered,
          failed,
          rate: sent / seconds,
          drainMs: performance.now() - waitFrom,
          sentAt: Object.fromEntries(sentAt),
        };
      },
    };
    return null;
  },

  async stopHeartbeats() {
    const r = await heartbeats?.stop();
    heartbeats = undefined;
    return r;
  },

  async exit() {
    await reregLoop?.stop();
    setImmediate(() => process.exit(0));
    return null;
  },
});

export type { HistogramSnapshot };

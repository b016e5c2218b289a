/**
 * Figure 7's subscribers: WebSocket clients of the gateway (/ws), in a process
 * of their own. A full WebSocket client per connection would make this process
 * the bottleneck at 500 x 1,000 messages/s, so most connections are minimal:
 * they do the upgrade and then only drain bytes. `probes` of them also parse
 * frames and time each transition from its `at` (the server's clock at the
 * transition) to its arrival.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { Histogram } from '../lib/hist.js';
import { cpuMeter, serveParent } from '../lib/rpc.js';

interface Sub {
  socket: Socket;
  probe: boolean;
  bytes: number;
  messages: number;
  pending: Buffer | undefined;
  closed: boolean;
}

const subs: Sub[] = [];
const hist = new Histogram();
const cpu = cpuMeter();
let measuring = false;
let closedDuring = 0;

function upgrade(port: number, probe: boolean): Promise<Sub> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    const key = randomBytes(16).toString('base64');
    let head = Buffer.alloc(0);
    const sub: Sub = { socket, probe, bytes: 0, messages: 0, pending: undefined, closed: false };
    const onHead = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onHead);
      const status = head.toString('latin1', 0, head.indexOf('\r\n'));
      if (!status.includes(' 101 ')) {
        reject(new Error(`upgrade refused: ${status}`));
        socket.destroy();
        return;
      }
      socket.on('data', (data: Buffer) => received(sub, data));
      const rest = head.subarray(end + 4);
      if (rest.length > 0) received(sub, rest);
      resolve(sub);
    };
    socket.on('data', onHead);
    socket.on('error', (err) => reject(err));
    socket.on('close', () => {
      if (!sub.closed && measuring) closedDuring++;
      sub.closed = true;
    });
    socket.once('connect', () =>
      socket.write(
        `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
  });
}

const AT = Buffer.from('"at":');
const ACTOR = Buffer.from('"actorId":"');
const HEARTBEAT_EVENT = Buffer.from('"event":"HEARTBEAT"');
const BROKER_MACHINE = Buffer.from('"machine":"broker"');
/** Message kinds seen by probes. */
const kinds = { brokerHeartbeat: 0, brokerOther: 0, other: 0 };
/** Probe 0's arrival times (epoch ms, sub-ms) of each broker's HEARTBEAT transitions, in order. */
const arrivals = new Map<string, number[]>();

function within(buf: Buffer, needle: Buffer, start: number, end: number): number {
  const i = buf.indexOf(needle, start);
  return i >= 0 && i + needle.length <= end ? i : -1;
}

function received(sub: Sub, data: Buffer): void {
  sub.bytes += data.length;
  if (!sub.probe) return;
  const buf = sub.pending ? Buffer.concat([sub.pending, data]) : data;
  sub.pending = undefined;
  const now = Date.now();
  let pos = 0;
  // Server frames are unmasked: FIN/opcode byte, 7-bit length (126: 16-bit, 127: 64-bit), payload.
  while (buf.length - pos >= 2) {
    let len = buf[pos + 1]! & 0x7f;
    let headerLength = 2;
    if (len === 126) {
      if (buf.length - pos < 4) break;
      len = buf.readUInt16BE(pos + 2);
      headerLength = 4;
    } else if (len === 127) {
      if (buf.length - pos < 10) break;
      len = Number(buf.readBigUInt64BE(pos + 2));
      headerLength = 10;
    }
    if (buf.length - pos < headerLength + len) break;
    const start = pos + headerLength;
    const opcode = buf[pos]! & 0x0f;
    if (opcode === 1 && measuring) {
      sub.messages++;
      const end = start + len;
      if (within(buf, BROKER_MACHINE, start, end) < 0) kinds.other++;
      else if (within(buf, HEARTBEAT_EVENT, start, end) < 0) kinds.brokerOther++;
      else {
        kinds.brokerHeartbeat++;
        if (sub === subs[0]) {
          const a = within(buf, ACTOR, start, end);
          if (a >= 0) {
            const from = a + ACTOR.length;
            const to = buf.indexOf(0x22, from);
            const actor = buf.toString('latin1', from, to);
            let list = arrivals.get(actor);
            if (!list) arrivals.set(actor, (list = []));
            list.push(performance.timeOrigin + performance.now());
          }
        }
      }
      const at = buf.indexOf(AT, start);
      if (at >= 0 && at < start + len) {
        let t = 0;
        for (let i = at + AT.length; i < start + len; i++) {
          const c = buf[i]!;
          if (c < 48 || c > 57) break;
          t = t * 10 + (c - 48);
        }
        if (t > 0) hist.record((now - t) * 1000);
      }
    }
    pos = start + len;
  }
  if (pos < buf.length) sub.pending = buf.subarray(pos);
}

serveParent({
  async connect(args: { port: number; count: number; probes: number }) {
    for (let i = 0; i < args.count; i += 50) {
      const batch = [];
      for (let j = i; j < Math.min(args.count, i + 50); j++) batch.push(upgrade(args.port, j < args.probes));
      subs.push(...(await Promise.all(batch)));
    }
    return { connected: subs.length };
  },
  start() {
    hist.reset();
    closedDuring = 0;
    arrivals.clear();
    kinds.brokerHeartbeat = 0;
    kinds.brokerOther = 0;
    kinds.other = 0;
    for (const s of subs) {
      s.bytes = 0;
      s.messages = 0;
    }
    measuring = true;
    cpu.read();
    return null;
  },
  stop() {
    measuring = false;
    const c = cpu.read();
    const probes = subs.filter((s) => s.probe);
    const bytes = subs.reduce((n, s) => n + s.bytes, 0);
    return {
      subscribers: subs.length,
      open: subs.filter((s) => !s.closed).length,
      closedDuring,
      probeMessages: probes.reduce((n, s) => n + s.messages, 0) / Math.max(1, probes.length),
      bytes,
      latency: hist.snapshot(),
      clientCpu: c.cpu,
      wallMs: c.wallMs,
      kinds: { ...kinds },
      arrivals: Object.fromEntries(arrivals),
    };
  },
  exit() {
    for (const s of subs) s.socket.destroy();
    setImmediate(() => process.exit(0));
    return null;
  },
});

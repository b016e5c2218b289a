/**
 * The framing ceiling: a raw TCP server that answers every remoting frame with
 * the same pre-built response frame (same size as a real route answer). It
 * splits frames by their length word and does nothing else: no header decode,
 * no lookup, one write per read. What a Node process can do at best with this
 * protocol on this machine.
 */
import { createServer, type Socket } from 'node:net';
import { cpuMeter, serveParent } from '../lib/rpc.js';
import { countSocketWrites } from '../lib/writes.js';

const cpu = cpuMeter();
// How many socket writes (and bytes) each phase made: answers per write.
const socketWrites = countSocketWrites();
let response = Buffer.alloc(0);
/** Many copies of `response` back to back: a batch answer is one subarray of it, no copy. */
let responses = Buffer.alloc(0);
const MAX_BATCH = 4096;

function handle(socket: Socket): void {
  socket.setNoDelay(true);
  let pending: Buffer | undefined;
  socket.on('data', (chunk: Buffer) => {
    let buf = chunk;
    if (pending) {
      buf = Buffer.concat([pending, chunk]);
      pending = undefined;
    }
    let pos = 0;
    let frames = 0;
    while (buf.length - pos >= 4) {
      const total = buf.readInt32BE(pos);
      if (buf.length - pos - 4 < total) break;
      pos += 4 + total;
      frames++;
    }
    if (pos < buf.length) pending = buf.subarray(pos);
    while (frames > 0) {
      const n = Math.min(frames, MAX_BATCH);
      socket.write(responses.subarray(0, n * response.length));
      frames -= n;
    }
  });
  socket.on('error', () => undefined);
}

const server = createServer({ noDelay: true }, handle);

serveParent({
  start(args: { response: number[] }) {
    response = Buffer.from(args.response);
    responses = Buffer.alloc(response.length * MAX_BATCH);
    for (let i = 0; i < MAX_BATCH; i++) response.copy(responses, i * response.length);
    return new Promise((resolve) => {
      server.listen({ host: '127.0.0.1', port: 0 }, () => {
        cpu.read();
        resolve({ port: (server.address() as { port: number }).port });
      });
    });
  },
  phase() {
    const c = cpu.read();
    return { cpu: c.cpu, wallMs: c.wallMs, sleeps: c.sleeps, loopMaxMs: 0, loopP99Ms: 0, ...socketWrites.take() };
  },
  exit() {
    setImmediate(() => process.exit(0));
    return null;
  },
});

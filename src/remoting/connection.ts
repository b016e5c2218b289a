import type { Socket } from 'node:net';
import { prepareFrame, writePreparedFrame, type PreparedFrame } from '../protocol/frameCodec.js';
import type { RemotingCommand } from './command.js';
import { FrameDecoder } from './frameDecoder.js';
import { unmappedIp } from '../observe/limits.js';
import type { RemotingConnection } from './server.js';

/**
 * One accepted connection's side of the remoting server: its frame decoder,
 * its queue of answers and the buffers they are written from. The server
 * (server.ts) accepts, dispatches and closes; this file only moves bytes.
 */

const OUTPUT_SLAB_BYTES = 64 * 1024;
const OUTPUT_SLAB_MAX_ALLOCATION = 16 * 1024;

function fillFrames(out: Buffer, frames: PreparedFrame[]): void {
  let offset = 0;
  for (const frame of frames) offset = writePreparedFrame(frame, out, offset);
}

/**
 * Buffers for outgoing frames.
 *
 * A write the kernel takes whole, synchronously, leaves its buffer free the
 * moment socket.write() returns: those go through one reused scratch buffer.
 * Fresh memory for every answer batch (hundreds of MB/s under read load) is
 * external memory to V8, and it answers that with a mark-compact every
 * 100 ms. Writes that must wait (the peer is not reading) keep their buffer,
 * so the scratch is handed over and replaced. Other frames are carved out of
 * 64 KiB slabs: one ArrayBuffer per slab, freed by the GC once the writes
 * that use it have completed. Larger frames get their own.
 */
export class OutputBuffers {
  private scratch: Buffer = Buffer.allocUnsafeSlow(OUTPUT_SLAB_BYTES);
  private slab: Buffer | undefined;
  private used = 0;

  /** Writes `frames`, `bytes` long together, to `socket` in one write. */
  write(socket: Socket, frames: PreparedFrame[], bytes: number): void {
    if (bytes <= this.scratch.length && socket.writableLength === 0) {
      const out = this.scratch.subarray(0, bytes);
      fillFrames(out, frames);
      socket.write(out);
      // Queued, not written: the socket holds on to the buffer until the write completes.
      if (socket.writableLength !== 0) this.scratch = Buffer.allocUnsafeSlow(OUTPUT_SLAB_BYTES);
      return;
    }
    const out = this.allocate(bytes);
    fillFrames(out, frames);
    socket.write(out);
  }

  private allocate(size: number): Buffer {
    if (size > OUTPUT_SLAB_MAX_ALLOCATION) return Buffer.allocUnsafe(size);
    if (this.slab === undefined || this.used + size > OUTPUT_SLAB_BYTES) {
      this.slab = Buffer.allocUnsafeSlow(OUTPUT_SLAB_BYTES);
      this.used = 0;
    }
    const out = this.slab.subarray(this.used, this.used + size);
    this.used += (size + 7) & ~7;
    return out;
  }
}

export class Connection implements RemotingConnection {
  readonly decoder: FrameDecoder;
  closed = false;
  /**
   * Until the first bytes said TLS or plain (servers with a TlsAcceptor),
   * answers wait: a TLS peer must not get plaintext.
   */
  awaitingProtocol = false;
  /** This connection's share of the server's buffered partial-frame bytes. */
  buffered = 0;
  /**
   * Answers wait here until the event loop has worked through every socket
   * that was readable this turn, then leave in one buffer and one write (see
   * RemotingServer.flushConnections).
   */
  private pending: PreparedFrame[] = [];
  private pendingBytes = 0;

  constructor(
    readonly id: number,
    readonly remoteAddress: string,
    /** The TCP socket, replaced by its TLS socket once a TLS handshake succeeded. */
    public socket: Socket,
    maxFrameLength: number,
    private readonly output: OutputBuffers,
    private readonly scheduleFlush: (conn: Connection) => void,
  ) {
    this.decoder = new FrameDecoder(maxFrameLength);
  }

  send(command: RemotingCommand): boolean {
    if (this.closed || this.socket.destroyed) return false;
    this.write(prepareFrame(command));
    return true;
  }

  /** Queues a frame behind what this connection already sent. */
  write(frame: PreparedFrame): void {
    if (this.pending.length === 0) this.scheduleFlush(this);
    this.pending.push(frame);
    this.pendingBytes += frame.length;
  }

  /** Writes the queued frames, in order, as one buffer. */
  flush(): void {
    const frames = this.pending;
    if (frames.length === 0 || this.awaitingProtocol) return;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    if (this.socket.destroyed) return;
    this.output.write(this.socket, frames, bytes);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    this.socket.destroySoon();
  }

  /** The first bytes said what the peer speaks: what waited for that may leave now. */
  protocolSettled(): void {
    this.awaitingProtocol = false;
    if (this.pending.length > 0) this.scheduleFlush(this);
  }

  /** Drops the connection now, unsent data included. */
  abort(): void {
    this.closed = true;
    this.pending = [];
    this.pendingBytes = 0;
    this.socket.destroy();
  }
}

export function formatAddress(ip: string | undefined, port: number | undefined): string {
  if (ip === undefined) return 'unknown';
  // IPv4 peers of a dual-stack listener show up IPv4-mapped.
  return `${unmappedIp(ip)}:${port ?? 0}`;
}

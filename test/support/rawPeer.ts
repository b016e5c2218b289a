import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { encodeCommand } from '../../src/protocol/frameCodec.js';
import type { RemotingCommand } from '../../src/remoting/command.js';
import { FrameDecoder } from '../../src/remoting/frameDecoder.js';
import { WAIT_MS } from './wait.js';

/**
 * A bare TCP peer for what a well-behaved client cannot do: raw bytes out,
 * decoded frames in, and whether the server closed the connection.
 */
export class RawPeer {
  readonly frames: RemotingCommand[] = [];
  /** Resolves when the socket is closed, by either side. */
  readonly closed: Promise<void>;
  /** True once the server ended or reset the connection without us ending it first. */
  closedByServer = false;
  private endedByUs = false;
  private readonly decoder = new FrameDecoder(64 * 1024 * 1024);
  private waiters: Array<() => void> = [];
  /** How many frames next() has handed out. */
  private taken = 0;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      const result = this.decoder.push(chunk);
      this.frames.push(...result.frames);
      this.wake();
    });
    socket.on('end', () => {
      if (!this.endedByUs) this.closedByServer = true;
    });
    socket.on('error', () => {
      if (!this.endedByUs) this.closedByServer = true;
    });
    this.closed = once(socket, 'close').then(() => {
      if (!this.endedByUs) this.closedByServer = true;
      this.wake();
    });
  }

  static open(port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, noDelay: true });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawPeer(socket));
      });
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.readyState === 'closed';
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Encodes the commands and writes them in one chunk. */
  send(...commands: RemotingCommand[]): void {
    this.socket.write(Buffer.concat(commands.map(encodeCommand)));
  }

  /** The first frame next() has not handed out yet, once it arrived. */
  async next(timeoutMs = WAIT_MS): Promise<RemotingCommand> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.frames[this.taken];
      if (frame !== undefined) {
        this.taken++;
        return frame;
      }
      if (this.isClosed) throw new Error(`the connection closed before frame ${this.taken + 1}`);
      await this.changed(deadline, `frame ${this.taken + 1}`);
    }
  }

  /** Half-closes our side; the server then closes its side. */
  end(): void {
    this.endedByUs = true;
    this.socket.end();
  }

  destroy(): void {
    this.endedByUs = true;
    this.socket.destroy();
  }

  /** Resolves once `count` frames arrived or the connection closed, whichever is first. */
  async waitForFrames(count: number, timeoutMs = WAIT_MS): Promise<RemotingCommand[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < count && !this.isClosed) {
      await this.changed(deadline, `${count} frames (have ${this.frames.length})`);
    }
    return this.frames;
  }

  /** Resolves once the connection is closed. */
  async waitForClose(timeoutMs = WAIT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out waiting for the connection to close')), timeoutMs);
    });
    try {
      await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private changed(deadline: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${what}`)),
        Math.max(0, deadline - Date.now()),
      );
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

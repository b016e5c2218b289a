import WebSocket from 'ws';
import type { Logger } from '../logging.js';
import { errorWithCode } from '../util/errorMessage.js';

export interface InspectorSocketOptions {
  logger: Logger;
  /** A target that accepts TCP but never upgrades counts as unreachable after this long. */
  handshakeTimeoutMs?: number;
  /** Messages kept while disconnected; the oldest go first. */
  maxQueued?: number;
  /** Past this many bytes waiting in the socket, messages are dropped rather than buffered. */
  maxBufferedBytes?: number;
  /** Waits between reconnection attempts; the last one repeats. */
  retryDelaysMs?: readonly number[];
}

const DEFAULTS = {
  handshakeTimeoutMs: 3000,
  maxQueued: 500,
  maxBufferedBytes: 4 * 1024 * 1024,
  retryDelaysMs: [1000, 2000, 5000, 10_000, 30_000],
};

/** A connection that stays up this long earns a fresh backoff when it drops. */
const STABLE_CONNECTION_MS = 10_000;
/** How long a closing socket may wait for the inspector's close frame before it is cut. */
const CLOSE_GRACE_MS = 1000;

/**
 * Sends text messages to an inspector at a WebSocket URL without ever
 * holding up the sender or the process: messages queue (bounded) while
 * disconnected, reconnection runs on unref'd timers, and stop() ends every
 * socket and timer. The first failure is logged once as a warning; the
 * inspector is optional, so later ones stay at debug level.
 *
 * (@statelyai/inspect's own WebSocket adapter retries every 5 s on a timer
 * that stop() does not cancel, which kept a stopped name server alive.)
 */
export class InspectorSocket {
  private readonly logger: Logger;
  private readonly settings: Required<Omit<InspectorSocketOptions, 'logger'>>;
  private socket: WebSocket | undefined;
  private readonly queue: string[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private warned = false;
  private stopped = false;
  /** Messages given up on: queue overflow while disconnected, or a receiver too slow to keep up. */
  dropped = 0;

  constructor(
    readonly url: string,
    options: InspectorSocketOptions,
  ) {
    this.logger = options.logger;
    this.settings = {
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs,
      maxQueued: options.maxQueued ?? DEFAULTS.maxQueued,
      maxBufferedBytes: options.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes,
      retryDelaysMs: options.retryDelaysMs ?? DEFAULTS.retryDelaysMs,
    };
    this.connect();
  }

  get connected(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Messages waiting for a connection. */
  get queued(): number {
    return this.queue.length;
  }

  send(text: string): void {
    if (this.stopped) return;
    const socket = this.socket;
    if (socket && socket.readyState === WebSocket.OPEN && this.queue.length === 0) {
      this.write(socket, text);
      return;
    }
    this.queue.push(text);
    if (this.queue.length > this.settings.maxQueued) {
      this.queue.shift();
      this.dropped++;
    }
  }

  /** Sends what is queued when connected, then closes; nothing of it outlives CLOSE_GRACE_MS. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return;
    if (socket.readyState !== WebSocket.OPEN) {
      socket.terminate();
      return;
    }
    this.flush(socket);
    socket.close(1001, 'name server stopping');
    const cut = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS);
    cut.unref();
    socket.once('close', () => clearTimeout(cut));
  }

  private connect(): void {
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.url, {
        handshakeTimeout: this.settings.handshakeTimeoutMs,
        perMessageDeflate: false,
      });
    } catch (err) {
      // A URL the ws client rejects outright: retrying will not help.
      this.warnOnce(errorWithCode(err), false);
      return;
    }
    this.socket = socket;
    let openedAt: number | undefined;
    let lastError: unknown;
    socket.on('open', () => {
      if (this.stopped) return;
      openedAt = Date.now();
      this.logger.info({ inspectUrl: this.url }, `inspector connected: ${this.url}`);
      this.flush(socket);
    });
    // ws emits 'close' after every 'error'; the reason is reported there.
    socket.on('error', (err) => {
      lastError = err;
    });
    socket.on('close', (code) => {
      if (this.socket !== socket || this.stopped) return;
      this.socket = undefined;
      const reason = lastError !== undefined ? errorWithCode(lastError) : `connection closed (code ${code})`;
      if (openedAt !== undefined && Date.now() - openedAt >= STABLE_CONNECTION_MS) this.failures = 0;
      this.warnOnce(openedAt !== undefined ? `dropped: ${reason}` : reason, true);
      this.scheduleRetry();
    });
  }

  private flush(socket: WebSocket): void {
    for (const text of this.queue.splice(0)) this.write(socket, text);
  }

  private write(socket: WebSocket, text: string): void {
    if (socket.bufferedAmount > this.settings.maxBufferedBytes) {
      this.dropped++;
      return;
    }
    try {
      socket.send(text);
    } catch {
      // Only thrown for a socket that is not open; the close handler deals with that.
      this.dropped++;
    }
  }

  private scheduleRetry(): void {
    const delays = this.settings.retryDelaysMs;
    const delay = delays[Math.min(this.failures, delays.length - 1)]!;
    this.failures++;
    this.retryTimer = setTimeout(() => {
      if (!this.stopped) this.connect();
    }, delay);
    // An inspector must never be the reason the process stays up.
    this.retryTimer.unref();
  }

  private warnOnce(reason: string, retrying: boolean): void {
    if (this.warned) {
      this.logger.debug({ inspectUrl: this.url, reason }, 'inspector still unreachable');
      return;
    }
    this.warned = true;
    const then = retrying
      ? `keeps serving; the latest ${this.settings.maxQueued} inspection events wait while it retries in the background`
      : 'keeps serving without inspection';
    this.logger.warn(
      { inspectUrl: this.url, reason },
      `inspector ${this.url} unreachable (${reason}): the name server ${then}`,
    );
  }
}

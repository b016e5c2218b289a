import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { peerOf, type LimitEvents } from '../observe/limits.js';
import type { TlsAcceptor } from '../tls/tlsAcceptor.js';
import { prepareFrame, type PreparedFrame } from '../protocol/frameCodec.js';
import { Connection, formatAddress, OutputBuffers } from './connection.js';
import { createResponse, isOneway, isResponse, RESPONSE_FLAG, type RemotingCommand } from './command.js';
import { DEFAULT_MAX_FRAME_LENGTH } from './frameDecoder.js';
import { requestCodeName, ResponseCode } from './requestCode.js';
import { errorWithClass } from '../util/errorMessage.js';
import { truncate } from '../util/truncate.js';

/** The peer end of one accepted TCP connection. */
export interface RemotingConnection {
  /** Unique among the connections of one server. */
  readonly id: number;
  /** "ip:port" of the peer. */
  readonly remoteAddress: string;
  readonly closed: boolean;
  /** Writes a command; false when the connection is already closed. */
  send(command: RemotingCommand): boolean;
  /** Closes after what was already sent is flushed. */
  close(): void;
}

/**
 * Answers one request. Returning undefined sends nothing. A synchronous
 * handler is answered in the same tick as the request arrived.
 */
export type RequestHandler = (
  request: RemotingCommand,
  conn: RemotingConnection,
) => RemotingCommand | undefined | Promise<RemotingCommand | undefined>;

export interface RemotingServerOptions {
  host?: string;
  /** 0 picks an ephemeral port. */
  port: number;
  maxFrameLength?: number;
  /** A connection with no traffic either way for this long is closed; 0 turns this off. */
  idleTimeoutMs?: number;
  logger: Logger;
  /** Called once per request handled (responses and oneways included); responseCode is undefined when nothing was answered. */
  onRequestDone?: (code: number, responseCode: number | undefined, durationSeconds: number) => void;
  /** Connections open at once; one over it is closed as soon as it is accepted. Default: no limit. */
  maxConnections?: number;
  /**
   * Bytes of partly received frames held across all connections; the
   * connection whose read takes the total past it is closed. Default: no limit
   * (each connection still holds at most maxFrameLength).
   */
  maxBufferedBytes?: number;
  /** Where refusals by the limits above and by maxFrameLength are counted and logged (once per peer). */
  limits?: LimitEvents;
  /** Called once per connection closed for a protocol error (maxFrameLength included). */
  onProtocolError?: (reason: string) => void;
  /**
   * TLS per tls.server.mode: each connection's first bytes say whether it
   * speaks TLS or plain, once, before its first frame. Without it every
   * connection is plain and nothing is looked at.
   */
  tls?: TlsAcceptor;
}

export interface ListenAddress {
  host: string;
  port: number;
}

type ConnectionListener = (conn: RemotingConnection) => void;

const DEFAULT_HOST = '0.0.0.0';
const DEFAULT_IDLE_TIMEOUT_MS = 120_000;
/** How long close() lets a connection flush its last writes before dropping it. */
const CLOSE_FLUSH_GRACE_MS = 3_000;
/** Request codes below this are dispatched through an array (no hash lookup on the read path). */
const DIRECT_HANDLER_CODES = 4096;

/**
 * The name server's TCP endpoint: frames requests off each connection and
 * dispatches them by request code. Holds no module-level state, so several
 * servers can run in one process.
 */
export class RemotingServer {
  private readonly host: string;
  private readonly port: number;
  private readonly maxFrameLength: number;
  private readonly idleTimeoutMs: number;
  private readonly logger: Logger;
  private readonly onRequestDone: RemotingServerOptions['onRequestDone'];
  private readonly onProtocolError: RemotingServerOptions['onProtocolError'];
  private readonly limits: LimitEvents | undefined;
  private readonly tls: TlsAcceptor | undefined;
  private readonly maxBufferedBytes: number;
  /** Partial-frame bytes held by every open connection together. */
  private bufferedTotal = 0;
  /** Handlers of request codes 0..4095 (all of RocketMQ's) by index; others in `otherHandlers`. */
  private readonly handlers: Array<RequestHandler | undefined> = [];
  private readonly otherHandlers = new Map<number, RequestHandler>();
  private readonly output = new OutputBuffers();
  private readonly open = new Set<Connection>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly openedListeners = new Set<ConnectionListener>();
  private readonly closedListeners = new Set<ConnectionListener>();
  private readonly server: Server;
  private nextConnectionId = 1;
  private listening = false;
  private closing: Promise<void> | undefined;
  /** Connections with answers not yet written, in the order they got their first. */
  private unflushed: Connection[] = [];
  private flushScheduled = false;
  private readonly scheduleFlush = (conn: Connection): void => {
    this.unflushed.push(conn);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flushConnections);
  };
  /**
   * Runs once per event-loop turn, after the poll phase has delivered every
   * readable socket: each connection's answers of this turn leave in one
   * write. Writing during the reads instead (one write per read) costs more
   * than the answers themselves when the peer is local: every write wakes a
   * reader that has gone back to sleep. This way the first write wakes it and
   * it finds the rest ready.
   */
  private readonly flushConnections = (): void => {
    this.flushScheduled = false;
    const conns = this.unflushed;
    this.unflushed = [];
    for (const conn of conns) {
      try {
        conn.flush();
      } catch (err) {
        this.logger.error({ err, connectionId: conn.id }, 'writing answers failed');
      }
      // A peer that sends faster than it reads its answers is not read from until it catches up.
      if (conn.socket.writableNeedDrain && !this.closing && !conn.closed) conn.socket.pause();
    }
  };

  constructor(options: RemotingServerOptions) {
    this.host = options.host ?? DEFAULT_HOST;
    this.port = options.port;
    this.maxFrameLength = options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.logger = options.logger;
    this.onRequestDone = options.onRequestDone;
    this.onProtocolError = options.onProtocolError;
    this.limits = options.limits;
    this.tls = options.tls;
    this.maxBufferedBytes = options.maxBufferedBytes ?? Number.POSITIVE_INFINITY;
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    if (options.maxConnections !== undefined) {
      const limit = options.maxConnections;
      // Node closes a connection over maxConnections right after accepting it, and says so here.
      this.server.maxConnections = limit;
      this.server.on('drop', (data) => {
        this.limits?.hit({
          limit: 'remotingMaxConnections',
          offender: data?.remoteAddress ?? 'unknown',
          value: limit,
          action: 'remoting connection closed on accept',
          detail: { client: data?.remoteAddress, clientPort: data?.remotePort },
        });
      });
    }
    // Errors after listen() settled (listen errors are handled there) must not crash the process.
    this.server.on('error', (err) => {
      if (this.listening) this.logger.error({ err }, 'remoting server error');
    });
  }

  register(code: number, handler: RequestHandler): void {
    if (Number.isInteger(code) && code >= 0 && code < DIRECT_HANDLER_CODES) {
      while (this.handlers.length <= code) this.handlers.push(undefined);
      this.handlers[code] = handler;
    } else {
      this.otherHandlers.set(code, handler);
    }
  }

  listen(): Promise<ListenAddress> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        this.server.off('listening', onListening);
        reject(err);
      };
      const onListening = () => {
        this.server.off('error', onError);
        if (this.closing) {
          // close() ran while the bind was in progress and found nothing to close.
          this.server.close();
          reject(new Error('remoting server was closed while it was starting to listen'));
          return;
        }
        this.listening = true;
        resolve(this.address()!);
      };
      this.server.once('error', onError);
      this.server.once('listening', onListening);
      this.server.listen({ host: this.host, port: this.port });
    });
  }

  /** The bound address, or undefined when not listening. */
  address(): ListenAddress | undefined {
    const address = this.server.address();
    if (address === null || typeof address === 'string') return undefined;
    return { host: address.address, port: address.port };
  }

  connections(): number {
    return this.open.size;
  }

  /** Bytes of partly received frames held, all connections together. */
  bufferedBytes(): number {
    return this.bufferedTotal;
  }

  /** Returns a function that removes the listener. */
  onConnectionOpened(listener: ConnectionListener): () => void {
    this.openedListeners.add(listener);
    return () => this.openedListeners.delete(listener);
  }

  /** Called once per connection, whoever closed it. Returns a function that removes the listener. */
  onConnectionClosed(listener: ConnectionListener): () => void {
    this.closedListeners.add(listener);
    return () => this.closedListeners.delete(listener);
  }

  /**
   * Stops accepting and reading, lets in-flight asynchronous handlers answer,
   * then closes every connection once its answers are flushed. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    const serverClosed = this.listening
      ? new Promise<void>((resolve) => this.server.close(() => resolve()))
      : Promise.resolve();
    this.listening = false;
    for (const conn of this.open) conn.socket.pause();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await Promise.all([...this.open].map((conn) => this.closeGracefully(conn)));
    await serverClosed;
  }

  private closeGracefully(conn: Connection): Promise<void> {
    return new Promise((resolve) => {
      if (conn.socket.destroyed) return resolve();
      // A peer that stops reading would keep the flush (and close()) pending forever.
      const force = setTimeout(() => conn.abort(), CLOSE_FLUSH_GRACE_MS);
      conn.socket.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      conn.close();
    });
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const conn = new Connection(
      this.nextConnectionId++,
      formatAddress(socket.remoteAddress, socket.remotePort),
      socket,
      this.maxFrameLength,
      this.output,
      this.scheduleFlush,
    );
    this.open.add(conn);
    this.logger.debug({ connectionId: conn.id, remoteAddress: conn.remoteAddress }, 'connection opened');

    this.watch(conn, socket);
    const tls = this.tls;
    if (tls === undefined) {
      socket.on('data', (chunk: Buffer) => this.received(conn, chunk));
    } else {
      conn.awaitingProtocol = true;
      // Once per connection: the frames that follow go straight to received().
      socket.once('data', (first: Buffer) =>
        tls.route(socket, first, {
          plain: (chunk) => {
            socket.on('data', (next: Buffer) => this.received(conn, next));
            conn.protocolSettled();
            this.received(conn, chunk);
          },
          secure: (secured) => {
            if (conn.closed) {
              secured.destroy();
              return;
            }
            conn.socket = secured;
            this.watch(conn, secured);
            secured.on('data', (next: Buffer) => this.received(conn, next));
            conn.protocolSettled();
          },
        }),
      );
    }
    // The TCP socket closes whoever ends the connection, its TLS socket included.
    socket.on('close', () => {
      conn.closed = true;
      this.bufferedTotal -= conn.buffered;
      conn.buffered = 0;
      this.open.delete(conn);
      this.logger.debug({ connectionId: conn.id, remoteAddress: conn.remoteAddress }, 'connection closed');
      this.emit(this.closedListeners, conn);
    });
    this.emit(this.openedListeners, conn);
  }

  /** Idle timeout, back-pressure and error logging on the socket a connection reads from. */
  private watch(conn: Connection, socket: Socket): void {
    if (this.idleTimeoutMs > 0) {
      socket.setTimeout(this.idleTimeoutMs, () => {
        this.logger.info(
          { connectionId: conn.id, remoteAddress: conn.remoteAddress, idleTimeoutMs: this.idleTimeoutMs },
          `closing idle connection ${conn.remoteAddress}`,
        );
        conn.abort();
      });
    }
    socket.on('drain', () => {
      if (!this.closing && !conn.closed) socket.resume();
    });
    socket.on('error', (err) => {
      this.logger.debug({ err, connectionId: conn.id, remoteAddress: conn.remoteAddress }, 'connection error');
    });
  }

  private emit(listeners: Set<ConnectionListener>, conn: Connection): void {
    for (const listener of listeners) {
      try {
        listener(conn);
      } catch (err) {
        this.logger.error({ err, connectionId: conn.id }, 'connection listener failed');
      }
    }
  }

  private received(conn: Connection, chunk: Buffer): void {
    if (conn.closed) return;
    const { frames, error, tooLong } = conn.decoder.push(chunk);
    const held = conn.decoder.bufferedBytes;
    this.bufferedTotal += held - conn.buffered;
    conn.buffered = held;
    const socket = conn.socket;
    // One clock read per read: a frame's time counts from when its bytes were split off.
    const decodedAt = this.onRequestDone && frames.length > 0 ? performance.now() : 0;
    for (const frame of frames) {
      // A handler may have closed the connection: what it sent after that is not served.
      if (conn.closed) break;
      try {
        this.dispatch(conn, frame, decodedAt);
      } catch (err) {
        // Only a bug gets here; an exception escaping a socket event would end the process.
        this.logger.error({ err, connectionId: conn.id, code: frame.code }, 'request dispatch failed');
      }
    }
    if (error !== undefined) {
      this.protocolError(conn, error, tooLong === true);
      conn.abort();
      return;
    }
    if (this.bufferedTotal > this.maxBufferedBytes && conn.buffered > 0) {
      // Partial frames of many peers could otherwise add up to connections x maxFrameLength.
      const total = this.bufferedTotal;
      if (this.limits) {
        this.limits.hit({
          limit: 'remotingMaxBufferedBytes',
          offender: peerOf(conn.remoteAddress),
          value: this.maxBufferedBytes,
          action: 'connection closed: its partial frame would take the bytes held past the limit',
          detail: {
            connectionId: conn.id,
            client: conn.remoteAddress,
            connectionBytes: conn.buffered,
            totalBytes: total,
          },
        });
      } else {
        this.logger.warn(
          {
            connectionId: conn.id,
            remoteAddress: conn.remoteAddress,
            connectionBytes: conn.buffered,
            totalBytes: total,
          },
          `closing connection ${conn.remoteAddress}: partial frames over ${this.maxBufferedBytes} bytes`,
        );
      }
      // Released now, not at the close event: other peers' reads in between must not be refused for these bytes.
      this.bufferedTotal -= conn.buffered;
      conn.buffered = 0;
      conn.abort();
      return;
    }
    if (socket.writableNeedDrain) socket.pause();
  }

  private protocolError(conn: Connection, error: string, tooLong: boolean): void {
    try {
      this.onProtocolError?.(error);
    } catch (err) {
      this.logger.error({ err }, 'onProtocolError failed');
    }
    if (tooLong && this.limits) {
      // A configured limit: logged once per peer, counted every time.
      this.limits.hit({
        limit: 'maxFrameLength',
        offender: peerOf(conn.remoteAddress),
        value: this.maxFrameLength,
        action: `connection closed: ${error}`,
        detail: { connectionId: conn.id, client: conn.remoteAddress, reason: error },
      });
      return;
    }
    this.logger.warn(
      { connectionId: conn.id, remoteAddress: conn.remoteAddress, reason: error },
      `closing connection ${conn.remoteAddress}: protocol error: ${error}`,
    );
  }

  private dispatch(conn: Connection, request: RemotingCommand, started: number): void {
    if (isResponse(request)) {
      this.logger.debug(
        { connectionId: conn.id, remoteAddress: conn.remoteAddress, code: request.code, opaque: request.opaque },
        'ignoring a response sent to the server',
      );
      return;
    }
    const code = request.code;
    const handler = code >= 0 && code < this.handlers.length ? this.handlers[code] : this.otherHandlers.get(code);
    if (handler === undefined) {
      const remark = ` request type ${request.code} not supported`;
      this.logger.warn(
        { connectionId: conn.id, remoteAddress: conn.remoteAddress, code: request.code },
        `${conn.remoteAddress}${remark}`,
      );
      this.answer(conn, request, createResponse(request, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, remark), started);
      return;
    }
    let result: RemotingCommand | undefined | Promise<RemotingCommand | undefined>;
    try {
      result = handler(request, conn);
    } catch (err) {
      this.answer(conn, request, this.handlerFailed(conn, request, err), started);
      return;
    }
    if (result !== undefined && typeof (result as Promise<unknown>).then === 'function') {
      const settled: Promise<void> = (result as Promise<RemotingCommand | undefined>)
        .then(
          (response) => this.answer(conn, request, response, started),
          (err: unknown) => this.answer(conn, request, this.handlerFailed(conn, request, err), started),
        )
        .catch((err: unknown) =>
          this.logger.error({ err, connectionId: conn.id, code: request.code }, 'answering a request failed'),
        );
      this.inFlight.add(settled);
      void settled.finally(() => this.inFlight.delete(settled));
      return;
    }
    this.answer(conn, request, result as RemotingCommand | undefined, started);
  }

  private handlerFailed(conn: Connection, request: RemotingCommand, err: unknown): RemotingCommand {
    this.logger.error(
      {
        err,
        connectionId: conn.id,
        remoteAddress: conn.remoteAddress,
        code: request.code,
        request: requestCodeName(request.code),
      },
      'request handler failed',
    );
    return createResponse(request, ResponseCode.SYSTEM_ERROR, errorWithClass(err));
  }

  /** Never throws: it runs inside socket events and promise callbacks. */
  private answer(
    conn: Connection,
    request: RemotingCommand,
    response: RemotingCommand | null | undefined,
    started: number,
  ): void {
    if (this.onRequestDone) {
      try {
        this.onRequestDone(request.code, response?.code ?? undefined, (performance.now() - started) / 1000);
      } catch (err) {
        this.logger.error({ err }, 'onRequestDone failed');
      }
    }
    if (response == null || isOneway(request) || conn.closed) return;
    // Handlers may hand back shared (cached) commands: correct a copy, never the original.
    const outgoing =
      response.opaque === request.opaque && (response.flag & RESPONSE_FLAG) !== 0
        ? response
        : { ...response, opaque: request.opaque, flag: response.flag | RESPONSE_FLAG };
    let frame: PreparedFrame;
    try {
      frame = prepareFrame(outgoing);
    } catch (err) {
      this.logger.error({ err, connectionId: conn.id, code: request.code }, 'response could not be encoded');
      frame = prepareFrame(
        createResponse(
          request,
          ResponseCode.SYSTEM_ERROR,
          `response could not be encoded: ${truncate(errorWithClass(err))}`,
        ),
      );
    }
    conn.write(frame);
  }
}

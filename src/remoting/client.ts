import { connect as connectSocket, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { encodeCommand } from '../protocol/frameCodec.js';
import { isOneway, isResponse, ONEWAY_FLAG, RESPONSE_FLAG, SerializeType, type RemotingCommand } from './command.js';
import { DEFAULT_MAX_FRAME_LENGTH, FrameDecoder } from './frameDecoder.js';
import { MQVersion, requestCodeName } from './requestCode.js';

export class RemotingTimeoutError extends Error {
  override readonly name = 'RemotingTimeoutError';

  constructor(
    readonly requestCode: number,
    readonly timeoutMs: number,
  ) {
    super(`no response to ${requestCodeName(requestCode)} (${requestCode}) within ${timeoutMs} ms`);
  }
}

export class RemotingConnectionClosedError extends Error {
  override readonly name = 'RemotingConnectionClosedError';
}

export interface RemotingClientOptions {
  host: string;
  port: number;
  /** Header serialization of the requests this client sends. Default JSON. */
  serializeType?: SerializeType;
  /** Default "JAVA". */
  language?: string;
  /** MQVersion ordinal sent in requests. Default MQVersion.CURRENT. */
  version?: number;
  connectTimeoutMs?: number;
  maxFrameLength?: number;
  /**
   * Connect over TLS (a name server with tls.server.mode permissive or
   * enforcing). `true` trusts any server certificate, as a Java client does by
   * default (tls.client.authServer=false); pass node:tls options to verify it
   * (`ca`) or to present a client certificate (`cert`, `key`).
   */
  tls?: boolean | ConnectionOptions;
}

/** What a caller specifies of a request; the client fills in the rest. */
export type RequestInput = Pick<RemotingCommand, 'code'> & Partial<Omit<RemotingCommand, 'code'>>;

/** Answers a request the server sent to this client; undefined sends nothing. */
export type ServerRequestHandler = (
  request: RemotingCommand,
  client: RemotingClient,
) => RemotingCommand | undefined | Promise<RemotingCommand | undefined>;

interface PendingRequest {
  code: number;
  resolve: (response: RemotingCommand) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 3_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 3_000;
const MAX_OPAQUE = 0x7fffffff;

/**
 * One TCP connection speaking the remoting protocol as a client: requests are
 * matched to responses by opaque, so many can be outstanding at once.
 */
export class RemotingClient {
  private readonly pending = new Map<number, PendingRequest>();
  private readonly closeListeners = new Set<(reason: string | undefined) => void>();
  private readonly decoder: FrameDecoder;
  private requestHandler: ServerRequestHandler | undefined;
  private nextOpaque = 1;
  private closeReason: string | undefined;
  private isClosed = false;
  private readonly closedPromise: Promise<void>;

  private constructor(
    private readonly socket: Socket,
    private readonly options: RemotingClientOptions,
  ) {
    this.decoder = new FrameDecoder(options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH);
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('error', (err) => {
      this.closeReason ??= err.message;
    });
    this.closedPromise = new Promise((resolve) => {
      socket.once('close', () => {
        this.isClosed = true;
        this.failPending();
        for (const listener of this.closeListeners) listener(this.closeReason);
        resolve();
      });
    });
  }

  static connect(options: RemotingClientOptions): Promise<RemotingClient> {
    return new Promise((resolve, reject) => {
      const tls = options.tls === true ? { rejectUnauthorized: false } : options.tls || undefined;
      const socket =
        tls === undefined
          ? connectSocket({ host: options.host, port: options.port, noDelay: true })
          : connectTls({ host: options.host, port: options.port, ...tls }).setNoDelay(true);
      const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new RemotingConnectionClosedError(
            `connect to ${options.host}:${options.port} timed out after ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      const onError = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      socket.once('error', onError);
      socket.once(tls === undefined ? 'connect' : 'secureConnect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve(new RemotingClient(socket, options));
      });
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Sends a request and resolves with its response, whatever its response code. */
  request(input: RequestInput, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): Promise<RemotingCommand> {
    if (this.isClosed || this.socket.destroyed) {
      return Promise.reject(new RemotingConnectionClosedError(this.closedMessage()));
    }
    const opaque = this.takeOpaque();
    const command = this.build(input, opaque, 0);
    let frame: Buffer;
    try {
      frame = encodeCommand(command);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(opaque);
        reject(new RemotingTimeoutError(command.code, timeoutMs));
      }, timeoutMs);
      this.pending.set(opaque, { code: command.code, resolve, reject, timer });
      this.socket.write(frame);
    });
  }

  invoke(
    code: number,
    extFields?: Record<string, string> | null,
    body?: Buffer | null,
    timeoutMs?: number,
  ): Promise<RemotingCommand> {
    return this.request({ code, extFields: extFields ?? null, body: body ?? null }, timeoutMs);
  }

  /** Sends a request flagged oneway: the server sends no response. Throws when closed. */
  oneway(input: RequestInput): void {
    if (this.isClosed || this.socket.destroyed) throw new RemotingConnectionClosedError(this.closedMessage());
    this.socket.write(encodeCommand(this.build(input, this.takeOpaque(), ONEWAY_FLAG)));
  }

  /** Handles requests the server initiates on this connection; replaces any earlier handler. */
  onRequest(handler: ServerRequestHandler): void {
    this.requestHandler = handler;
  }

  /** Called once when the connection closes, with the error that closed it if any. Returns a remover. */
  onClose(listener: (reason: string | undefined) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Flushes what was sent, closes, and resolves once the socket is closed. Outstanding requests reject. */
  close(): Promise<void> {
    if (!this.isClosed) this.socket.destroySoon();
    return this.closedPromise;
  }

  private build(input: RequestInput, opaque: number, flag: number): RemotingCommand {
    return {
      code: input.code,
      language: input.language ?? this.options.language ?? 'JAVA',
      version: input.version ?? this.options.version ?? MQVersion.CURRENT,
      opaque,
      flag: ((input.flag ?? 0) & ~(RESPONSE_FLAG | ONEWAY_FLAG)) | flag,
      remark: input.remark ?? null,
      extFields: input.extFields ?? null,
      serializeType: input.serializeType ?? this.options.serializeType ?? SerializeType.JSON,
      body: input.body ?? null,
    };
  }

  private takeOpaque(): number {
    const opaque = this.nextOpaque;
    this.nextOpaque = opaque >= MAX_OPAQUE ? 1 : opaque + 1;
    return opaque;
  }

  private closedMessage(): string {
    return this.closeReason ? `connection closed: ${this.closeReason}` : 'connection closed';
  }

  private received(chunk: Buffer): void {
    const { frames, error } = this.decoder.push(chunk);
    for (const frame of frames) {
      if (isResponse(frame)) this.settle(frame);
      else this.serverRequest(frame);
    }
    if (error !== undefined) {
      this.closeReason ??= `protocol error: ${error}`;
      this.socket.destroy();
    }
  }

  private settle(response: RemotingCommand): void {
    const waiting = this.pending.get(response.opaque);
    // A response after its timeout finds nothing waiting and is dropped.
    if (waiting === undefined) return;
    this.pending.delete(response.opaque);
    clearTimeout(waiting.timer);
    waiting.resolve(response);
  }

  private serverRequest(request: RemotingCommand): void {
    const handler = this.requestHandler;
    if (handler === undefined) return;
    const reply = (response: RemotingCommand | null | undefined) => {
      if (response == null || isOneway(request) || this.isClosed) return;
      try {
        this.socket.write(encodeCommand({ ...response, opaque: request.opaque, flag: response.flag | RESPONSE_FLAG }));
      } catch {
        // An unencodable answer is not sent; the server times out as for any lost answer.
      }
    };
    try {
      const result = handler(request, this);
      if (result !== undefined && typeof (result as Promise<unknown>).then === 'function') {
        (result as Promise<RemotingCommand | undefined>).then(reply, () => undefined);
      } else {
        reply(result as RemotingCommand | undefined);
      }
    } catch {
      // The server gets no answer and times out, as it would with a peer that lacks the handler.
    }
  }

  private failPending(): void {
    const message = this.closedMessage();
    for (const [opaque, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      this.pending.delete(opaque);
      waiting.reject(
        new RemotingConnectionClosedError(
          `${message} before the response to ${requestCodeName(waiting.code)} (${waiting.code})`,
        ),
      );
    }
  }
}

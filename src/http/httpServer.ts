import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { LimitEvents } from '../observe/limits.js';
import { errorMessage } from '../util/errorMessage.js';
import type { HttpAuth } from '../tls/httpAuth.js';
import type { TlsAcceptor } from '../tls/tlsAcceptor.js';

export interface HttpReply {
  status: number;
  contentType?: string;
  /** Extra response headers (caching, encoding, security policy). */
  headers?: Record<string, string>;
  body: string | Buffer | object;
}

export type HttpHandler = (request: IncomingMessage) => HttpReply | Promise<HttpReply>;
export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface HttpServerOptions {
  host: string;
  port: number;
  logger: Logger;
  /** Connections open at once (upgraded gateway sockets included); more are closed as soon as accepted. */
  maxConnections?: number;
  /** Where a refused connection is counted and logged (once per peer). */
  limits?: LimitEvents;
  /** HTTPS per httpTlsMode (permissive and enforcing); without it the port is plain HTTP. */
  tls?: TlsAcceptor;
  /** httpAuthRequired: credentials on every path but the probes and the address server. */
  auth?: HttpAuth;
}

/** How long a connection may stay silent before its first byte says HTTP or HTTPS (Node's headersTimeout). */
const FIRST_BYTE_TIMEOUT_MS = 60_000;

/**
 * The name server's HTTP port: probes, metrics, machine definitions and the
 * WebSocket gateway's upgrade. Routes are exact paths or prefixes ending in `/`
 * (but `/`).
 */
export class HttpServer {
  private readonly server: Server;
  /** Connections whose first byte has not arrived yet (TLS on). */
  private readonly undecided = new Set<Socket>();
  private readonly routes = new Map<string, HttpHandler>();
  private readonly prefixRoutes: Array<[string, HttpHandler]> = [];
  private readonly upgrades = new Map<string, UpgradeHandler>();

  constructor(private readonly options: HttpServerOptions) {
    this.server = createServer((req, res) => void this.dispatch(req, res));
    const tls = options.tls;
    if (tls !== undefined) {
      // The server's own connection handler (the HTTP parser) runs once the
      // first byte said plain or TLS; the server still listens, so its
      // header and request timeouts and closeAllConnections work as ever.
      const parse = this.server.listeners('connection') as Array<(socket: Duplex) => void>;
      this.server.removeAllListeners('connection');
      const handOver = (socket: Duplex) => {
        for (const listener of parse) listener.call(this.server, socket);
      };
      this.server.on('connection', (socket: Socket) => this.sniff(socket, tls, handOver));
    }
    if (options.maxConnections !== undefined) {
      const limit = options.maxConnections;
      // Node closes a connection over maxConnections right after accepting it, and says so here.
      this.server.maxConnections = limit;
      this.server.on('drop', (data?: { remoteAddress?: string; remotePort?: number }) => {
        options.limits?.hit({
          limit: 'httpMaxConnections',
          offender: data?.remoteAddress ?? 'unknown',
          value: limit,
          action: 'HTTP connection closed on accept',
          detail: { client: data?.remoteAddress, clientPort: data?.remotePort },
        });
      });
    }
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
    this.server.on('clientError', (_err, socket) => socket.destroy());
  }

  /** `/` itself is an exact path (the console), not a prefix of everything. */
  get(path: string, handler: HttpHandler): void {
    if (path.endsWith('/') && path !== '/') this.prefixRoutes.push([path, handler]);
    else this.routes.set(path, handler);
  }

  onUpgrade(path: string, handler: UpgradeHandler): void {
    this.upgrades.set(path, handler);
  }

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', onError);
        const address = this.server.address();
        if (address && typeof address === 'object') resolve({ host: address.address, port: address.port });
        else reject(new Error('http server has no address'));
      });
    });
  }

  get port(): number {
    const address = this.server.address();
    return address && typeof address === 'object' ? address.port : 0;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      for (const socket of this.undecided) socket.destroy();
      this.options.tls?.abortHandshakes();
    });
  }

  /**
   * A connection to a TLS-capable port: its first byte sends it to the HTTP
   * parser as it is, or through the TLS handshake first (the acceptor applies
   * httpTlsMode and counts what it refuses).
   */
  private sniff(socket: Socket, tls: TlsAcceptor, handOver: (socket: Duplex) => void): void {
    this.undecided.add(socket);
    socket.on('error', (err) => this.options.logger.debug({ err }, 'http connection error'));
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, () => socket.destroy());
    socket.once('close', () => this.undecided.delete(socket));
    socket.once('data', (first: Buffer) => {
      this.undecided.delete(socket);
      socket.setTimeout(0);
      tls.route(socket, first, {
        plain: (chunk) => {
          socket.pause();
          socket.unshift(chunk);
          handOver(socket);
          // The HTTP parser reads what was handed back once the socket flows again.
          process.nextTick(() => socket.resume());
        },
        secure: (secured) => handOver(secured),
      });
    });
  }

  private handlerFor(path: string): HttpHandler | undefined {
    const exact = this.routes.get(path);
    if (exact) return exact;
    for (const [prefix, handler] of this.prefixRoutes) if (path.startsWith(prefix)) return handler;
    return undefined;
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const handler = this.handlerFor(path);
    const refusal = this.options.auth?.check(req, path);
    let reply: HttpReply;
    if (refusal !== undefined) {
      reply = { status: refusal.status, headers: refusal.headers, body: { error: refusal.message } };
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      reply = { status: 405, headers: { allow: 'GET, HEAD' }, body: { error: `method ${req.method} not allowed` } };
    } else if (!handler) {
      reply = { status: 404, body: { error: `no resource at ${path}` } };
    } else {
      try {
        reply = await handler(req);
      } catch (err) {
        this.options.logger.error({ err, path }, 'http handler failed');
        reply = { status: 500, body: { error: errorMessage(err) } };
      }
    }
    const isText = typeof reply.body === 'string' || Buffer.isBuffer(reply.body);
    const payload = isText ? (reply.body as string | Buffer) : JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      ...reply.headers,
      'content-type': reply.contentType ?? (isText ? 'text/plain; charset=utf-8' : 'application/json'),
      'content-length': Buffer.byteLength(payload),
    });
    res.end(req.method === 'HEAD' ? undefined : payload);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const refusal = this.options.auth?.check(req, path);
    if (refusal !== undefined) {
      const body = JSON.stringify({ error: refusal.message });
      const headers = Object.entries(refusal.headers).map(([name, value]) => `${name}: ${value}\r\n`);
      socket.end(
        `HTTP/1.1 401 Unauthorized\r\n${headers.join('')}content-type: application/json\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      return;
    }
    const handler = this.upgrades.get(path);
    if (!handler) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    handler(req, socket, head);
  }
}

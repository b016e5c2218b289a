import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { TokenVerifier } from './auth.js';
import type { GatewayHost } from './host.js';
import { PingTimer } from './pingTimer.js';
import { createServerIdentity, type ServerIdentity } from './serverIdentity.js';
import {
  ClientSession,
  type GatewayCounters,
  type GatewayLimits,
  type SessionEnvironment,
  type SessionOpening,
} from './session.js';
import { originAllowed } from './origin.js';
import { GatewayStream, type StreamSources } from './stream.js';
import { readUpgradeRequest } from './upgradeRequest.js';

export interface GatewayStats {
  /** Connected clients, including ones being closed. */
  clients: number;
  droppedSlowClients: number;
  /** Messages written to clients: stream messages, responses, errors. */
  messagesSent: number;
  /** Cut off for not answering a ping. */
  deadClients: number;
  /** Disconnected (1009) for a message over gatewayMaxMessageBytes. */
  oversizedMessages: number;
  /** Upgrade requests refused: bad token, bad query, client limit, shutting down. */
  rejectedUpgrades: number;
  /** The stream's last sequence number. */
  streamSeq: number;
}

/**
 * Real time, not the server's clock: a simulated clock that nobody advances
 * must not hold up shutdown. Clients that have not completed the close
 * handshake by then are cut off.
 */
const SHUTDOWN_GRACE_MS = 2_000;

/**
 * The WebSocket gateway on the HTTP port's `/ws`: a stream of actor
 * transitions and route changes with resume, plus JSON requests served by
 * the name server's request processors. See docs/gateway.md.
 */
export class Gateway {
  readonly identity: ServerIdentity;
  private readonly wss: WebSocketServer;
  private readonly stream: GatewayStream;
  private readonly sessions = new Set<ClientSession>();
  private readonly counters: GatewayCounters = {
    messagesSent: 0,
    droppedSlowClients: 0,
    deadClients: 0,
    oversizedMessages: 0,
    rejectedUpgrades: 0,
  };
  private readonly environment: SessionEnvironment;
  private readonly pings: PingTimer;
  private readonly maxClients: number;
  private readonly allowedOrigins: readonly string[];
  private closing: Promise<void> | undefined;

  constructor(private readonly host: GatewayHost) {
    const config = host.config.get();
    this.identity = createServerIdentity();
    this.maxClients = config.gatewayMaxClients;
    this.allowedOrigins = config.gatewayAllowedOrigins;
    const limits: GatewayLimits = {
      maxBufferedBytes: config.gatewayMaxBufferedBytes,
      maxSubscriptions: config.gatewayMaxSubscriptionsPerClient,
      maxMessageBytes: config.gatewayMaxMessageBytes,
      pingIntervalMs: config.gatewayPingIntervalSeconds * 1000,
    };
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: limits.maxMessageBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.stream = new GatewayStream(streamSourcesOf(host), config.replayBufferSize);
    this.environment = {
      host,
      stream: this.stream,
      tokens: new TokenVerifier(config.gatewayToken),
      identity: this.identity,
      limits,
      counters: this.counters,
    };
    this.pings = new PingTimer(host.clock, limits.pingIntervalMs, () => {
      for (const session of this.sessions) session.probe();
      return this.sessions.size > 0;
    });
  }

  /** The HTTP server's upgrade handler for `/ws`. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refusal = this.refusalOf(request);
    if (refusal) {
      this.counters.rejectedUpgrades++;
      rejectUpgrade(socket, refusal.status, refusal.message, refusal.headers);
      return;
    }
    const decision = readUpgradeRequest(request, this.environment.tokens, this.environment.limits.maxSubscriptions);
    if (!decision.ok) {
      this.counters.rejectedUpgrades++;
      if (decision.limit) {
        this.host.limits.hit({
          limit: decision.limit,
          offender: `gateway client ${request.socket.remoteAddress ?? 'unknown'}`,
          value: this.environment.limits.maxSubscriptions,
          action: `upgrade refused with ${decision.status}`,
          detail: { client: request.socket.remoteAddress },
        });
      }
      this.host.logger.info(
        { status: decision.status, reason: decision.message, client: request.socket.remoteAddress },
        'gateway upgrade refused',
      );
      rejectUpgrade(socket, decision.status, decision.message, decision.headers);
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, decision.opening));
  }

  stats(): GatewayStats {
    return { clients: this.sessions.size, ...this.counters, streamSeq: this.stream.currentSeq };
  }

  /** Closes every client with 1001 and stops streaming; later upgrades are refused. */
  close(): Promise<void> {
    this.closing ??= this.closeAll();
    return this.closing;
  }

  private refusalOf(
    request: IncomingMessage,
  ): { status: number; message: string; headers?: Record<string, string> } | undefined {
    if (this.closing) return { status: 503, message: 'name server shutting down' };
    if (!originAllowed(request, this.allowedOrigins)) {
      this.host.logger.info(
        { origin: request.headers.origin, client: request.socket.remoteAddress },
        'gateway upgrade refused: origin not allowed',
      );
      return { status: 403, message: `origin ${request.headers.origin} is not allowed (gatewayAllowedOrigins)` };
    }
    if (this.sessions.size >= this.maxClients) {
      this.host.limits.hit({
        limit: 'gatewayMaxClients',
        offender: request.socket.remoteAddress ?? 'unknown',
        value: this.maxClients,
        action: 'gateway upgrade refused with 503',
        detail: { client: request.socket.remoteAddress },
      });
      return {
        status: 503,
        message: `too many gateway clients (gatewayMaxClients=${this.maxClients})`,
        headers: { 'retry-after': '30' },
      };
    }
    return undefined;
  }

  private accept(ws: WebSocket, opening: SessionOpening): void {
    if (this.closing) {
      ws.close(1001, 'name server shutting down');
      return;
    }
    const session = new ClientSession(ws, opening, this.environment, (closed) => {
      this.sessions.delete(closed);
      this.host.logger.debug(
        { client: opening.remoteAddress, connectionId: closed.connectionId },
        'gateway client disconnected',
      );
    });
    this.sessions.add(session);
    this.host.logger.debug(
      { client: opening.remoteAddress, connectionId: session.connectionId },
      'gateway client connected',
    );
    session.open();
    this.pings.ensureRunning();
  }

  private async closeAll(): Promise<void> {
    this.pings.stop();
    this.stream.close();
    const sessions = [...this.sessions];
    const allClosed = Promise.all(sessions.map((session) => session.whenClosed));
    for (const session of sessions) session.shutdown();
    let graceTimer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => {
      graceTimer = setTimeout(() => resolve('timeout'), SHUTDOWN_GRACE_MS);
      graceTimer.unref();
    });
    const outcome = await Promise.race([allClosed, graceOver]);
    clearTimeout(graceTimer);
    if (outcome === 'timeout') for (const session of this.sessions) session.terminate();
    await allClosed;
    this.wss.close();
  }
}

function streamSourcesOf(host: GatewayHost): StreamSources {
  return {
    onTransition: (listener) => host.transitions.onTransition(listener),
    onRouteChange: (listener) => host.routes.onChange(listener),
    servingRoutes: () => host.actor.getSnapshot().hasTag('servingRoutes'),
    encodedRoute: (topic) => host.routes.pickupTopicRoute(topic, true)?.toString('utf8'),
    now: () => host.clock.now(),
  };
}

function rejectUpgrade(socket: Duplex, status: number, message: string, headers: Record<string, string> = {}): void {
  const body = `${message}\n`;
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'connection: close',
    'content-type: text/plain; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

import { wsMessageText } from '../util/wsText.js';
import { WebSocket, type RawData } from 'ws';
import type { RemotingConnection } from '../remoting/server.js';
import type { TokenVerifier } from './auth.js';
import type { GatewayHost } from './host.js';
import {
  CloseCode,
  parseClientMessage,
  readFields,
  RequestError,
  type ClientRequest,
  type ErrorMessage,
  type RequestId,
  type ResponseMessage,
  type StreamName,
} from './protocol.js';
import { peerOf } from '../observe/limits.js';
import { REMOTING_OPS, runRemotingOp } from './remotingOps.js';
import type { ServerIdentity } from './serverIdentity.js';
import { takeSnapshot } from './snapshot.js';
import type { GatewayStream, StreamEntry, StreamSink } from './stream.js';
import { readSubscriptionChange, Subscription, type SubscriptionChange } from './subscription.js';
import { errorMessage } from '../util/errorMessage.js';

export interface GatewayLimits {
  maxBufferedBytes: number;
  maxSubscriptions: number;
  maxMessageBytes: number;
  /** 0 = no pings. */
  pingIntervalMs: number;
}

/** Shared by every session; the gateway reports them in stats(). */
export interface GatewayCounters {
  messagesSent: number;
  droppedSlowClients: number;
  deadClients: number;
  oversizedMessages: number;
  rejectedUpgrades: number;
}

export interface SessionEnvironment {
  host: GatewayHost;
  stream: GatewayStream;
  tokens: TokenVerifier;
  identity: ServerIdentity;
  limits: GatewayLimits;
  counters: GatewayCounters;
}

/** Where a reconnecting client left off. */
export interface ResumePoint {
  lastSeq: number;
  instanceId?: string;
}

/** What the upgrade request settled before the session starts. */
export interface SessionOpening {
  remoteAddress: string;
  authorized: boolean;
  /** Replaces the default streams when the URL names some. */
  streams?: StreamName[];
  filters?: SubscriptionChange;
  resume?: ResumePoint;
}

const CONTROL_DISABLED = 'control operations are disabled: the server has no gatewayToken configured';
const CONTROL_NEEDS_TOKEN =
  'control operations need the gateway token: send "Authorization: Bearer <token>" with the upgrade request, or an auth op first';
/** Enough for typos; a guesser is cut off. */
const MAX_FAILED_AUTHS = 5;

type Phase = 'open' | 'closing' | 'closed';

/**
 * One WebSocket client: its subscription, its authorization, and the only
 * place that writes to its socket, so the slow-consumer bound is checked on
 * every message whatever produced it.
 */
export class ClientSession implements StreamSink {
  readonly connectionId: number;
  /** How request processors see this client (its id ties WS-registered brokers to this socket). */
  readonly connection: RemotingConnection;
  readonly whenClosed: Promise<void>;
  private readonly subscription: Subscription;
  private authorized: boolean;
  private failedAuths = 0;
  private writesHeld = false;
  private phase: Phase = 'open';
  private heardSinceLastPing = true;
  private released = false;
  private markClosed!: () => void;

  constructor(
    private readonly ws: WebSocket,
    private readonly opening: SessionOpening,
    private readonly env: SessionEnvironment,
    private readonly onClosed: (session: ClientSession) => void,
  ) {
    this.connectionId = env.host.allocateLocalConnectionId();
    this.subscription = new Subscription(opening.streams);
    this.authorized = opening.authorized;
    this.whenClosed = new Promise((resolve) => (this.markClosed = resolve));
    const isClosed = () => this.phase !== 'open';
    this.connection = {
      id: this.connectionId,
      remoteAddress: opening.remoteAddress,
      get closed() {
        return isClosed();
      },
      // The gateway speaks JSON: there is no remoting frame to push to this peer.
      send: () => false,
      close: () => this.closeWith(CloseCode.NORMAL, 'closed by the name server'),
    };
  }

  /** Sends hello (and the replay a `?lastSeq=` asked for), then serves the client. */
  open(): void {
    this.ws.on('message', (data, isBinary) => this.received(data, isBinary));
    this.ws.on('pong', () => (this.heardSinceLastPing = true));
    this.ws.on('error', (err) => this.socketFailed(err));
    this.ws.on('close', () => this.socketClosed());
    this.env.stream.attach(this);
    if (this.opening.filters) this.watch(this.subscription.add(this.opening.filters));
    const snapshot = takeSnapshot(this.env.host, this.env.stream, this.subscription);
    this.send({
      type: 'hello',
      seq: snapshot.seq,
      server: this.env.identity,
      auth: { authorized: this.authorized, controlOps: this.env.tokens.configured ? 'enabled' : 'disabled' },
      subscription: this.subscription.view(),
      limits: {
        maxMessageBytes: this.env.limits.maxMessageBytes,
        maxBufferedBytes: this.env.limits.maxBufferedBytes,
        maxSubscriptions: this.env.limits.maxSubscriptions,
        pingIntervalMs: this.env.limits.pingIntervalMs,
      },
      lifecycle: snapshot.lifecycle,
      brokers: snapshot.brokers,
      ...(snapshot.routes ? { routes: snapshot.routes } : {}),
    });
    const resume = this.opening.resume;
    if (resume) this.serve({ op: 'resume', fields: { lastSeq: resume.lastSeq, instanceId: resume.instanceId } });
  }

  accepts(entry: StreamEntry): boolean {
    return this.subscription.accepts(entry);
  }

  deliver(entry: StreamEntry): void {
    this.sendText(entry.text);
  }

  /**
   * One ping period. A peer that has said nothing since the previous ping is
   * gone (or too wedged to matter) and is cut off; so is one that was asked
   * to close a period ago and has not.
   */
  probe(): void {
    if (this.phase === 'closed') return;
    if (this.phase === 'closing') {
      this.ws.terminate();
      return;
    }
    if (!this.heardSinceLastPing) {
      this.env.counters.deadClients++;
      this.env.host.logger.info(
        { client: this.opening.remoteAddress },
        'gateway client did not answer ping: disconnected',
      );
      this.phase = 'closing';
      this.release();
      this.ws.terminate();
      return;
    }
    this.heardSinceLastPing = false;
    this.ws.ping();
  }

  /** Name server shutdown: open clients are told 1001; ones already closing are cut off. */
  shutdown(): void {
    if (this.phase === 'open') this.closeWith(CloseCode.GOING_AWAY, 'name server shutting down');
    else if (this.phase === 'closing') this.ws.terminate();
  }

  terminate(): void {
    if (this.phase !== 'closed') this.ws.terminate();
  }

  // ---------------------------------------------------------------------------
  // Receiving

  private received(data: RawData, isBinary: boolean): void {
    this.heardSinceLastPing = true;
    if (this.phase !== 'open') return;
    if (isBinary) {
      this.send({
        type: 'error',
        code: 'bad_request',
        message: 'binary messages are not supported: send JSON text',
      } satisfies ErrorMessage);
      return;
    }
    const parsed = parseClientMessage(wsMessageText(data));
    if (!parsed.ok) {
      this.send({ type: 'error', ...parsed.error } satisfies ErrorMessage);
      return;
    }
    this.serve(parsed.request);
  }

  /**
   * Local ops answer synchronously, so whatever they send (a replay, a reset)
   * is followed by their response with no stream message in between.
   */
  private serve(request: ClientRequest): void {
    const id = request.id ?? null;
    let outcome: unknown;
    try {
      outcome = this.run(request);
    } catch (err) {
      this.fail(request, err);
      return;
    }
    if (outcome instanceof Promise) {
      outcome.then(
        (result) => this.respond(id, request.op, result),
        (err) => this.fail(request, err),
      );
    } else {
      this.respond(id, request.op, outcome);
    }
  }

  private run(request: ClientRequest): unknown {
    const { fields } = request;
    switch (request.op) {
      case 'subscribe':
        return this.subscribe(readSubscriptionChange(fields));
      case 'unsubscribe':
        return this.unsubscribe(readSubscriptionChange(fields));
      case 'resume': {
        const point = readFields(fields, { lastSeq: 'integer', instanceId: 'string?' });
        if (point.lastSeq < 0) throw new RequestError('bad_request', 'field "lastSeq" must not be negative');
        return this.resume(point);
      }
      case 'auth':
        return this.authenticate(readFields(fields, { token: 'string' }).token);
      case 'ping':
        return { at: this.env.host.clock.now(), seq: this.env.stream.currentSeq };
      case 'getLifecycle':
        return this.env.host.lifecycle();
      case 'getBrokers':
        return { brokers: this.env.host.brokerSnapshots() };
    }
    const op = Object.hasOwn(REMOTING_OPS, request.op) ? REMOTING_OPS[request.op] : undefined;
    if (!op) throw new RequestError('unknown_op', `unknown op "${request.op}"`);
    if (op.kind === 'control') this.requireControl();
    return runRemotingOp(op, fields, {
      invokeProcessor: (command, connection) => this.env.host.invokeProcessor(command, connection),
      connection: this.connection,
      adminToken: this.env.host.config.get().adminToken,
    });
  }

  private respond(id: RequestId | null, op: string, result: unknown): void {
    this.send({ type: 'response', id, op, result } satisfies ResponseMessage);
  }

  private fail(request: ClientRequest, err: unknown): void {
    const error: ErrorMessage = {
      type: 'error',
      ...(request.id === undefined ? {} : { id: request.id }),
      op: request.op,
      code: 'internal_error',
      message: '',
    };
    if (err instanceof RequestError) {
      error.code = err.code;
      error.message = err.message;
      if (err.details.remotingCode !== undefined) error.remotingCode = err.details.remotingCode;
      if (err.details.remotingCodeName !== undefined) error.remotingCodeName = err.details.remotingCodeName;
    } else {
      this.env.host.logger.error({ err, op: request.op, client: this.opening.remoteAddress }, 'gateway op failed');
      error.message = errorMessage(err);
    }
    this.send(error);
    if (err instanceof RequestError && err.details.closeWith !== undefined)
      this.closeWith(err.details.closeWith, err.message);
  }

  // ---------------------------------------------------------------------------
  // Local ops

  private subscribe(change: SubscriptionChange): unknown {
    const limit = this.env.limits.maxSubscriptions;
    const held = this.subscription.filterCount;
    const growth = this.subscription.growthOf(change);
    if (held + growth > limit) {
      this.env.host.limits.hit({
        limit: 'gatewayMaxSubscriptionsPerClient',
        offender: `gateway client ${this.opening.remoteAddress}`,
        value: limit,
        action: 'subscribe refused with limit_exceeded',
        detail: { client: this.opening.remoteAddress, held, growth },
      });
      throw new RequestError(
        'limit_exceeded',
        `at most ${limit} cluster, broker and topic filters per client (holds ${held}, this adds ${growth})`,
      );
    }
    this.watch(this.subscription.add(change));
    const result: Record<string, unknown> = { seq: this.env.stream.currentSeq, subscription: this.subscription.view() };
    if (change.topics.length > 0) {
      const routes = this.env.stream.routeSnapshot(change.topics);
      if (routes) result.routes = routes;
    }
    return result;
  }

  private unsubscribe(change: SubscriptionChange): unknown {
    for (const topic of this.subscription.remove(change)) this.env.stream.unwatchTopic(this, topic);
    return { seq: this.env.stream.currentSeq, subscription: this.subscription.view() };
  }

  private watch(topics: string[]): void {
    this.env.stream.watchTopics(this, topics);
  }

  /**
   * Replays what the client missed, or resets it with a fresh snapshot when
   * that cannot be done exactly: never a silent gap.
   */
  private resume(point: ResumePoint): unknown {
    const stream = this.env.stream;
    const seq = stream.currentSeq;
    let reset: { reason: 'otherInstance' | 'unknownSeq' | 'gap'; oldestAvailable?: number } | undefined;
    if (point.instanceId !== undefined && point.instanceId !== this.env.identity.instanceId) {
      reset = { reason: 'otherInstance' };
    } else if (point.lastSeq > seq) {
      reset = { reason: 'unknownSeq' };
    } else {
      const replay = stream.replayAfter(point.lastSeq);
      if (replay.kind === 'gap') {
        reset = { reason: 'gap', oldestAvailable: replay.oldestAvailable };
        this.env.host.limits.hit({
          limit: 'replayBufferSize',
          offender: `gateway client ${this.opening.remoteAddress}`,
          value: this.env.host.config.get().replayBufferSize,
          action: 'resume answered with a reset (the messages it missed are no longer kept)',
          detail: {
            client: this.opening.remoteAddress,
            lastSeq: point.lastSeq,
            oldestAvailable: replay.oldestAvailable,
          },
        });
      } else {
        let replayed = 0;
        for (const entry of replay.messages) {
          if (!this.accepts(entry)) continue;
          this.deliver(entry);
          replayed++;
        }
        const result: Record<string, unknown> = { seq, replayed, reset: false };
        // Topics nobody watched while this client was away have no entries to replay: give their current routes.
        const snapshot = takeSnapshot(this.env.host, stream, this.subscription);
        if (snapshot.routes) result.routes = snapshot.routes;
        return result;
      }
    }
    this.send({
      type: 'reset',
      ...reset,
      lastSeq: point.lastSeq,
      server: this.env.identity,
      ...takeSnapshot(this.env.host, stream, this.subscription),
    });
    return { seq, replayed: 0, reset: true, reason: reset.reason };
  }

  private authenticate(token: string): unknown {
    if (!this.env.tokens.configured) throw new RequestError('forbidden', CONTROL_DISABLED);
    if (this.env.tokens.verify(token)) {
      this.authorized = true;
      this.failedAuths = 0;
      return { authorized: true };
    }
    // A wrong token takes away what a right one gave: the client's credentials are in doubt.
    this.authorized = false;
    this.failedAuths++;
    this.env.host.logger.warn(
      { client: this.opening.remoteAddress, failedAuths: this.failedAuths },
      'gateway auth failed: wrong token',
    );
    if (this.failedAuths >= MAX_FAILED_AUTHS) {
      throw new RequestError('unauthorized', 'wrong gateway token; too many failed attempts', {
        closeWith: CloseCode.POLICY_VIOLATION,
      });
    }
    throw new RequestError('unauthorized', 'wrong gateway token');
  }

  private requireControl(): void {
    if (!this.env.tokens.configured) throw new RequestError('forbidden', CONTROL_DISABLED);
    if (!this.authorized) throw new RequestError('unauthorized', CONTROL_NEEDS_TOKEN);
  }

  // ---------------------------------------------------------------------------
  // Sending and closing

  private send(message: object): void {
    this.sendText(JSON.stringify(message));
  }

  private sendText(text: string): void {
    if (this.phase !== 'open' || this.ws.readyState !== WebSocket.OPEN) return;
    this.holdWritesUntilNextTick();
    this.ws.send(text);
    this.env.counters.messagesSent++;
    if (this.ws.bufferedAmount > this.env.limits.maxBufferedBytes) this.dropAsTooSlow();
  }

  /**
   * Everything sent to this client within one event-loop turn leaves in one
   * socket write: a fan-out of many transitions would otherwise cost a write
   * (and a syscall) per message per client. Frames stay separate and in order.
   */
  private holdWritesUntilNextTick(): void {
    if (this.writesHeld) return;
    const socket = (this.ws as unknown as { _socket?: import('node:net').Socket })._socket;
    if (!socket) return;
    this.writesHeld = true;
    socket.cork();
    setImmediate(() => {
      this.writesHeld = false;
      socket.uncork();
    });
  }

  /** The client cannot keep up: cut it off rather than let its backlog grow in this process. */
  private dropAsTooSlow(): void {
    this.env.counters.droppedSlowClients++;
    this.env.host.limits.hit({
      limit: 'gatewayMaxBufferedBytes',
      offender: `gateway client ${this.opening.remoteAddress}`,
      value: this.env.limits.maxBufferedBytes,
      action: 'gateway client too slow: closed with 1013',
      detail: { client: this.opening.remoteAddress, bufferedBytes: this.ws.bufferedAmount },
    });
    this.closeWith(CloseCode.TRY_AGAIN_LATER, 'too slow: outgoing buffer over gatewayMaxBufferedBytes');
  }

  private closeWith(code: number, reason: string): void {
    if (this.phase !== 'open') return;
    this.phase = 'closing';
    this.release();
    // The close frame queues behind what is buffered; a peer that never reads it is cut off by the next probe.
    this.ws.close(code, truncateReason(reason));
  }

  private socketFailed(err: Error & { code?: string }): void {
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      // ws closes the connection with 1009 itself.
      this.env.counters.oversizedMessages++;
      this.env.host.limits.hit({
        limit: 'gatewayMaxMessageBytes',
        offender: `gateway client ${peerOf(this.opening.remoteAddress)}`,
        value: this.env.limits.maxMessageBytes,
        action: 'gateway message too big: closed with 1009',
        detail: { client: this.opening.remoteAddress },
      });
      return;
    }
    this.env.host.logger.debug({ err, client: this.opening.remoteAddress }, 'gateway socket error');
  }

  private socketClosed(): void {
    this.phase = 'closed';
    this.release();
    this.onClosed(this);
    this.markClosed();
  }

  /** The connection is over as far as the name server is concerned: stop streaming, drop its brokers. */
  private release(): void {
    if (this.released) return;
    this.released = true;
    this.env.stream.detach(this);
    // Not from inside whatever is sending to this client (a route table
    // listener, an actor transition): removing a broker there would publish
    // its changes in the middle of the publication that caused this.
    queueMicrotask(() => this.env.host.connectionClosed(this.connectionId));
  }
}

/** A close reason may take at most 123 bytes. */
function truncateReason(reason: string): string {
  let out = reason;
  while (Buffer.byteLength(out, 'utf8') > 123) out = out.slice(0, -1);
  return out;
}

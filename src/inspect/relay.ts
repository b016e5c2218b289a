import { wsMessageText } from '../util/wsText.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

/** One inspection message as it arrived: the parsed object and its original text. */
export interface RelayedMessage {
  message: { type: string; sessionId?: unknown; [key: string]: unknown };
  text: string;
}

export type RelayClientEvent =
  | { type: 'connected'; client: string }
  | { type: 'disconnected'; client: string; role: 'inspector' | 'receiver'; messages: number }
  | { type: 'ignored'; client: string; why: string };

export interface InspectorRelayOptions {
  host: string;
  port: number;
  onMessage?: (relayed: RelayedMessage) => void;
  onClient?: (event: RelayClientEvent) => void;
  /** Recent events and snapshots replayed to each new client. */
  replayRecent?: number;
  /** Actor announcements replayed to each new client, so a late receiver still knows every actor. */
  replayActors?: number;
  /** A receiver with more than this many bytes unsent misses messages until it catches up. */
  maxBufferedBytes?: number;
}

const PLAIN_ANSWER =
  'xnamesrv inspector relay: connect with a WebSocket.\n' +
  'Name servers send with --inspect ws://HOST:PORT; receivers (e.g. createWebSocketReceiver from @statelyai/inspect) get every message.\n';

/**
 * A WebSocket relay between inspectors (name servers started with
 * `--inspect`) and receivers (anything that wants to watch). A client that
 * sends an inspection message is an inspector; each such message goes to
 * every client that has not sent one. Messages that are not inspection
 * events are dropped, so a stray client cannot feed garbage to receivers.
 */
export class InspectorRelay {
  private readonly inspectors = new WeakSet<WebSocket>();
  private readonly recent: string[] = [];
  private readonly actors = new Map<string, string>();

  private constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    private readonly options: InspectorRelayOptions,
  ) {
    wss.on('connection', (ws, request) =>
      this.accept(ws, `${request.socket.remoteAddress}:${request.socket.remotePort}`),
    );
  }

  static listen(options: InspectorRelayOptions): Promise<InspectorRelay> {
    const http = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(PLAIN_ANSWER);
    });
    const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });
    const relay = new InspectorRelay(http, wss, options);
    return new Promise((resolve, reject) => {
      http.once('error', reject);
      http.listen(options.port, options.host, () => {
        http.off('error', reject);
        resolve(relay);
      });
    });
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  /** Ends every client connection and stops listening. */
  close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    return new Promise((resolve) => {
      this.wss.close(() => this.http.close(() => resolve()));
    });
  }

  private accept(ws: WebSocket, client: string): void {
    this.options.onClient?.({ type: 'connected', client });
    for (const text of [...this.actors.values(), ...this.recent]) ws.send(text);
    let messages = 0;
    let warnedIgnored = false;
    // Protocol errors from a client end that client only.
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      this.options.onClient?.({
        type: 'disconnected',
        client,
        role: this.inspectors.has(ws) ? 'inspector' : 'receiver',
        messages,
      });
    });
    ws.on('message', (data, isBinary) => {
      const relayed = isBinary ? undefined : parseInspectionMessage(wsMessageText(data));
      if (!relayed) {
        if (!warnedIgnored) this.options.onClient?.({ type: 'ignored', client, why: 'not an inspection event' });
        warnedIgnored = true;
        return;
      }
      messages++;
      this.inspectors.add(ws);
      this.remember(relayed);
      this.forward(ws, relayed.text);
      this.options.onMessage?.(relayed);
    });
  }

  private forward(from: WebSocket, text: string): void {
    const limit = this.options.maxBufferedBytes ?? 8 * 1024 * 1024;
    for (const client of this.wss.clients) {
      if (client === from || this.inspectors.has(client) || client.readyState !== WebSocket.OPEN) continue;
      if (client.bufferedAmount > limit) continue;
      client.send(text);
    }
  }

  private remember({ message, text }: RelayedMessage): void {
    if (message.type === '@xstate.actor' && typeof message.sessionId === 'string') {
      this.actors.delete(message.sessionId);
      this.actors.set(message.sessionId, text);
      if (this.actors.size > (this.options.replayActors ?? 1000)) this.actors.delete(this.actors.keys().next().value!);
      return;
    }
    this.recent.push(text);
    if (this.recent.length > (this.options.replayRecent ?? 500)) this.recent.shift();
  }
}

function parseInspectionMessage(text: string): RelayedMessage | undefined {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null) return undefined;
  const type = (message as { type?: unknown }).type;
  if (typeof type !== 'string' || !type.startsWith('@xstate.')) return undefined;
  return { message: message as RelayedMessage['message'], text };
}

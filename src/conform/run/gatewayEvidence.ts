import { wsMessageText } from '../../util/wsText.js';
import { WebSocket } from 'ws';

/**
 * Extra evidence from the /ws gateway of a target that has one (xnamesrv's,
 * docs/gateway.md): the lifecycle as the server itself describes it, asked
 * with the read-only `getLifecycle` op. Like /readyz, believed only when it
 * answers; a target without a gateway says nothing either way.
 */
export interface GatewayLifecycle {
  /** Dotted state, `waiting.holding`. */
  detail: string;
  servingRoutes: boolean;
}

const ANSWER_TIMEOUT_MS = 3_000;

export class GatewayEvidence {
  private socket: WebSocket | undefined;
  private opening: Promise<WebSocket | undefined> | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, (result: GatewayLifecycle | undefined) => void>();

  constructor(private readonly url: string) {}

  /** The server's own account of its lifecycle, or undefined when the gateway does not answer. */
  async lifecycle(): Promise<GatewayLifecycle | undefined> {
    const socket = await this.open();
    if (!socket) return undefined;
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(undefined);
      }, ANSWER_TIMEOUT_MS);
      this.waiting.set(id, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      socket.send(JSON.stringify({ op: 'getLifecycle', id }));
    });
  }

  close(): void {
    this.socket?.terminate();
    this.socket = undefined;
    for (const resolve of this.waiting.values()) resolve(undefined);
    this.waiting.clear();
  }

  private open(): Promise<WebSocket | undefined> {
    if (this.socket?.readyState === WebSocket.OPEN) return Promise.resolve(this.socket);
    this.opening ??= new Promise<WebSocket | undefined>((resolve) => {
      const socket = new WebSocket(this.url, { handshakeTimeout: ANSWER_TIMEOUT_MS });
      socket.on('message', (data) => this.received(wsMessageText(data)));
      socket.once('open', () => {
        this.socket = socket;
        resolve(socket);
      });
      socket.once('error', () => resolve(undefined));
      socket.once('close', () => {
        if (this.socket === socket) this.socket = undefined;
        resolve(undefined);
      });
    }).finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private received(text: string): void {
    let message: { type?: string; id?: number; result?: { detail?: unknown; servingRoutes?: unknown } };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      return;
    }
    if (message.type !== 'response' || typeof message.id !== 'number') return;
    const resolve = this.waiting.get(message.id);
    if (!resolve) return;
    this.waiting.delete(message.id);
    const result = message.result;
    resolve(
      typeof result?.detail === 'string' && typeof result.servingRoutes === 'boolean'
        ? { detail: result.detail, servingRoutes: result.servingRoutes }
        : undefined,
    );
  }
}

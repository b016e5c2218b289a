import { wsMessageText } from '../../src/util/wsText.js';
import { WebSocket } from 'ws';
import { within } from './wait.js';

export type GatewayMessage = Record<string, any>;

/**
 * A WebSocket client of the gateway (ws://127.0.0.1:<httpPort>/ws, see
 * docs/gateway.md) that records every message. Waits are on messages, bounded
 * by event-loop turns, never by time.
 */
export class GatewayWs {
  readonly messages: GatewayMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  hello!: GatewayMessage;
  private closedWith: { code: number; reason: string } | undefined;
  private nextId = 1;
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(wsMessageText(data)));
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        this.closedWith = { code, reason: reason.toString() };
        resolve(this.closedWith);
        this.wake();
      }),
    );
    ws.on('error', () => undefined);
  }

  /** Connects and waits for the `hello`. */
  static async open(port: number, query = ''): Promise<GatewayWs> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws${query}`);
    const client = new GatewayWs(ws);
    await within(
      new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('unexpected-response', (_req, res) =>
          reject(new Error(`gateway upgrade refused: HTTP ${res.statusCode}`)),
        );
        ws.once('error', reject);
      }),
      'the gateway WebSocket to open',
    );
    client.hello = await client.waitFor((m) => m.type === 'hello', 'the gateway hello');
    return client;
  }

  get isOpen(): boolean {
    return this.closedWith === undefined && this.ws.readyState === WebSocket.OPEN;
  }

  /** Stream `transition` messages received so far. */
  transitions(): GatewayMessage[] {
    return this.messages.filter((m) => m.type === 'transition');
  }

  /** Sends an op and resolves with its response or error message. */
  async request(op: string, fields: Record<string, unknown> = {}): Promise<GatewayMessage> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ op, id, ...fields }));
    return this.waitFor(
      (m) => (m.type === 'response' || m.type === 'error') && m.id === id,
      `the gateway's answer to ${op} #${id}`,
    );
  }

  /** Everything the server streamed before answering this ping has arrived. */
  async barrier(): Promise<void> {
    const answer = await this.request('ping');
    if (answer.type !== 'response') throw new Error(`gateway ping failed: ${JSON.stringify(answer)}`);
  }

  close(): Promise<unknown> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    this.ws.close();
    return within(this.closed, 'the gateway WebSocket to close');
  }

  private waitFor(predicate: (m: GatewayMessage) => boolean, what: string): Promise<GatewayMessage> {
    const found = () => this.messages.find(predicate);
    return within(
      new Promise<GatewayMessage>((resolve, reject) => {
        const check = () => {
          const message = found();
          if (message) {
            this.waiters.delete(check);
            resolve(message);
          } else if (this.closedWith) {
            this.waiters.delete(check);
            reject(new Error(`gateway closed (${this.closedWith.code} ${this.closedWith.reason}) before ${what}`));
          }
        };
        this.waiters.add(check);
        check();
      }),
      what,
    );
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

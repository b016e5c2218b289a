import { wsMessageText } from '../../src/util/wsText.js';
import { afterEach } from 'vitest';
import { WebSocket } from 'ws';
import { startTestServer, type TestServer } from '../support/harness.js';
import { WAIT_MS } from '../support/wait.js';

export type Message = Record<string, any>;

export interface ConnectOptions {
  query?: Record<string, string | number>;
  token?: string;
  /** Leave pongs to the test (a dead peer never answers). */
  autoPong?: boolean;
}

/**
 * A real `ws` client that records every message. Tests wait on messages and
 * events, never on time.
 */
export class GatewayClient {
  readonly messages: Message[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private cursor = 0;
  private nextId = 1;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(wsMessageText(data)));
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.on('error', () => undefined);
  }

  static connect(port: number, options: ConnectOptions = {}): Promise<GatewayClient> {
    const ws = new WebSocket(urlOf(port, options.query), {
      headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` },
      autoPong: options.autoPong ?? true,
    });
    const client = new GatewayClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  /** Connects and consumes the hello. */
  static async open(port: number, options: ConnectOptions = {}): Promise<{ client: GatewayClient; hello: Message }> {
    const client = await GatewayClient.connect(port, options);
    const hello = await client.next();
    if (hello.type !== 'hello') throw new Error(`expected hello, got ${JSON.stringify(hello)}`);
    return { client, hello };
  }

  /** The next message not consumed yet. */
  next(): Promise<Message> {
    return this.waitFor(() => true);
  }

  /** Consumes messages up to and including the first that matches. */
  async waitFor(predicate: (message: Message) => boolean, what = 'a matching message'): Promise<Message> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      while (this.cursor < this.messages.length) {
        const message = this.messages[this.cursor++]!;
        if (predicate(message)) return message;
      }
      await this.changed(deadline, what);
    }
  }

  /** Consumes the next `count` messages. */
  async take(count: number): Promise<Message[]> {
    const out: Message[] = [];
    while (out.length < count) out.push(await this.next());
    return out;
  }

  /**
   * Everything the server sent before answering this ping has arrived: a
   * barrier for asserting that some message did NOT come.
   */
  async barrier(): Promise<void> {
    const answer = await this.request('ping');
    if (answer.type !== 'response') throw new Error(`ping failed: ${JSON.stringify(answer)}`);
  }

  /** Messages received but not consumed. */
  pending(): Message[] {
    return this.messages.slice(this.cursor);
  }

  /** Sends an op with a fresh id and waits for its response or error. */
  async request(op: string, fields: Record<string, unknown> = {}): Promise<Message> {
    const id = this.nextId++;
    this.send({ op, id, ...fields });
    return this.waitFor(
      (m) => (m.type === 'response' || m.type === 'error') && m.id === id,
      `the answer to ${op} #${id}`,
    );
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  close(): Promise<unknown> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    this.ws.close();
    return this.closed;
  }

  private changed(deadline: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`timed out waiting for ${what}; pending: ${JSON.stringify(this.pending()).slice(0, 500)}`)),
        Math.max(0, deadline - Date.now()),
      );
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push(wake);
      void this.closed.then(wake);
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

export function urlOf(port: number, query: Record<string, string | number> = {}): string {
  const params = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
  const text = params.toString();
  return `ws://127.0.0.1:${port}/ws${text ? `?${text}` : ''}`;
}

/** An upgrade the gateway refuses: its HTTP status and body. */
export function refusedUpgrade(
  port: number,
  options: ConnectOptions & { headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string }> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const ws = new WebSocket(urlOf(port, options.query), { headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('upgrade was accepted'));
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', () => undefined);
  });
}

/** open() for gateway clients of `t`, and a stop() that closes them all before the server. */
export function trackedGatewayClients(t: TestServer): Pick<GatewayTestServer, 'open' | 'stop'> {
  const clients: GatewayClient[] = [];
  return {
    async open(options?: ConnectOptions) {
      const opened = await GatewayClient.open(t.server.httpPort, options);
      clients.push(opened.client);
      return opened;
    },
    async stop() {
      for (const client of clients) client.ws.terminate();
      await t.stop();
    },
  };
}

export interface GatewayTestServer extends TestServer {
  port: number;
  /** Opens a gateway client; all are closed by stop(). */
  open(options?: ConnectOptions): Promise<{ client: GatewayClient; hello: Message }>;
}

/**
 * A test server whose pings never fire unless a test says so: a simulated
 * clock jumps past many ping periods at once, faster than any real pong.
 */
export async function startGatewayServer(
  settings: Record<string, string | number | boolean | string[]> = {},
): Promise<GatewayTestServer> {
  const t = await startTestServer({ gatewayPingIntervalSeconds: 86_400, ...settings });
  return { ...t, port: t.server.httpPort, ...trackedGatewayClients(t) };
}

/**
 * One gateway server per test, stopped after it. A test that stops its server
 * itself calls `forget()` so it is not stopped twice.
 */
export function gatewayServerPerTest() {
  let current: GatewayTestServer | undefined;
  afterEach(async () => {
    await current?.stop();
    current = undefined;
  });
  return {
    start: async (settings: Record<string, string | number | boolean | string[]> = {}) =>
      (current = await startGatewayServer(settings)),
    forget: () => {
      current = undefined;
    },
  };
}

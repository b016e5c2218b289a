import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import { encodeCommand } from '../../src/protocol/frameCodec.js';
import { createRequest, SerializeType, type RemotingCommand } from '../../src/remoting/command.js';
import { FrameDecoder } from '../../src/remoting/frameDecoder.js';
import { ResponseCode } from '../../src/remoting/requestCode.js';

/** Long enough that nothing here fails on a loaded machine, short enough that a hang fails fast. */
export const WAIT_MS = 5_000;

/** The fixed seed every property test here runs with: failures reproduce. */
export const SEED = 20_260_101;

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A pino logger that keeps every line (parsed) and its raw text. */
export function capturingLogger(level = 'trace'): { logger: Logger; lines: LogLine[]; text: () => string } {
  const raw: string[] = [];
  const lines: LogLine[] = [];
  const logger = pino(
    { level },
    {
      write: (line: string) => {
        raw.push(line);
        lines.push(JSON.parse(line) as LogLine);
      },
    },
  );
  return { logger, lines, text: () => raw.join('') };
}

export const LEVEL = { warn: 40, error: 50, fatal: 60 } as const;

/** Every response code the server may answer with. */
export const KNOWN_RESPONSE_CODES = new Set<number>(Object.values(ResponseCode));

/** Waits, turn by turn of the event loop, until `condition` holds. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = WAIT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * A bare TCP peer for what a well-behaved client cannot do: raw bytes out,
 * decoded frames in, and whether the server closed the connection.
 */
export class RawPeer {
  readonly frames: RemotingCommand[] = [];
  /** Resolves when the socket is closed, by either side. */
  readonly closed: Promise<void>;
  /** True once the server ended or reset the connection without us ending it first. */
  closedByServer = false;
  private endedByUs = false;
  private readonly decoder = new FrameDecoder(64 * 1024 * 1024);
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      const result = this.decoder.push(chunk);
      this.frames.push(...result.frames);
      this.wake();
    });
    socket.on('end', () => {
      if (!this.endedByUs) this.closedByServer = true;
    });
    socket.on('error', () => {
      if (!this.endedByUs) this.closedByServer = true;
    });
    this.closed = once(socket, 'close').then(() => {
      if (!this.endedByUs) this.closedByServer = true;
      this.wake();
    });
  }

  static open(port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, noDelay: true });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawPeer(socket));
      });
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.socket.destroyed || this.socket.readyState === 'closed';
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Half-closes our side; the server then closes its side. */
  end(): void {
    this.endedByUs = true;
    this.socket.end();
  }

  destroy(): void {
    this.endedByUs = true;
    this.socket.destroy();
  }

  /** Resolves once `count` frames arrived or the connection closed, whichever is first. */
  async waitForFrames(count: number, timeoutMs = WAIT_MS): Promise<RemotingCommand[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < count && !this.isClosed) {
      await this.changed(deadline, `${count} frames (have ${this.frames.length})`);
    }
    return this.frames;
  }

  /** Resolves once the connection is closed. */
  async waitForClose(timeoutMs = WAIT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out waiting for the connection to close')), timeoutMs);
    });
    try {
      await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private changed(deadline: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${what}`)),
        Math.max(0, deadline - Date.now()),
      );
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** A frame with the given prefix words and whatever follows them (lengths need not be true). */
export function rawFrame(totalLength: number, typeAndHeaderLength: number, rest: Buffer = Buffer.alloc(0)): Buffer {
  const prefix = Buffer.alloc(8);
  prefix.writeInt32BE(totalLength | 0, 0);
  prefix.writeUInt32BE(typeAndHeaderLength >>> 0, 4);
  return Buffer.concat([prefix, rest]);
}

/** A JSON-header frame whose header is this exact text (valid JSON or not). */
export function jsonHeaderFrame(header: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const bytes = Buffer.from(header, 'utf8');
  return rawFrame(
    4 + bytes.length + body.length,
    (SerializeType.JSON << 24) | bytes.length,
    Buffer.concat([bytes, body]),
  );
}

export function requestFrame(
  code: number,
  extFields: Record<string, string> | null,
  body: Buffer | null,
  opaque: number,
  serializeType = SerializeType.JSON,
): Buffer {
  return encodeCommand(createRequest(code, extFields, body, { opaque, serializeType }));
}

// ---------------------------------------------------------------------------
// The real command line, as an operator runs it.

export const MAIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

export interface CliServer {
  child: ChildProcess;
  remotingPort: number;
  httpPort: number;
  stderr(): string;
  /** Exit code and signal, once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `node dist/src/cli/main.js` with these arguments and resolves once it
 * printed the ports it listens on (the line `remoting on <host>:<port>, http on <host>:<port>`,
 * on stdout: stderr carries only log lines).
 */
export function startCli(args: string[], env: Record<string, string> = {}): Promise<CliServer> {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  return new Promise((resolve, reject) => {
    let started = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`xnamesrv did not start: ${stderr}`));
    }, 15_000);
    let stdout = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /remoting on [^\n]*:(\d+), http on [^\n]*:(\d+)/.exec(stdout);
      if (match && !started) {
        started = true;
        clearTimeout(timer);
        resolve({ child, remotingPort: Number(match[1]), httpPort: Number(match[2]), stderr: () => stderr, exited });
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`xnamesrv exited (${code ?? signal}) before listening: ${stderr}`));
    });
  });
}

/** Fixed seed and a bounded budget; FC_SEED / FC_RUNS explore further. */
export function runs(numRuns: number): { seed: number; numRuns: number } {
  return { seed: Number(process.env.FC_SEED ?? SEED), numRuns: Number(process.env.FC_RUNS ?? numRuns) };
}

// ---------------------------------------------------------------------------
// A name server with a gateway, a captured log, and gateway clients closed at stop.

import { trackedGatewayClients, type ConnectOptions, type GatewayClient, type Message } from '../gateway/support.js';
import { startTestServer, type TestServer } from '../support/harness.js';

export interface ObservedServer extends TestServer {
  lines: LogLine[];
  logText(): string;
  /** Opens a gateway client (pings effectively off); all are closed by stop(). */
  open(options?: ConnectOptions): Promise<{ client: GatewayClient; hello: Message }>;
}

export async function startObservedServer(
  settings: Record<string, string | number | boolean | string[]> = {},
  options: {
    level?: string;
    dataDir?: string;
    logger?: Logger;
    lines?: LogLine[];
    kvWriteFile?: (path: string, data: string) => Promise<void>;
  } = {},
): Promise<ObservedServer> {
  const captured = capturingLogger(options.level ?? 'info');
  const logger = options.logger ?? captured.logger;
  const t = await startTestServer(
    { gatewayPingIntervalSeconds: 86_400, ...settings },
    {
      logger,
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      ...(options.kvWriteFile ? { kvWriteFile: options.kvWriteFile } : {}),
    },
  );
  return {
    ...t,
    lines: options.lines ?? captured.lines,
    logText: captured.text,
    ...trackedGatewayClients(t),
  };
}

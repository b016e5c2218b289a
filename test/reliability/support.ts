import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { ResponseCode } from '../../src/remoting/requestCode.js';
import { capturingLogger, type LogLine } from '../support/logCapture.js';

// test/tls still imports these from here.
export { capturingLogger, LEVEL, type LogLine } from '../support/logCapture.js';
export { jsonHeaderFrame, rawFrame, RawPeer, requestFrame } from '../support/rawPeer.js';
export { until, WAIT_MS } from '../support/wait.js';

/** The fixed seed every property test here runs with: failures reproduce. */
export const SEED = 20_260_101;

/** Every response code the server may answer with. */
export const KNOWN_RESPONSE_CODES = new Set<number>(Object.values(ResponseCode));

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

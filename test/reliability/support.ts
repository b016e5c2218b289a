import type { Logger } from 'pino';
import { ResponseCode } from '../../src/remoting/requestCode.js';
import { trackedGatewayClients, type ConnectOptions, type GatewayClient, type Message } from '../gateway/support.js';
import { startTestServer, type TestServer } from '../support/harness.js';
import { capturingLogger, type LogLine } from '../support/logCapture.js';
import { propertyRuns } from '../support/propertyRuns.js';

/** The fixed seed every property test here runs with: failures reproduce. */
export const SEED = 20_260_101;

/** Every response code the server may answer with. */
export const KNOWN_RESPONSE_CODES = new Set<number>(Object.values(ResponseCode));

/** Everything a client could change, as one comparable text: routes, brokers, KV, configuration. */
export function serverState(t: TestServer): string {
  const s = t.server;
  const kv = Object.fromEntries(
    s.kv
      .namespaces()
      .sort()
      .map((ns) => [ns, s.kv.getKVListByNamespace(ns)]),
  );
  return JSON.stringify({ routes: s.routes.dump(), brokers: s.brokerSnapshots(), kv, config: s.config.get() });
}

/** This suite's seed and a bounded budget. */
export function runs(numRuns: number): { seed: number; numRuns: number } {
  return propertyRuns(numRuns, SEED);
}

/** A name server with a gateway, a captured log, and gateway clients closed at stop. */
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

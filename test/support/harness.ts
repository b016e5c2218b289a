import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedClock } from 'xstate';
import { loadConfig } from '../../src/config/load.js';
import type { ServerClock } from '../../src/clock.js';
import { NameServer } from '../../src/nameServer.js';
import { silentLogger, type Logger } from '../../src/logging.js';
import { RemotingClient } from '../../src/remoting/client.js';

export interface TestServer {
  server: NameServer;
  clock: SimulatedClock & ServerClock;
  dataDir: string;
  client(): Promise<RemotingClient>;
  /** Fetch from the HTTP port: status and parsed JSON (or text). */
  http(path: string): Promise<{ status: number; body: any; text: string }>;
  stop(): Promise<void>;
}

async function compiledNameServer(): Promise<typeof NameServer> {
  const url = new URL('../../dist/src/nameServer.js', import.meta.url);
  const module = (await import(url.href)) as { NameServer: typeof NameServer };
  return module.NameServer;
}

/**
 * A real name server on 127.0.0.1 with ephemeral ports, its own data
 * directory and a simulated clock. Settings go through the same validation as
 * command-line flags.
 */
export async function startTestServer(
  settings: Record<string, string | number | boolean | string[]> = {},
  options: {
    dataDir?: string;
    inspectUrl?: string;
    logger?: Logger;
    kvWriteFile?: (path: string, data: string) => Promise<void>;
    /**
     * Run the compiled server in dist/ (built by `npm test`'s tsc step). Large
     * register bodies are decoded on worker threads only there: the worker
     * script exists only as JavaScript.
     */
    compiled?: boolean;
  } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'xnamesrv-test-')));
  const argv = ['--data-dir', dataDir, '--listenPort', '0', '--httpPort', '0', '--bindAddress', '127.0.0.1'];
  for (const [key, value] of Object.entries(settings))
    argv.push(`--${key}`, Array.isArray(value) ? value.join(',') : String(value));
  const loaded = loadConfig({ argv, env: {}, homeDir: dataDir });
  if (!loaded.ok) throw new Error(`bad test config: ${loaded.errors.join('; ')}`);
  const clock = new SimulatedClock() as SimulatedClock & ServerClock;
  // Start the simulated clock at a realistic epoch so timestamps look like times.
  clock.set(Date.UTC(2026, 0, 1));
  const implementation: typeof NameServer = options.compiled ? await compiledNameServer() : NameServer;
  const server = await implementation.start({
    config: loaded.config,
    logger: options.logger ?? silentLogger(),
    clock,
    inspectUrl: options.inspectUrl,
    ...(options.kvWriteFile ? { kvWriteFile: options.kvWriteFile } : {}),
  });
  const clients: RemotingClient[] = [];
  return {
    server,
    clock,
    dataDir,
    async client() {
      const client = await RemotingClient.connect({ host: '127.0.0.1', port: server.remotingPort });
      clients.push(client);
      return client;
    },
    async http(path: string) {
      const res = await fetch(`http://127.0.0.1:${server.httpPort}${path}`);
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body, text };
    },
    async stop() {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await server.close('test finished');
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

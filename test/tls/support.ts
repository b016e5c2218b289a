import { afterEach } from 'vitest';
import { connect as connectTls, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import { capturingLogger, type LogLine } from '../support/logCapture.js';
import { startTestServer, type TestServer } from '../support/harness.js';

export { capturingLogger, type LogLine } from '../support/logCapture.js';
export { until, WAIT_MS } from '../support/wait.js';

export interface LoggedServer {
  t: TestServer;
  lines: LogLine[];
}

/** A test server whose log lines are kept; tls.config.file off, so no machine's /etc/rocketmq/tls.properties leaks in. */
export async function startLogged(settings: Record<string, string | number | boolean>): Promise<LoggedServer> {
  const { logger, lines } = capturingLogger('debug');
  const t = await startTestServer({ 'tls.config.file': '', ...settings }, { logger });
  return { t, lines };
}

/**
 * Connects (over TLS when `tls` is given), asks GET_BROKER_CLUSTER_INFO and
 * says whether it was answered. Any failure, at connect or after, is a refusal.
 */
export async function served(port: number, tls?: boolean | ConnectionOptions): Promise<boolean> {
  let client: RemotingClient | undefined;
  try {
    client = await RemotingClient.connect({
      host: '127.0.0.1',
      port,
      connectTimeoutMs: 3_000,
      ...(tls !== undefined ? { tls } : {}),
    });
    const response = await client.invoke(RequestCode.GET_BROKER_CLUSTER_INFO, null, null, 3_000);
    return response.code === ResponseCode.SUCCESS;
  } catch {
    return false;
  } finally {
    await client?.close().catch(() => undefined);
  }
}

/** The certificate a TLS server on `port` presents to a new connection. */
export function serverCertificate(port: number): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const certificate = socket.getPeerCertificate();
      socket.destroy();
      resolve(certificate);
    });
    socket.once('error', reject);
  });
}

/** The value of one series in a /metrics scrape, e.g. `xnamesrv_tls_refused_connections_total{port="remoting",reason="tlsDisabled"}`. */
export function seriesValue(scrape: string, series: string): number | undefined {
  for (const line of scrape.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

/** Log lines whose message contains `text`. */
export function logged(lines: LogLine[], text: string): LogLine[] {
  return lines.filter((line) => line.msg.includes(text));
}

/**
 * A start function for one test file: each server it starts, with its log
 * captured, is stopped after the test that started it.
 */
export function serversStoppedAfterEach(): (
  settings: Record<string, string | number | boolean>,
) => Promise<LoggedServer> {
  const running: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((t) => t.stop()));
  });
  return async (settings) => {
    const logged = await startLogged(settings);
    running.push(logged.t);
    return logged;
  };
}

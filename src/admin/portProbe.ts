import { connect } from 'node:net';
import { parseProperties } from '../config/properties.js';
import { RemotingClient, RemotingConnectionClosedError } from '../remoting/client.js';
import { RequestCode, ResponseCode } from '../remoting/requestCode.js';
import type { HostPort } from './address.js';

/**
 * Which protocol a port speaks, asked only after a connection failed in a
 * way a wrong port explains: the remoting client got no answer from an HTTP
 * port (xnamesrv's HTTP server drops a connection that is not HTTP without a
 * word; others answer 400), and the gateway's WebSocket handshake got no
 * answer from a remoting port. A second, short connection asks in the
 * protocol the port is suspected to speak; nothing in the remoting client or
 * the servers has to change for it.
 */

export const DEFAULT_LISTEN_PORT = 9876;
export const DEFAULT_HTTP_PORT = 9877;

/** How `host:port` is written in a URL (IPv6 hosts in brackets). */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** A failure after the TCP connection was made (closed, reset, garbage): not refused, unknown host or connect timeout. */
export function failedAfterConnecting(err: unknown): boolean {
  if (err instanceof RemotingConnectionClosedError) return !/^connect to .* timed out/.test(err.message);
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

/** True when `addr` answers a plain HTTP request with an HTTP status line. */
export function answersHttp(addr: HostPort, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let received = '';
    let settled = false;
    const socket = connect({ host: addr.host, port: addr.port });
    const finish = (value: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('connect', () => {
      socket.write(`GET /livez HTTP/1.1\r\nHost: ${urlHost(addr.host)}:${addr.port}\r\nConnection: close\r\n\r\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.length >= 8) finish(/^HTTP\/\d/.test(received));
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(/^HTTP\/\d/.test(received)));
  });
}

export type RemotingAnswer =
  | { remoting: false }
  /** It answered GET_NAMESRV_CONFIG; httpPort when its configuration has a usable one (xnamesrv; not the Java name server). */
  | { remoting: true; httpPort?: number; configuredHttpPort?: string };

/** Asks `addr` for its configuration over the remoting protocol. */
export async function askRemoting(addr: HostPort, timeoutMs: number): Promise<RemotingAnswer> {
  let client: RemotingClient;
  try {
    client = await RemotingClient.connect({ host: addr.host, port: addr.port, connectTimeoutMs: timeoutMs });
  } catch {
    return { remoting: false };
  }
  try {
    const response = await client.invoke(RequestCode.GET_NAMESRV_CONFIG, null, null, timeoutMs);
    if (response.code !== ResponseCode.SUCCESS) return { remoting: true };
    return { remoting: true, ...httpPortOf(response.body?.toString('utf8') ?? '') };
  } catch {
    return { remoting: false };
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** The httpPort key of GET_NAMESRV_CONFIG's properties text: a port only when it is one a client can use (not 0). */
export function httpPortOf(propertiesText: string): { httpPort?: number; configuredHttpPort?: string } {
  const parsed = parseProperties(propertiesText);
  if (!parsed.ok) return {};
  const text = parsed.values.get('httpPort')?.trim();
  if (text === undefined) return {};
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  return port >= 1 && port <= 65535 ? { httpPort: port, configuredHttpPort: text } : { configuredHttpPort: text };
}

/** What to say after `<addr>` when a remoting request went to an HTTP port. */
export const HTTP_PORT_HINT = `answered HTTP, not the remoting protocol: is that the httpPort? use the listenPort (default ${DEFAULT_LISTEN_PORT})`;

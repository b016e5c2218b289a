import { RemotingClient } from '../remoting/client.js';
import type { RemotingCommand } from '../remoting/command.js';
import { requestCodeName, responseCodeName, ResponseCode } from '../remoting/requestCode.js';
import type { HostPort } from './address.js';
import { ToolError } from './io.js';
import { answersHttp, failedAfterConnecting, HTTP_PORT_HINT } from './portProbe.js';
import { errorMessage } from '../util/errorMessage.js';

/**
 * How the admin tool talks to name servers: only the remoting protocol, so a
 * Java NameServer answers it as well as xnamesrv. Read commands ask the first
 * server that answers; write commands go to every listed server, as mqadmin
 * does for wipeWritePerm, addWritePerm, deleteTopic and updateNamesrvConfig.
 */

export interface CallOptions {
  timeoutMs: number;
  /**
   * Connect over TLS (--tls). As Java clients do by default
   * (tls.client.authServer=false), the server's certificate is not verified.
   */
  tls?: boolean;
}

/** What a plain connection closed without an answer may have met. */
const TLS_HINT = 'a name server with tls.server.mode=enforcing closes plain connections: try --tls';

/** A transport failure (not an answer): refused, timed out, closed. */
export function describeTransportError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'ECONNRESET':
      return 'connection reset';
    default:
      return errorMessage(err);
  }
}

/**
 * A transport failure in words, with its likely cause: a connection that
 * closed without an answer is checked for HTTP (an httpPort given as -n).
 */
export async function explainTransportError(
  addr: HostPort,
  err: unknown,
  options: CallOptions,
): Promise<{ error: string; http: boolean }> {
  if (failedAfterConnecting(err)) {
    if (await answersHttp(addr, options.timeoutMs)) return { error: HTTP_PORT_HINT, http: true };
    if (options.tls !== true) return { error: `${describeTransportError(err)} (${TLS_HINT})`, http: false };
  }
  return { error: describeTransportError(err), http: false };
}

/** `<addr>: answered HTTP, ...` or `<addr>: unreachable (connection refused)`, for per-server reports. */
export function unreachableText(outcome: { addr: HostPort; error: string; http?: boolean }): string {
  return outcome.http
    ? `${outcome.addr.text}: ${outcome.error}`
    : `${outcome.addr.text}: unreachable (${outcome.error})`;
}

/** Connects, runs `fn`, closes; transport errors propagate. */
export async function withConnection<T>(
  addr: HostPort,
  options: CallOptions,
  fn: (client: RemotingClient) => Promise<T>,
): Promise<T> {
  const client = await RemotingClient.connect({
    host: addr.host,
    port: addr.port,
    connectTimeoutMs: options.timeoutMs,
    ...(options.tls === true ? { tls: true } : {}),
  });
  try {
    return await fn(client);
  } finally {
    await client.close().catch(() => undefined);
  }
}

/**
 * Runs `fn` against the first name server that is reachable; a server that
 * cannot be reached (or drops the connection) passes the turn to the next.
 * Throws ToolError(2) naming every server's problem when none could be used.
 */
export async function onFirstReachable<T>(
  addrs: readonly HostPort[],
  options: CallOptions,
  fn: (client: RemotingClient, addr: HostPort) => Promise<T>,
): Promise<{ addr: HostPort; value: T }> {
  const problems: Array<{ addr: HostPort; error: string; http: boolean }> = [];
  for (const addr of addrs) {
    let value: T;
    try {
      value = await withConnection(addr, options, (client) => fn(client, addr));
    } catch (err) {
      if (err instanceof ToolError) throw err;
      problems.push({ addr, ...(await explainTransportError(addr, err, options)) });
      continue;
    }
    return { addr, value };
  }
  if (problems.length === 1 && problems[0]!.http)
    throw new ToolError(`${problems[0]!.addr.text} ${problems[0]!.error}`, 2);
  const what = addrs.length === 1 ? 'cannot reach name server' : 'no name server reachable:';
  throw new ToolError(`${what} ${problems.map((p) => `${p.addr.text} (${p.error})`).join('; ')}`, 2);
}

export type ServerOutcome =
  | { addr: HostPort; kind: 'answered'; response: RemotingCommand }
  /** http: it answered HTTP (an httpPort given for a listenPort); error says so. */
  | { addr: HostPort; kind: 'unreachable'; error: string; http?: boolean };

/** Sends one request to every server, concurrently; the outcomes keep the list's order. */
export function onEveryServer(
  addrs: readonly HostPort[],
  options: CallOptions,
  request: { code: number; extFields?: Record<string, string>; body?: Buffer },
): Promise<ServerOutcome[]> {
  return Promise.all(
    addrs.map(async (addr): Promise<ServerOutcome> => {
      try {
        const response = await withConnection(addr, options, (client) =>
          client.invoke(request.code, request.extFields ?? null, request.body ?? null, options.timeoutMs),
        );
        return { addr, kind: 'answered', response };
      } catch (err) {
        const { error, http } = await explainTransportError(addr, err, options);
        return { addr, kind: 'unreachable', error, ...(http ? { http } : {}) };
      }
    }),
  );
}

/** `TOPIC_NOT_EXIST (17): remark` */
export function describeResponse(response: RemotingCommand): string {
  // Java's remarks may hold line breaks (the route FAQ link); a report line stays one line.
  const remark = response.remark ? `: ${response.remark.replace(/\s*[\r\n]+\s*/g, ' ').trim()}` : '';
  return `${responseCodeName(response.code)} (${response.code})${remark}`;
}

/** Throws ToolError(1) unless the server answered SUCCESS. */
export function expectSuccess(addr: HostPort, code: number, response: RemotingCommand): RemotingCommand {
  if (response.code !== ResponseCode.SUCCESS) {
    throw new ToolError(`${addr.text} answered ${requestCodeName(code)} with ${describeResponse(response)}`, 1);
  }
  return response;
}

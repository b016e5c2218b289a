import { parseHostPort } from './address.js';
import type { CommandContext } from './commands.js';
import {
  answersHttp,
  askRemoting,
  DEFAULT_HTTP_PORT,
  DEFAULT_LISTEN_PORT,
  HTTP_PORT_HINT,
  urlHost,
} from './portProbe.js';

/**
 * Where `admin watch` finds the gateway (ws://<host>:<httpPort>/ws), first
 * that applies: --gateway, the XNAMESRV_GATEWAY variable, the httpPort the
 * first reachable name server of -n / NAMESRV_ADDR reports in
 * GET_NAMESRV_CONFIG (xnamesrv does; the Java name server has no such key and
 * no gateway), else the default httpPort 9877 on the first name server's
 * host. So `-n host:listenPort` is the one setting needed beside name servers
 * on other ports, as for every other admin command.
 */

export const GATEWAY_ENV = 'XNAMESRV_GATEWAY';

export interface GatewayChoice {
  url: string;
  source: 'flag' | 'env' | 'discovered' | 'default';
  /** How the URL was chosen, for an error message when it cannot be reached. */
  how: string;
}

export async function chooseGateway(ctx: CommandContext): Promise<GatewayChoice> {
  const flag = ctx.values.gateway as string | undefined;
  if (flag !== undefined) return { url: flag, source: 'flag', how: 'given as --gateway' };
  const fromEnv = ctx.env[GATEWAY_ENV]?.trim();
  if (fromEnv) return { url: fromEnv, source: 'env', how: `from ${GATEWAY_ENV}` };
  const reasons: string[] = [];
  for (const addr of ctx.addrs) {
    const answer = await askRemoting(addr, ctx.timeoutMs);
    if (!answer.remoting) {
      const http = await answersHttp(addr, ctx.timeoutMs);
      reasons.push(http ? `${addr.text} ${HTTP_PORT_HINT}` : `${addr.text} did not answer GET_NAMESRV_CONFIG`);
      continue;
    }
    if (answer.httpPort !== undefined) {
      return {
        url: gatewayUrl(addr.host, answer.httpPort),
        source: 'discovered',
        how: `the httpPort ${addr.text} reported`,
      };
    }
    reasons.push(
      answer.configuredHttpPort === undefined
        ? `${addr.text} reported no httpPort (a Java name server has none, and no gateway: watch needs xnamesrv)`
        : `${addr.text} reported httpPort=${answer.configuredHttpPort}, not a port to connect to`,
    );
    break;
  }
  return {
    url: gatewayUrl(ctx.addrs[0]!.host, ctx.defaultHttpPort),
    source: 'default',
    how: `the default httpPort ${ctx.defaultHttpPort}, because ${reasons.join('; ')}`,
  };
}

export function gatewayUrl(host: string, port: number): string {
  return `ws://${urlHost(host)}:${port}/ws`;
}

/**
 * Why a gateway URL that refused or dropped the WebSocket handshake might be
 * wrong: it may be a remoting port (a listenPort given as --gateway), whose
 * own configuration then names the right one. Undefined when there is
 * nothing more to say.
 */
export async function explainGatewayFailure(url: URL, timeoutMs: number): Promise<string | undefined> {
  const port = url.port === '' ? (url.protocol === 'wss:' ? 443 : 80) : Number(url.port);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const addr = parseHostPort(`${urlHost(host)}:${port}`);
  if (typeof addr === 'string') return undefined;
  const answer = await askRemoting(addr, timeoutMs);
  if (!answer.remoting) return undefined;
  const right =
    answer.httpPort !== undefined
      ? `its gateway is ${gatewayUrl(host, answer.httpPort)} (its httpPort)`
      : `the gateway is on the httpPort (default ${DEFAULT_HTTP_PORT})`;
  return `${addr.text} speaks the remoting protocol, not HTTP: is that the listenPort (default ${DEFAULT_LISTEN_PORT})? ${right}`;
}

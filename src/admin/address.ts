/**
 * Name server address lists as RocketMQ tools take them: `host:port`
 * entries separated by ";" (mqadmin's -n, the NAMESRV_ADDR variable).
 */

export interface HostPort {
  host: string;
  port: number;
  /** As the user wrote it (trimmed): what messages and reports show. */
  text: string;
}

export const DEFAULT_NAMESRV_ADDR = '127.0.0.1:9876';

export type AddressListResult = { ok: true; addrs: HostPort[] } | { ok: false; error: string };

/** One `host:port` (IPv6 hosts in brackets: `[::1]:9876`). */
export function parseHostPort(text: string): HostPort | string {
  const trimmed = text.trim();
  let host: string;
  let portText: string;
  const bracketed = /^\[([^\]]+)\]:(.*)$/.exec(trimmed);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2]!;
  } else {
    const colon = trimmed.lastIndexOf(':');
    if (colon < 0) return `"${trimmed}" is not host:port`;
    host = trimmed.slice(0, colon);
    portText = trimmed.slice(colon + 1);
    if (host.includes(':')) return `"${trimmed}": write an IPv6 host in brackets, e.g. [::1]:9876`;
  }
  if (host === '' || /\s/.test(host)) return `"${trimmed}" has no valid host`;
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    return `"${trimmed}" has no valid port (1-65535)`;
  }
  return { host, port: Number(portText), text: trimmed };
}

/** `host:port;host:port`, empty entries ignored (a trailing ";" is common), duplicates dropped. */
export function parseAddressList(text: string, what = 'name server address'): AddressListResult {
  const addrs: HostPort[] = [];
  const seen = new Set<string>();
  for (const part of text.split(';')) {
    if (part.trim() === '') continue;
    const parsed = parseHostPort(part);
    if (typeof parsed === 'string') return { ok: false, error: `bad ${what} ${parsed}` };
    if (seen.has(parsed.text)) continue;
    seen.add(parsed.text);
    addrs.push(parsed);
  }
  if (addrs.length === 0) return { ok: false, error: `no ${what} given (expected host:port[;host:port...])` };
  return { ok: true, addrs };
}

/** -n wins, then NAMESRV_ADDR (as for mqadmin and brokers), then 127.0.0.1:9876. */
export function nameServerListFrom(
  flag: string | undefined,
  env: Record<string, string | undefined>,
): AddressListResult {
  if (flag !== undefined) return parseAddressList(flag);
  const fromEnv = env.NAMESRV_ADDR;
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    const parsed = parseAddressList(fromEnv);
    return parsed.ok ? parsed : { ok: false, error: `${parsed.error} (from the environment variable NAMESRV_ADDR)` };
  }
  return parseAddressList(DEFAULT_NAMESRV_ADDR);
}

import type { IncomingMessage } from 'node:http';

/**
 * Whether a browser page from the request's Origin may open the gateway.
 * Browsers let any page open a WebSocket to any address, so without this a
 * page on some web site, in an operator's browser, could read an internal
 * name server through it. Allowed: requests without an Origin (tools,
 * servers), the server's own origin (its console), and the origins listed in
 * gatewayAllowedOrigins (`*` for any).
 */
export function originAllowed(request: IncomingMessage, allowedOrigins: readonly string[]): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (allowedOrigins.includes('*') || allowedOrigins.includes(origin)) return true;
  const host = request.headers.host;
  if (host === undefined) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

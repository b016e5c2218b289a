import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { TokenVerifier } from '../gateway/auth.js';
import { peerIpOf } from '../observe/limits.js';
import type { HttpAuthRefusalReason, SecurityEvents } from './securityEvents.js';

/** What stays open under httpAuthRequired: the probes an orchestrator calls, and the address server RocketMQ clients fetch without credentials. */
export function isOpenPath(path: string): boolean {
  return path === '/livez' || path === '/readyz' || path.startsWith('/rocketmq/');
}

export interface HttpRefusal {
  status: 401;
  headers: Record<string, string>;
  message: string;
}

/** Browsers answer this challenge with a password prompt; tools send `Authorization: Bearer`. */
const CHALLENGE = 'Basic realm="xnamesrv", charset="UTF-8"';

/**
 * httpAuthRequired: every request but the open paths carries gatewayToken
 * (`Authorization: Bearer <token>`, or Basic with the token as the password,
 * any user name) or comes over a TLS connection with a verified client
 * certificate. The TLS acceptor has already closed connections whose
 * certificate does not verify, so one that was presented here is trusted.
 */
export class HttpAuth {
  private readonly tokens: TokenVerifier;

  constructor(
    token: string,
    private readonly events: SecurityEvents,
  ) {
    this.tokens = new TokenVerifier(token);
  }

  /** Undefined when the request may go on; else the 401 to send. */
  check(request: IncomingMessage, path: string): HttpRefusal | undefined {
    if (isOpenPath(path)) return undefined;
    if (hasVerifiedClientCertificate(request)) return undefined;
    const header = request.headers.authorization;
    let reason: HttpAuthRefusalReason = 'missingCredentials';
    if (header !== undefined) {
      const presented = presentedToken(header);
      if (presented !== undefined && this.tokens.verify(presented.token)) {
        // The gateway reads Bearer tokens on its own and would refuse Basic as malformed.
        if (presented.scheme === 'basic') delete request.headers.authorization;
        return undefined;
      }
      reason = 'wrongCredentials';
    }
    const peer = peerIpOf(request.socket.remoteAddress);
    this.events.httpUnauthorized({
      reason,
      peer,
      message: `HTTP ${request.method ?? 'GET'} ${path} from ${peer} refused: httpAuthRequired and ${
        reason === 'missingCredentials' ? 'no credentials' : 'wrong credentials'
      }`,
      detail: { path },
    });
    return {
      status: 401,
      headers: { 'www-authenticate': CHALLENGE },
      message:
        'authentication required: send the gateway token as "Authorization: Bearer <token>" (or as a Basic password), or a client certificate',
    };
  }
}

function hasVerifiedClientCertificate(request: IncomingMessage): boolean {
  const socket = request.socket as Partial<TLSSocket>;
  if (socket.encrypted !== true || socket.authorized !== true) return false;
  const certificate = socket.getPeerCertificate?.();
  return certificate !== undefined && certificate !== null && Object.keys(certificate).length > 0;
}

function presentedToken(header: string): { scheme: 'bearer' | 'basic'; token: string } | undefined {
  const bearer = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (bearer) return { scheme: 'bearer', token: bearer[1]! };
  const basic = /^Basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { scheme: 'basic', token: decoded.slice(colon + 1) };
}

import type { Logger } from 'pino';
import type { TlsPort } from './settings.js';

/** Why a connection was closed before it could speak its protocol, as the metric label says it. */
export const TLS_REFUSAL_REASONS = [
  /** A plain connection to a port in enforcing mode. */
  'plaintextRefused',
  /** A TLS handshake to a port in disabled mode. */
  'tlsDisabled',
  /** A TLS handshake to a permissive port without a certificate. */
  'noCertificate',
  /** The handshake failed: not TLS after all, no common protocol version or cipher, a bad record. */
  'handshakeFailed',
  /** The handshake did not finish within tlsHandshakeTimeoutSeconds. */
  'handshakeTimeout',
  /** Client certificates are required and none was presented. */
  'clientCertificateMissing',
  /** A client certificate that does not chain to the trusted CAs. */
  'clientCertificateUntrusted',
] as const;
export type TlsRefusalReason = (typeof TLS_REFUSAL_REASONS)[number];

/** Why httpAuthRequired answered 401. */
export const HTTP_AUTH_REFUSAL_REASONS = ['missingCredentials', 'wrongCredentials'] as const;
export type HttpAuthRefusalReason = (typeof HTTP_AUTH_REFUSAL_REASONS)[number];

export const TLS_PORTS: readonly TlsPort[] = ['remoting', 'http'];

export interface SecurityRefusal<R extends string> {
  reason: R;
  /** The peer's IP: each is logged once per port and reason. */
  peer: string;
  /** The log line, without the once-per-peer note. */
  message: string;
  /** Extra log fields (never secrets). */
  detail?: Record<string, unknown>;
}

export interface SecurityEventsSnapshot {
  tlsRefused: Array<{ port: TlsPort; reason: TlsRefusalReason; count: number }>;
  tlsAccepted: Array<{ port: TlsPort; protocol: 'tls' | 'plain'; count: number }>;
  reloads: Array<{ port: TlsPort; result: 'success' | 'failure'; count: number }>;
  httpUnauthorized: Array<{ reason: HttpAuthRefusalReason; count: number }>;
}

/**
 * Counts the connections and requests the TLS modes and httpAuthRequired
 * refuse, and logs each refused peer once per port and reason (warn): a
 * client stuck in a reconnect loop adds to the counters, not to the log.
 * Exported by /metrics as xnamesrv_tls_refused_connections_total and
 * xnamesrv_http_unauthorized_requests_total.
 */
export class SecurityEvents {
  private readonly counts = new Map<string, number>();
  private readonly seen = new Set<string>();

  constructor(
    private readonly logger: Pick<Logger, 'warn'>,
    /** Peers remembered for once-only logging; past it the memory starts over, so a flood of peers cannot grow it. */
    private readonly maxRemembered = 10_000,
  ) {}

  tlsRefused(port: TlsPort, refusal: SecurityRefusal<TlsRefusalReason>): void {
    this.refuse(`tlsRefused|${port}|${refusal.reason}`, { port, ...refusal }, 'xnamesrv_tls_refused_connections_total');
  }

  httpUnauthorized(refusal: SecurityRefusal<HttpAuthRefusalReason>): void {
    this.refuse(`httpUnauthorized|${refusal.reason}`, refusal, 'xnamesrv_http_unauthorized_requests_total');
  }

  /** A connection accepted on a TLS-capable port, by what it spoke: shows who still uses plain before a switch to enforcing. */
  tlsAccepted(port: TlsPort, protocol: 'tls' | 'plain'): void {
    this.add(`tlsAccepted|${port}|${protocol}`);
  }

  reload(port: TlsPort, result: 'success' | 'failure'): void {
    this.add(`reload|${port}|${result}`);
  }

  snapshot(): SecurityEventsSnapshot {
    const count = (key: string) => this.counts.get(key) ?? 0;
    return {
      tlsRefused: TLS_PORTS.flatMap((port) =>
        TLS_REFUSAL_REASONS.map((reason) => ({ port, reason, count: count(`tlsRefused|${port}|${reason}`) })),
      ),
      tlsAccepted: TLS_PORTS.flatMap((port) =>
        (['tls', 'plain'] as const).map((protocol) => ({
          port,
          protocol,
          count: count(`tlsAccepted|${port}|${protocol}`),
        })),
      ),
      reloads: TLS_PORTS.flatMap((port) =>
        (['success', 'failure'] as const).map((result) => ({ port, result, count: count(`reload|${port}|${result}`) })),
      ),
      httpUnauthorized: HTTP_AUTH_REFUSAL_REASONS.map((reason) => ({
        reason,
        count: count(`httpUnauthorized|${reason}`),
      })),
    };
  }

  private add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  private refuse(key: string, refusal: SecurityRefusal<string> & { port?: TlsPort }, metric: string): void {
    this.add(key);
    const once = `${key}|${refusal.peer}`;
    if (this.seen.has(once)) return;
    if (this.seen.size >= this.maxRemembered) this.seen.clear();
    this.seen.add(once);
    this.logger.warn(
      {
        ...(refusal.port ? { port: refusal.port } : {}),
        reason: refusal.reason,
        peer: refusal.peer,
        ...refusal.detail,
      },
      `${refusal.message} (logged once per peer and reason; see ${metric})`,
    );
  }
}

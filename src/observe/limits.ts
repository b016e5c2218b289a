import type { Logger } from 'pino';

/**
 * The configurable caps, named by their configuration key, so a metric label,
 * a log line and the README row all say the same word.
 */
export const LIMIT_NAMES = [
  'remotingMaxConnections',
  'maxFrameLength',
  'remotingMaxBufferedBytes',
  'maxInFlightRequestsPerConnection',
  'httpMaxConnections',
  'gatewayMaxClients',
  'gatewayMaxSubscriptionsPerClient',
  'gatewayMaxMessageBytes',
  'gatewayMaxBufferedBytes',
  'replayBufferSize',
] as const;

export type LimitName = (typeof LIMIT_NAMES)[number];

export interface LimitHit {
  limit: LimitName;
  /**
   * Who ran into the limit: a peer IP for connection limits, a connection
   * for per-connection limits. It is logged the first time only.
   */
  offender: string;
  /** The configured value. */
  value: number;
  /** What happened, e.g. "connection closed"; ends up in the log message. */
  action: string;
  /** Extra log fields (never secrets). */
  detail?: Record<string, unknown>;
}

export interface LimitEventsOptions {
  /**
   * How many offenders are remembered per limit. When a limit has seen that
   * many, the memory starts over (so an offender may be logged again): a
   * flood of distinct peers cannot grow it without bound.
   */
  maxRememberedOffenders?: number;
}

/**
 * Counts every time a configured limit refuses something, and logs each
 * offender once per limit (a warn line naming the limit, its value and the
 * offender). The counts are exported as `xnamesrv_limit_hits_total{limit}`;
 * the log stays readable however hard a peer pushes.
 */
export class LimitEvents {
  private readonly counts = new Map<LimitName, number>(LIMIT_NAMES.map((name) => [name, 0]));
  private readonly seen = new Map<LimitName, Set<string>>();
  private readonly maxRemembered: number;

  constructor(
    private readonly logger: Pick<Logger, 'warn'>,
    options: LimitEventsOptions = {},
  ) {
    this.maxRemembered = options.maxRememberedOffenders ?? 10_000;
  }

  hit(event: LimitHit): void {
    this.counts.set(event.limit, (this.counts.get(event.limit) ?? 0) + 1);
    let seen = this.seen.get(event.limit);
    if (!seen) {
      seen = new Set();
      this.seen.set(event.limit, seen);
    }
    if (seen.has(event.offender)) return;
    if (seen.size >= this.maxRemembered) seen.clear();
    seen.add(event.offender);
    this.logger.warn(
      { limit: event.limit, value: event.value, offender: event.offender, ...event.detail },
      `limit ${event.limit}=${event.value} reached by ${event.offender}: ${event.action} (logged once per offender; see xnamesrv_limit_hits_total)`,
    );
  }

  /** Hits so far, per limit (every limit present, 0 when never hit). */
  snapshot(): Record<LimitName, number> {
    return Object.fromEntries(this.counts) as Record<LimitName, number>;
  }

  count(limit: LimitName): number {
    return this.counts.get(limit) ?? 0;
  }
}

/** The address part of "ip:port" (IPv6 included), the identity connection limits log by. */
export function peerOf(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined || remoteAddress === '') return 'unknown';
  const colon = remoteAddress.lastIndexOf(':');
  if (colon <= 0) return remoteAddress;
  const port = remoteAddress.slice(colon + 1);
  return /^\d+$/.test(port) ? remoteAddress.slice(0, colon) : remoteAddress;
}

/** An IPv4 peer of a dual-stack listener shows up IPv4-mapped (::ffff:a.b.c.d): written as a.b.c.d. */
export function unmappedIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice('::ffff:'.length) : ip;
}

/** peerOf, with an IPv4-mapped address written plain, as the log lines write peers. */
export function peerIpOf(remoteAddress: string | undefined): string {
  return unmappedIp(peerOf(remoteAddress));
}

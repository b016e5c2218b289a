import { Counter, Gauge, Registry } from 'prom-client';
import { RequestStats, registerRequestDurations } from './requestStats.js';
import type { Transition } from '../observe/transitions.js';
import { LIMIT_NAMES, type LimitName } from '../observe/limits.js';
import { registerRuntimeMetrics } from './runtimeMetrics.js';
import type { SecurityEventsSnapshot } from '../tls/securityEvents.js';
import type { CertificateExpiry } from '../tls/material.js';

export interface MetricsSource {
  lifecycleState(): string;
  /** Tags of the name server's current state (live, ready, servingRoutes, degraded). */
  lifecycleTags?(): readonly string[];
  brokerStates(): Iterable<string>;
  routeStats(): {
    topics: number;
    brokerNames: number;
    clusters: number;
    cachedRoutes: number;
    cachedRouteBytes: number;
  };
  /** Open remoting connections. */
  remotingConnections?(): number;
  /** Requests waiting for their answer, all connections together. */
  inFlightRequests?(): number;
  /** The KV store: failing now (1) or not, and failed writes so far. */
  kvStore?(): { degraded: boolean; writeFailures: number };
}

export interface GatewayMetricsSource {
  stats(): {
    clients: number;
    droppedSlowClients: number;
    messagesSent?: number;
    deadClients?: number;
    oversizedMessages?: number;
    rejectedUpgrades?: number;
  };
}

/** TLS and httpAuthRequired: refusals, accepted connections by protocol, reloads, certificate expiry. */
export interface SecurityMetricsSource {
  snapshot(): SecurityEventsSnapshot;
  /** Every configured certificate file of either port, as loaded last. */
  expiries(): readonly CertificateExpiry[];
}

export interface LimitsMetricsSource {
  snapshot(): Record<LimitName, number>;
}

const LIFECYCLE_STATES = ['starting', 'waiting', 'ready', 'timedOut', 'stopping', 'stopped', 'failed'];
const LIFECYCLE_TAGS = ['live', 'ready', 'servingRoutes', 'degraded'];

/**
 * Prometheus metrics of one name server, in a registry of its own (never
 * prom-client's global one, so several servers can share a process).
 * Request accounting sits on the hot path, so it only adds to plain numbers
 * (RequestStats); they become series when /metrics is scraped. The process's
 * runtime series are listed too, shared by every server (runtimeMetrics.ts).
 */
export class NameServerMetrics {
  readonly registry = new Registry();
  private readonly requestStats = new RequestStats();
  private readonly transitions: Counter<'machine' | 'to'>;
  private readonly protocolErrors: Counter;
  private gateway: GatewayMetricsSource | undefined;
  private limits: LimitsMetricsSource | undefined;
  private security: SecurityMetricsSource | undefined;

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    const requestStats = this.requestStats;
    new Counter({
      name: 'xnamesrv_requests_total',
      help: 'Remoting requests handled, by request code and response code',
      labelNames: ['code', 'request', 'result'],
      registers,
      collect() {
        this.reset();
        for (const { labels, value } of requestStats.requestCounts()) this.inc(labels, value);
      },
    });
    registerRequestDurations(this.registry, requestStats);
    this.transitions = new Counter({
      name: 'xnamesrv_transitions_total',
      help: 'Actor state transitions, by machine and target state',
      labelNames: ['machine', 'to'],
      registers,
    });
    new Gauge({
      name: 'xnamesrv_lifecycle_state',
      help: 'The name server lifecycle state (1 for the current state)',
      labelNames: ['state'],
      registers,
      collect() {
        const current = source.lifecycleState();
        for (const state of LIFECYCLE_STATES) this.set({ state }, state === current ? 1 : 0);
      },
    });
    if (source.lifecycleTags) {
      const tagsOf = () => source.lifecycleTags?.() ?? [];
      new Gauge({
        name: 'xnamesrv_lifecycle_tag',
        help: "Tags of the name server's current state (1 when it has the tag): live, ready, servingRoutes, degraded",
        labelNames: ['tag'],
        registers,
        collect() {
          const current = tagsOf();
          for (const tag of LIFECYCLE_TAGS) this.set({ tag }, current.includes(tag) ? 1 : 0);
        },
      });
    }
    new Gauge({
      name: 'xnamesrv_live_brokers',
      help: 'Broker actors, by state',
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        const counts = new Map<string, number>([['registered', 0]]);
        for (const state of source.brokerStates()) counts.set(state, (counts.get(state) ?? 0) + 1);
        for (const [state, count] of counts) this.set({ state }, count);
      },
    });
    new Gauge({
      name: 'xnamesrv_route_table',
      help: 'Route table size: topics, broker names, clusters, cached encoded routes and their bytes',
      labelNames: ['item'],
      registers,
      collect() {
        const stats = source.routeStats();
        this.set({ item: 'topics' }, stats.topics);
        this.set({ item: 'brokerNames' }, stats.brokerNames);
        this.set({ item: 'clusters' }, stats.clusters);
        this.set({ item: 'cachedRoutes' }, stats.cachedRoutes);
        this.set({ item: 'cachedRouteBytes' }, stats.cachedRouteBytes);
      },
    });
    const gatewayStats = () => this.gateway?.stats();
    const limitCounts = () => this.limits?.snapshot();
    new Gauge({
      name: 'xnamesrv_gateway_clients',
      help: 'Connected WebSocket gateway clients',
      registers,
      collect() {
        this.set(gatewayStats()?.clients ?? 0);
      },
    });
    new Gauge({
      name: 'xnamesrv_gateway_dropped_slow_clients_total',
      help: 'Gateway clients closed with 1013 for falling behind',
      registers,
      collect() {
        this.set(gatewayStats()?.droppedSlowClients ?? 0);
      },
    });
    new Counter({
      name: 'xnamesrv_gateway_events_total',
      help: 'Gateway clients refused or cut off: rejectedUpgrades (bad token, bad query, client limit, shutdown), oversizedMessages (1009), deadClients (no pong)',
      labelNames: ['event'],
      registers,
      collect() {
        const stats = gatewayStats();
        this.reset();
        this.inc({ event: 'rejectedUpgrades' }, stats?.rejectedUpgrades ?? 0);
        this.inc({ event: 'oversizedMessages' }, stats?.oversizedMessages ?? 0);
        this.inc({ event: 'deadClients' }, stats?.deadClients ?? 0);
      },
    });
    new Counter({
      name: 'xnamesrv_limit_hits_total',
      help: "Times a configured limit refused something, by the limit's configuration key (each offender is logged once)",
      labelNames: ['limit'],
      registers,
      collect() {
        const counts = limitCounts();
        this.reset();
        for (const limit of LIMIT_NAMES) this.inc({ limit }, counts?.[limit] ?? 0);
      },
    });
    const security = () => this.security;
    new Counter({
      name: 'xnamesrv_tls_refused_connections_total',
      help: 'Connections closed by the TLS settings, by port (remoting, http) and reason: plaintextRefused (enforcing), tlsDisabled, noCertificate, handshakeFailed, handshakeTimeout, clientCertificateMissing, clientCertificateUntrusted (each peer is logged once per reason)',
      labelNames: ['port', 'reason'],
      registers,
      collect() {
        this.reset();
        for (const { port, reason, count } of security()?.snapshot().tlsRefused ?? [])
          this.inc({ port, reason }, count);
      },
    });
    new Counter({
      name: 'xnamesrv_tls_accepted_connections_total',
      help: 'Connections accepted on a port that tells TLS from plain, by port and protocol (tls, plain): who still connects in plain before a switch to enforcing',
      labelNames: ['port', 'protocol'],
      registers,
      collect() {
        this.reset();
        for (const { port, protocol, count } of security()?.snapshot().tlsAccepted ?? [])
          this.inc({ port, protocol }, count);
      },
    });
    new Counter({
      name: 'xnamesrv_tls_reloads_total',
      help: 'Certificate reloads after their files changed, by port and result (success, failure: the previous certificate stays in use)',
      labelNames: ['port', 'result'],
      registers,
      collect() {
        this.reset();
        for (const { port, result, count } of security()?.snapshot().reloads ?? []) this.inc({ port, result }, count);
      },
    });
    new Gauge({
      name: 'xnamesrv_tls_certificate_expiry_timestamp_seconds',
      help: 'When a configured certificate file stops being valid (the earliest notAfter of the certificates in it), by configuration key and file',
      labelNames: ['key', 'file'],
      registers,
      collect() {
        this.reset();
        for (const { key, file, notAfter } of security()?.expiries() ?? []) this.set({ key, file }, notAfter / 1000);
      },
    });
    new Counter({
      name: 'xnamesrv_http_unauthorized_requests_total',
      help: 'HTTP requests answered 401 under httpAuthRequired, by reason (missingCredentials, wrongCredentials; each peer is logged once per reason)',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        for (const { reason, count } of security()?.snapshot().httpUnauthorized ?? []) this.inc({ reason }, count);
      },
    });
    this.protocolErrors = new Counter({
      name: 'xnamesrv_remoting_protocol_errors_total',
      help: 'Remoting connections closed for a frame that could not be decoded (maxFrameLength included)',
      registers,
    });
    new Gauge({
      name: 'xnamesrv_remoting_connections',
      help: 'Open remoting (TCP) connections',
      registers,
      collect() {
        this.set(source.remotingConnections?.() ?? 0);
      },
    });
    new Gauge({
      name: 'xnamesrv_in_flight_requests',
      help: 'Requests waiting for their answer (KV and config writes waiting for the disk), all connections together',
      registers,
      collect() {
        this.set(source.inFlightRequests?.() ?? 0);
      },
    });
    new Gauge({
      name: 'xnamesrv_kv_store_degraded',
      help: '1 while the last KV write failed (the store keeps serving reads; see /readyz degradedReasons)',
      registers,
      collect() {
        this.set(source.kvStore?.().degraded ? 1 : 0);
      },
    });
    new Counter({
      name: 'xnamesrv_kv_write_failures_total',
      help: 'KV writes (PUT/DELETE_KV_CONFIG) that could not be persisted and were answered SYSTEM_ERROR',
      registers,
      collect() {
        this.reset();
        this.inc(source.kvStore?.().writeFailures ?? 0);
      },
    });
    registerRuntimeMetrics(this.registry);
  }

  attachGateway(gateway: GatewayMetricsSource): void {
    this.gateway = gateway;
  }

  attachSecurity(security: SecurityMetricsSource): void {
    this.security = security;
  }

  attachLimits(limits: LimitsMetricsSource): void {
    this.limits = limits;
  }

  readonly recordRequest = (code: number, responseCode: number | undefined, durationSeconds: number): void => {
    this.requestStats.record(code, responseCode, durationSeconds);
  };

  recordProtocolError(): void {
    this.protocolErrors.inc();
  }

  recordTransition(transition: Transition): void {
    this.transitions.labels(transition.machine, transition.to).inc();
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

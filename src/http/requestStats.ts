import type { Histogram, Registry } from 'prom-client';
import { requestCodeName, responseCodeName } from '../remoting/requestCode.js';

/** Upper bounds (seconds) of xnamesrv_request_duration_seconds. */
export const REQUEST_DURATION_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5];

interface CodeStats {
  readonly request: string;
  /** Answers by response code (-1: one-way, no answer). */
  readonly results: Map<number, number>;
  /** Per bucket, not cumulative; the last slot is +Inf. */
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

interface ExportedValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/**
 * Request counts and durations kept as plain numbers and turned into
 * Prometheus series only when /metrics is scraped. prom-client hashes the
 * label set on every inc() and observe(), which cost more than the route
 * lookup itself on the read path (GET_ROUTEINFO_BY_TOPIC).
 */
export class RequestStats {
  private readonly byCode = new Map<number, CodeStats>();
  /** The last code recorded: reads come in long runs of GET_ROUTEINFO_BY_TOPIC. */
  private lastCode = Number.NaN;
  private lastStats: CodeStats | undefined;

  record(code: number, responseCode: number | undefined, seconds: number): void {
    let stats = code === this.lastCode ? this.lastStats : this.byCode.get(code);
    if (stats === undefined) {
      stats = {
        request: requestCodeName(code),
        results: new Map(),
        buckets: new Float64Array(REQUEST_DURATION_BUCKETS.length + 1),
        sum: 0,
        count: 0,
      };
      this.byCode.set(code, stats);
    }
    this.lastCode = code;
    this.lastStats = stats;
    const result = responseCode ?? -1;
    stats.results.set(result, (stats.results.get(result) ?? 0) + 1);
    let bucket = 0;
    while (bucket < REQUEST_DURATION_BUCKETS.length && seconds > REQUEST_DURATION_BUCKETS[bucket]!) bucket++;
    stats.buckets[bucket]!++;
    stats.sum += seconds;
    stats.count++;
  }

  /** xnamesrv_requests_total's series: one per request code and response code. */
  *requestCounts(): Generator<{ labels: { code: string; request: string; result: string }; value: number }> {
    for (const [code, stats] of this.byCode) {
      for (const [result, value] of stats.results) {
        yield {
          labels: {
            code: String(code),
            request: stats.request,
            result: result === -1 ? 'ONEWAY' : responseCodeName(result),
          },
          value,
        };
      }
    }
  }

  /** xnamesrv_request_duration_seconds's series, as prom-client's Histogram#get() shapes them. */
  durationValues(name: string): ExportedValue[] {
    const values: ExportedValue[] = [];
    for (const stats of this.byCode.values()) {
      let cumulative = 0;
      for (let i = 0; i <= REQUEST_DURATION_BUCKETS.length; i++) {
        cumulative += stats.buckets[i]!;
        const le = i < REQUEST_DURATION_BUCKETS.length ? REQUEST_DURATION_BUCKETS[i]! : '+Inf';
        values.push({ value: cumulative, labels: { le, request: stats.request }, metricName: `${name}_bucket` });
      }
      values.push({ value: stats.sum, labels: { request: stats.request }, metricName: `${name}_sum` });
      values.push({ value: stats.count, labels: { request: stats.request }, metricName: `${name}_count` });
    }
    return values;
  }

  reset(): void {
    this.byCode.clear();
    this.lastCode = Number.NaN;
    this.lastStats = undefined;
  }
}

/**
 * Registers xnamesrv_request_duration_seconds, read from `stats` at scrape
 * time. prom-client's Histogram only takes one observation at a time, so the
 * registry gets an object of its own that renders the same way (registries
 * only call name, help, type, aggregator, get() and reset() on a metric).
 */
export function registerRequestDurations(registry: Registry, stats: RequestStats): void {
  const name = 'xnamesrv_request_duration_seconds';
  const metric = {
    name,
    help: 'Time from a request frame decoded to its answer handed to the connection, by request',
    type: 'histogram',
    aggregator: 'sum',
    get: async () => ({
      name: metric.name,
      help: metric.help,
      type: metric.type,
      aggregator: metric.aggregator,
      values: stats.durationValues(name),
    }),
    reset: () => stats.reset(),
  };
  registry.registerMetric(metric as unknown as Histogram);
}

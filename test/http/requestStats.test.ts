import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { NameServerMetrics } from '../../src/http/metrics.js';
import { REQUEST_DURATION_BUCKETS, RequestStats, registerRequestDurations } from '../../src/http/requestStats.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';

const observations: Array<[number, number | undefined, number]> = [
  [RequestCode.GET_ROUTEINFO_BY_TOPIC, ResponseCode.SUCCESS, 0.00002],
  [RequestCode.GET_ROUTEINFO_BY_TOPIC, ResponseCode.SUCCESS, 0.00005], // on a bound: counts in that bucket
  [RequestCode.GET_ROUTEINFO_BY_TOPIC, ResponseCode.TOPIC_NOT_EXIST, 0.0003],
  [RequestCode.REGISTER_BROKER, ResponseCode.SUCCESS, 0.04],
  [RequestCode.REGISTER_BROKER, ResponseCode.SUCCESS, 3], // past the last bound: +Inf only
  [RequestCode.UNREGISTER_BROKER, undefined, 0.001],
];

/** The same observations through prom-client's own Histogram and Counter: the reference rendering. */
async function renderedByPromClient(): Promise<string> {
  const registry = new Registry();
  const requests = new Counter({
    name: 'xnamesrv_requests_total',
    help: 'h',
    labelNames: ['code', 'request', 'result'],
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'xnamesrv_request_duration_seconds',
    help: 'h',
    labelNames: ['request'],
    buckets: REQUEST_DURATION_BUCKETS,
    registers: [registry],
  });
  const names: Record<number, string> = {
    105: 'GET_ROUTEINFO_BY_TOPIC',
    103: 'REGISTER_BROKER',
    104: 'UNREGISTER_BROKER',
  };
  const results: Record<number, string> = { 0: 'SUCCESS', 17: 'TOPIC_NOT_EXIST' };
  for (const [code, result, seconds] of observations) {
    requests.inc({
      code: String(code),
      request: names[code]!,
      result: result === undefined ? 'ONEWAY' : results[result]!,
    });
    durations.observe({ request: names[code]! }, seconds);
  }
  return registry.metrics();
}

function seriesLines(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0 && !line.startsWith('# HELP'))
    .sort();
}

describe('RequestStats', () => {
  it('renders exactly what prom-client would for the same requests', async () => {
    const stats = new RequestStats();
    for (const [code, result, seconds] of observations) stats.record(code, result, seconds);
    const registry = new Registry();
    new Counter({
      name: 'xnamesrv_requests_total',
      help: 'h',
      labelNames: ['code', 'request', 'result'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { labels, value } of stats.requestCounts()) this.inc(labels, value);
      },
    });
    registerRequestDurations(registry, stats);
    expect(seriesLines(await registry.metrics())).toEqual(seriesLines(await renderedByPromClient()));
  });

  it('is what a name server exports, with nothing from other instances', async () => {
    const source = {
      lifecycleState: () => 'ready',
      brokerStates: () => [],
      routeStats: () => ({ topics: 0, brokerNames: 0, clusters: 0, cachedRoutes: 0, cachedRouteBytes: 0 }),
    };
    const one = new NameServerMetrics(source);
    const other = new NameServerMetrics(source);
    for (const [code, result, seconds] of observations) one.recordRequest(code, result, seconds);
    const text = await one.render();
    for (const line of seriesLines(await renderedByPromClient()).filter((l) => !l.startsWith('#')))
      expect(text).toContain(line);
    expect(await other.render()).not.toContain('request="GET_ROUTEINFO_BY_TOPIC"');
  });

  it('starts over when the registry resets its metrics', async () => {
    const metrics = new NameServerMetrics({
      lifecycleState: () => 'ready',
      brokerStates: () => [],
      routeStats: () => ({ topics: 0, brokerNames: 0, clusters: 0, cachedRoutes: 0, cachedRouteBytes: 0 }),
    });
    metrics.recordRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, ResponseCode.SUCCESS, 0.001);
    metrics.registry.resetMetrics();
    const text = await metrics.render();
    expect(text).not.toContain('xnamesrv_request_duration_seconds_count');
    expect(text).not.toContain('request="GET_ROUTEINFO_BY_TOPIC"');
    // The same code again after the reset counts from zero, in the new series.
    metrics.recordRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, ResponseCode.SUCCESS, 0.001);
    expect(await metrics.render()).toContain(
      'xnamesrv_request_duration_seconds_count{request="GET_ROUTEINFO_BY_TOPIC"} 1',
    );
  });
});

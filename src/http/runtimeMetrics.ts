import { collectDefaultMetrics, Gauge, Registry, type Metric } from 'prom-client';
import { createServerIdentity } from '../gateway/serverIdentity.js';

/**
 * The one exception to "nothing at module level": prom-client's runtime
 * collectors start process-wide observers (a GC PerformanceObserver, an
 * event-loop delay monitor) and offer no way to stop them. Made once per name
 * server they would outlive every stopped server, each still observing every
 * GC and holding its registry, and with it the server. The series describe the
 * process anyway (one heap, one event loop, whatever number of name servers
 * runs in it), so they are made once, on first use.
 */
let processMetrics: readonly Metric[] | undefined;

/**
 * Adds the process's series to a name server's registry: prom-client's default
 * collectors (event-loop lag, heap, GC, CPU, memory, handles, file
 * descriptors) and xnamesrv_build_info. Every registry lists the same metric
 * objects, so nothing is created per server and nothing is left to stop.
 */
export function registerRuntimeMetrics(registry: Registry): void {
  processMetrics ??= createProcessMetrics();
  for (const metric of processMetrics) registry.registerMetric(metric);
}

function createProcessMetrics(): readonly Metric[] {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const buildInfo = new Gauge({
    name: 'xnamesrv_build_info',
    help: 'The xnamesrv version and the Node.js version running it (always 1)',
    labelNames: ['version', 'node'],
    registers: [registry],
  });
  // The gateway announces the same version in its hello; read from package.json once.
  buildInfo.set({ version: createServerIdentity().version, node: process.version }, 1);
  return registry.getMetricsAsArray() as unknown as Metric[];
}

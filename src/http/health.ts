import type { HttpServer } from './httpServer.js';
import type { LifecycleStatus } from '../nameServer.js';

interface LifecycleSource {
  lifecycle(): LifecycleStatus;
}

/**
 * Kubernetes-style probes. Live unless failed or stopped; ready while routes
 * are served (ready, or timedOut with waitTimeoutAction=serve, then flagged
 * degraded). Both bodies say why, so an operator never has to guess.
 */
export function registerHealthRoutes(http: HttpServer, server: LifecycleSource): void {
  http.get('/livez', () => {
    const status = server.lifecycle();
    const live = status.state !== 'failed' && status.state !== 'stopped';
    return { status: live ? 200 : 503, body: probeBody(status) };
  });
  http.get('/readyz', () => {
    const status = server.lifecycle();
    return { status: status.servingRoutes && status.state !== 'stopping' ? 200 : 503, body: probeBody(status) };
  });
}

function probeBody(status: LifecycleStatus) {
  return {
    state: status.state,
    detail: status.detail,
    since: new Date(status.since).toISOString(),
    reason: status.reason ?? null,
    servingRoutes: status.servingRoutes,
    degraded: status.degraded.length > 0,
    degradedReasons: status.degraded,
    waitTarget: { met: status.waitTarget.met, liveBrokers: status.waitTarget.liveBrokers, missing: status.waitTarget.missing },
  };
}

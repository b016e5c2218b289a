import type { HttpServer } from './httpServer.js';
import type { LifecycleStatus } from '../lifecycle/lifecycleStatus.js';

interface LifecycleSource {
  lifecycle(): LifecycleStatus;
}

/**
 * Kubernetes-style probes, read from the lifecycle chart's tags: live while
 * the state has `live` (every state but stopped and failed), ready while it
 * has `ready` (ready, or timedOut.serving, then flagged degraded). Both
 * bodies say why, so an operator never has to guess.
 */
export function registerHealthRoutes(http: HttpServer, server: LifecycleSource): void {
  http.get('/livez', () => {
    const status = server.lifecycle();
    return { status: status.live ? 200 : 503, body: probeBody(status) };
  });
  http.get('/readyz', () => {
    const status = server.lifecycle();
    return { status: status.ready ? 200 : 503, body: probeBody(status) };
  });
}

function probeBody(status: LifecycleStatus) {
  return {
    state: status.state,
    detail: status.detail,
    since: new Date(status.since).toISOString(),
    reason: status.reason ?? null,
    tags: status.tags,
    servingRoutes: status.servingRoutes,
    routesRefused: status.routesRefused ?? null,
    degraded: status.degraded.length > 0,
    degradedReasons: status.degraded,
    waitTarget: {
      met: status.waitTarget.met,
      liveBrokers: status.waitTarget.liveBrokers,
      missing: status.waitTarget.missing,
    },
    waitTimeoutAction: status.waitTimeoutAction,
    wait: status.wait
      ? {
          startedAt: iso(status.wait.startedAt),
          holdingEndsAt: iso(status.wait.holdingEndsAt),
          timeoutAt: iso(status.wait.timeoutAt),
        }
      : null,
  };
}

function iso(millis: number): string {
  return new Date(millis).toISOString();
}

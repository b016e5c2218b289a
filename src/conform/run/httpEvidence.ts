import { Agent, get } from 'node:http';
import { GatewayEvidence, type GatewayLifecycle } from './gatewayEvidence.js';

/**
 * Extra evidence from a target's HTTP port (`--http host:port`), when it has
 * one: its readiness probe and its /ws gateway's account of the lifecycle.
 * Never required, and only believed when it gives a clear answer; anything
 * else says nothing either way.
 */
export interface HttpEvidence {
  /** `http://host:port` */
  readonly baseUrl: string;
  /** /readyz: true for 200, false for 503, undefined when the probe gave no clear answer. */
  readiness(): Promise<boolean | undefined>;
  /** The gateway's `getLifecycle`, undefined when there is no gateway or it does not answer. */
  lifecycle(): Promise<GatewayLifecycle | undefined>;
  close(): void;
}

const PROBE_TIMEOUT_MS = 3_000;

export function httpEvidence(baseUrl: string): HttpEvidence {
  // One kept-alive connection: a probe per step, hundreds per run.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const gateway = new GatewayEvidence(`${baseUrl.replace(/^http/, 'ws')}/ws`);
  return {
    baseUrl,
    readiness: () =>
      new Promise((resolve) => {
        const request = get(`${baseUrl}/readyz`, { agent, timeout: PROBE_TIMEOUT_MS }, (response) => {
          response.resume();
          response.on('end', () =>
            resolve(response.statusCode === 200 ? true : response.statusCode === 503 ? false : undefined),
          );
          response.on('error', () => resolve(undefined));
        });
        request.on('timeout', () => request.destroy());
        request.on('error', () => resolve(undefined));
      }),
    lifecycle: () => gateway.lifecycle(),
    close: () => {
      agent.destroy();
      gateway.close();
    },
  };
}

import { Agent, get } from 'node:http';

/**
 * Extra evidence from a target's HTTP port (`--http host:port`), when it has
 * one: its readiness probe. Never required, and only believed when it gives a
 * clear answer (200 or 503); anything else says nothing either way.
 */
export interface HttpEvidence {
  /** `http://host:port` */
  readonly baseUrl: string;
  /** /readyz: true for 200, false for 503, undefined when the probe gave no clear answer. */
  readiness(): Promise<boolean | undefined>;
  close(): void;
}

const PROBE_TIMEOUT_MS = 3_000;

export function httpEvidence(baseUrl: string): HttpEvidence {
  // One kept-alive connection: a probe per step, hundreds per run.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return {
    baseUrl,
    readiness: () =>
      new Promise((resolve) => {
        const request = get(`${baseUrl}/readyz`, { agent, timeout: PROBE_TIMEOUT_MS }, (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode === 200 ? true : response.statusCode === 503 ? false : undefined));
          response.on('error', () => resolve(undefined));
        });
        request.on('timeout', () => request.destroy());
        request.on('error', () => resolve(undefined));
      }),
    close: () => agent.destroy(),
  };
}

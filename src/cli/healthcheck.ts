import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../config/load.js';
import type { NamesrvOptions } from '../config/schema.js';
import { errorMessage } from '../util/errorMessage.js';

/**
 * The container image's HEALTHCHECK (`node dist/src/cli/healthcheck.js`):
 * GET /readyz on this name server's own HTTP port. The port and address come
 * from the sources the server itself reads (XNAMESRV_* variables and the
 * XNAMESRV_CONFIG_FILE properties file), so moving httpPort in either keeps
 * the check pointed at it; command-line flags given to the server are not
 * visible here. Node only: the image needs no curl.
 */

/**
 * Where to ask: the wildcard addresses are reached on loopback, over https
 * when the HTTP port takes TLS only (httpTlsMode=enforcing; permissive still
 * answers plain http).
 */
export function readinessUrl(config: Pick<NamesrvOptions, 'bindAddress' | 'httpPort' | 'httpTlsMode'>): string {
  let host = config.bindAddress;
  if (host === '0.0.0.0') host = '127.0.0.1';
  else if (host === '::') host = '::1';
  const scheme = config.httpTlsMode === 'enforcing' ? 'https' : 'http';
  return `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${config.httpPort}/readyz`;
}

export interface ReadinessResult {
  ready: boolean;
  /** One line for `docker inspect`: the state, and why not ready. */
  line: string;
}

interface ProbeBody {
  state?: string;
  detail?: string;
  routesRefused?: string | null;
  waitTarget?: { missing?: string[] };
}

/**
 * GET url; over https the server's certificate is not verified: the check asks
 * its own server on loopback, whose certificate names the service, not 127.0.0.1.
 */
function get(url: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { rejectUnauthorized: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Ready only on a 200; anything else, or no answer within timeoutMs, is not ready. */
export async function checkReadiness(url: string, timeoutMs: number): Promise<ReadinessResult> {
  let response: { status: number; text: string };
  try {
    response = await get(url, timeoutMs);
  } catch (err) {
    return { ready: false, line: `not ready: no answer from ${url}: ${errorMessage(err)}` };
  }
  const text = response.text;
  let body: ProbeBody = {};
  try {
    body = JSON.parse(text) as ProbeBody;
  } catch {
    // Not the probe's JSON: the status alone decides.
  }
  const state = body.detail ?? body.state ?? 'unknown';
  if (response.status === 200) return { ready: true, line: `ready: ${state}` };
  // routesRefused says why in words (it names what the wait target misses).
  const why = body.routesRefused ?? body.waitTarget?.missing?.map((m) => `missing ${m}`).join('; ');
  return { ready: false, line: `not ready (HTTP ${response.status}): ${state}${why ? `; ${why}` : ''}` };
}

export async function runHealthcheck(env: Record<string, string | undefined>, homeDir: string): Promise<number> {
  const loaded = loadConfig({ argv: [], env, homeDir });
  if (!loaded.ok) {
    process.stdout.write(`not ready: configuration: ${loaded.errors.join('; ')}\n`);
    return 1;
  }
  const result = await checkReadiness(readinessUrl(loaded.config), 3_000);
  process.stdout.write(`${result.line}\n`);
  return result.ready ? 0 : 1;
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  void runHealthcheck(process.env, homedir()).then((code) => {
    process.exitCode = code;
  });
}

import type { IncomingMessage } from 'node:http';
import type { HttpReply, HttpServer } from '../http/httpServer.js';
import { loadConsoleAssets, type ConsoleAsset } from './consoleAssets.js';

export interface ConsoleOptions {
  /** consoleNameServers: other name servers to show beside this one (`host:httpPort`). */
  nameServers: readonly string[];
  version: string;
  /** Replaces src/console/page (tests). */
  pageDir?: string;
}

/**
 * What the page may load and connect to: its own files only, and WebSockets
 * to any name server's gateway (the console shows several side by side; each
 * gateway decides by Origin whether to accept it, see gatewayAllowedOrigins).
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The browser console: `GET /` is the page, `/console/<file>` its files,
 * `/console/config.json` the name servers to show. See docs/console.md.
 */
export function registerConsoleRoutes(http: HttpServer, options: ConsoleOptions): void {
  let assets: Promise<Map<string, ConsoleAsset>> | undefined;
  // Read and compressed on first use, not at start: a name server nobody opens a console on pays nothing.
  const load = () =>
    loadConsoleAssets(options.pageDir).catch((error: unknown) => {
      assets = undefined; // a broken installation fixed on disk is picked up by the next request
      throw error;
    });
  const assetNamed = async (name: string) => (await (assets ??= load())).get(name);

  http.get('/', async (request) => serveAsset(request, await assetNamed('index.html')));
  http.get('/console/', async (request) => {
    const name = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname.slice('/console/'.length));
    if (name === 'config.json') {
      return {
        status: 200,
        headers: { 'cache-control': 'no-store' },
        body: { self: request.headers.host ?? null, nameServers: options.nameServers, version: options.version },
      };
    }
    return serveAsset(request, await assetNamed(name));
  });
}

function serveAsset(request: IncomingMessage, asset: ConsoleAsset | undefined): HttpReply {
  if (!asset) return { status: 404, body: { error: `no console file at ${request.url}` } };
  const headers: Record<string, string> = {
    etag: asset.etag,
    'cache-control': asset.cacheControl,
    vary: 'accept-encoding',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  if (asset.contentType.startsWith('text/html')) headers['content-security-policy'] = CONTENT_SECURITY_POLICY;
  if (request.headers['if-none-match'] === asset.etag)
    return { status: 304, headers, contentType: asset.contentType, body: '' };
  const accepted = acceptedEncodings(request.headers['accept-encoding']);
  if (accepted.has('br'))
    return {
      status: 200,
      headers: { ...headers, 'content-encoding': 'br' },
      contentType: asset.contentType,
      body: asset.br,
    };
  if (accepted.has('gzip'))
    return {
      status: 200,
      headers: { ...headers, 'content-encoding': 'gzip' },
      contentType: asset.contentType,
      body: asset.gzip,
    };
  return { status: 200, headers, contentType: asset.contentType, body: asset.identity };
}

/** Encodings the client accepts (q=0 means refused). */
function acceptedEncodings(header: string | string[] | undefined): Set<string> {
  const accepted = new Set<string>();
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  for (const part of text.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (q !== undefined && Number(q.slice(2)) === 0) continue;
    accepted.add(name);
  }
  return accepted;
}

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerConsoleRoutes } from '../../src/console/consoleRoutes.js';
import { HttpServer } from '../../src/http/httpServer.js';
import { silentLogger } from '../../src/logging.js';
import { startTestServer } from '../support/harness.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const PAGE = '<!doctype html><title>console</title><script type="module" src="/console/app.js"></script>';
const APP = `export const answer = ${JSON.stringify('x'.repeat(2000))};\n`;

describe('console serving', () => {
  let dir: string;
  let http: HttpServer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'xnamesrv-console-'));
    await writeFile(join(dir, 'index.html'), PAGE);
    await writeFile(join(dir, 'app.js'), APP);
    await writeFile(join(dir, 'tsconfig.json'), '{}');
    await mkdir(join(dir, 'panels'));
    await writeFile(join(dir, 'panels', 'log.js'), 'export {};\n');
    http = new HttpServer({ host: '127.0.0.1', port: 0, logger: silentLogger() });
    registerConsoleRoutes(http, { nameServers: ['10.0.0.2:9877'], version: '9.9.9', pageDir: dir });
    await http.listen();
  });
  afterAll(async () => {
    await http.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the page at / with a content security policy that allows nothing from elsewhere', async () => {
    const page = await get(http.port, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body.toString()).toBe(PAGE);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("connect-src 'self' ws: wss:");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
  });

  it('compresses as the client accepts: brotli first, then gzip, else identity', async () => {
    const br = await get(http.port, '/console/app.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).toString()).toBe(APP);
    expect(br.body.length).toBeLessThan(APP.length / 10);
    const gzip = await get(http.port, '/console/app.js', { 'accept-encoding': 'gzip, br;q=0' });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gzip.body).toString()).toBe(APP);
    const plain = await get(http.port, '/console/app.js');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(APP);
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers.vary).toBe('accept-encoding');
    expect((await get(http.port, '/console/panels/log.js')).body.toString()).toBe('export {};\n');
  });

  it('revalidates page files by ETag (304) and lets the vendored layout library be cached', async () => {
    const first = await get(http.port, '/console/app.js');
    expect(first.headers['cache-control']).toBe('no-cache');
    const etag = String(first.headers.etag);
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await get(http.port, '/console/app.js', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    const elk = await get(http.port, '/console/vendor/elk.bundled.js', { 'accept-encoding': 'gzip' });
    expect(elk.status).toBe(200);
    expect(elk.headers['cache-control']).toBe('public, max-age=86400');
    expect(gunzipSync(elk.body).toString()).toContain('ELK');
    expect((await get(http.port, '/console/app.js', {}, 'HEAD')).body.length).toBe(0);
  });

  it('tells the page which name servers to show, and serves nothing outside the page directory', async () => {
    const config = await get(http.port, '/console/config.json');
    expect(JSON.parse(config.body.toString())).toEqual({
      self: `127.0.0.1:${http.port}`,
      nameServers: ['10.0.0.2:9877'],
      version: '9.9.9',
    });
    expect(config.headers['cache-control']).toBe('no-store');
    for (const path of [
      '/console/tsconfig.json',
      '/console/missing.js',
      '/console/%2e%2e/package.json',
      '/console/..%2fpackage.json',
      '/console/',
    ]) {
      expect((await get(http.port, path)).status, path).toBe(404);
    }
    expect((await get(http.port, '/console/app.js', {}, 'POST')).status).toBe(405);
  });
});

describe('consoleEnabled', () => {
  it('serves the console by default and nothing at / when disabled', async () => {
    const on = await startTestServer();
    const off = await startTestServer({ consoleEnabled: false });
    try {
      expect((await get(on.server.httpPort, '/console/config.json')).status).toBe(200);
      expect((await get(off.server.httpPort, '/')).status).toBe(404);
      expect((await get(off.server.httpPort, '/console/config.json')).status).toBe(404);
      expect((await get(off.server.httpPort, '/readyz')).status).toBe(200);
    } finally {
      await on.stop();
      await off.stop();
    }
  });
});

import { once } from 'node:events';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { checkReadiness, readinessUrl } from '../../src/cli/healthcheck.js';
import { wsMessageText } from '../../src/util/wsText.js';
import { TestPki, type Identity } from './pki.js';
import { logged, seriesValue, serversStoppedAfterEach } from './support.js';

let pki: TestPki;
let ca: Identity;
let web: Identity;
let operator: Identity;
let strangerCa: Identity;
let stranger: Identity;
const TOKEN = 'operator-token-1';

beforeAll(() => {
  pki = new TestPki();
  ca = pki.ca('HTTPS CA');
  web = pki.issue('console', ca);
  operator = pki.issue('operator', ca);
  strangerCa = pki.ca('Stranger CA');
  stranger = pki.issue('stranger', strangerCa);
});
afterAll(() => pki.remove());

const start = serversStoppedAfterEach();

const https = (mode: string, extra: Record<string, string | boolean> = {}) => ({
  httpTlsMode: mode,
  httpTlsCertPath: web.certPath,
  httpTlsKeyPath: web.keyPath,
  ...extra,
});

interface Answer {
  status: number;
  text: string;
  headers: Record<string, string | string[] | undefined>;
  subject?: string;
}

/** GET over HTTPS, trusting the test CA unless told otherwise; rejects when the connection is refused. */
async function httpsGet(port: number, path: string, options: RequestOptions = {}): Promise<Answer> {
  const req = httpsRequest({ host: '127.0.0.1', port, path, ca: ca.cert, agent: false, ...options });
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  const cn: unknown = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN;
  const subject = typeof cn === 'string' ? cn : undefined;
  let text = '';
  for await (const chunk of res) text += String(chunk);
  return { status: res.statusCode ?? 0, text, headers: res.headers, ...(subject ? { subject } : {}) };
}

/** GET over plain HTTP; rejects when the connection is refused. */
async function httpGet(port: number, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
  return { status: res.status, text: await res.text(), headers: Object.fromEntries(res.headers) };
}

/** Opens /ws and resolves with its hello, or rejects with the refusal. */
function gatewayHello(
  url: string,
  options: ConstructorParameters<typeof WebSocket>[2] = {},
): Promise<Record<string, any>> {
  const ws = new WebSocket(url, options);
  return new Promise((resolve, reject) => {
    ws.once('message', (data) => {
      resolve(JSON.parse(wsMessageText(data)) as Record<string, any>);
      ws.close();
    });
    ws.once('unexpected-response', (_req, res) => {
      reject(new Error(`upgrade refused: ${res.statusCode}`));
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

const refused = (reason: string) => `xnamesrv_tls_refused_connections_total{port="http",reason="${reason}"}`;

describe('HTTPS on the HTTP port (httpTlsMode)', () => {
  it('enforcing: probes, metrics, the console and /ws as wss:// over TLS; plain HTTP is closed and counted', async () => {
    const { t, lines } = await start(https('enforcing'));
    const port = t.server.httpPort;
    expect((await httpsGet(port, '/livez')).status).toBe(200);
    expect((await httpsGet(port, '/readyz')).status).toBe(200);
    const metrics = await httpsGet(port, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.subject).toBe('console');
    const consolePage = await httpsGet(port, '/');
    expect(consolePage.status).toBe(200);
    expect(consolePage.headers['content-type']).toMatch(/text\/html/);
    const hello = await gatewayHello(`wss://127.0.0.1:${port}/ws`, { ca: ca.cert });
    expect(hello.type).toBe('hello');

    await expect(httpGet(port, '/livez')).rejects.toThrow();
    await expect(httpGet(port, '/metrics')).rejects.toThrow();
    const after = (await httpsGet(port, '/metrics')).text;
    expect(seriesValue(after, refused('plaintextRefused'))).toBe(2);
    expect(
      seriesValue(after, 'xnamesrv_tls_accepted_connections_total{port="http",protocol="tls"}'),
    ).toBeGreaterThanOrEqual(5);
    expect(
      logged(lines, 'closed a connection from 127.0.0.1 to the HTTP port: httpTlsMode=enforcing accepts TLS only'),
    ).toHaveLength(1);
    expect(
      seriesValue(
        after,
        `xnamesrv_tls_certificate_expiry_timestamp_seconds{key="httpTlsCertPath",file="${web.certPath}"}`,
      ),
    ).toBeGreaterThan(Date.now() / 1000);
  });

  it('permissive: HTTPS and plain HTTP on the one port, so the address server keeps answering http:// fetches', async () => {
    const { t } = await start({ ...https('permissive'), namesrvAddrList: '10.0.0.1:9876;10.0.0.2:9876' });
    const port = t.server.httpPort;
    expect((await httpGet(port, '/readyz')).status).toBe(200);
    expect((await httpsGet(port, '/readyz')).status).toBe(200);
    const nsaddr = await httpGet(port, '/rocketmq/nsaddr');
    expect([nsaddr.status, nsaddr.text.trim()]).toEqual([200, '10.0.0.1:9876;10.0.0.2:9876']);
    expect((await httpGet(port, '/metrics')).status).toBe(200);
    expect((await gatewayHello(`ws://127.0.0.1:${port}/ws`)).type).toBe('hello');
    expect((await gatewayHello(`wss://127.0.0.1:${port}/ws`, { ca: ca.cert })).type).toBe('hello');
  });

  it('disabled (the default) leaves the port plain: a TLS handshake fails', async () => {
    const { t } = await start({});
    await expect(httpsGet(t.server.httpPort, '/livez')).rejects.toThrow();
    expect((await httpGet(t.server.httpPort, '/livez')).status).toBe(200);
  });

  it('a rotated HTTP certificate is served to new connections after the next poll', async () => {
    const certPath = pki.write('http-live.pem', web.cert);
    const keyPath = pki.write('http-live.key', web.key);
    const { t } = await start({ httpTlsMode: 'enforcing', httpTlsCertPath: certPath, httpTlsKeyPath: keyPath });
    const next = pki.issue('console-next', ca);
    pki.write('http-live.pem', next.cert);
    pki.write('http-live.key', next.key);
    expect((await httpsGet(t.server.httpPort, '/livez')).subject).toBe('console');
    t.clock.increment(500);
    const answer = await httpsGet(t.server.httpPort, '/metrics');
    expect(answer.subject).toBe('console-next');
    expect(seriesValue(answer.text, 'xnamesrv_tls_reloads_total{port="http",result="success"}')).toBe(1);
  });
});

describe('client certificates on the HTTP port (httpTlsNeedClientAuth)', () => {
  it('require: an HTTPS client without a verified certificate is closed', async () => {
    const { t } = await start(
      https('enforcing', { httpTlsNeedClientAuth: 'require', httpTlsTrustCertPath: ca.certPath }),
    );
    const port = t.server.httpPort;
    await expect(httpsGet(port, '/livez')).rejects.toThrow();
    await expect(httpsGet(port, '/livez', { cert: stranger.cert, key: stranger.key })).rejects.toThrow();
    const answer = await httpsGet(port, '/metrics', { cert: operator.cert, key: operator.key });
    expect(answer.status).toBe(200);
    expect(seriesValue(answer.text, refused('clientCertificateMissing'))).toBe(1);
    expect(seriesValue(answer.text, refused('clientCertificateUntrusted'))).toBe(1);
  });
});

describe('httpAuthRequired', () => {
  const bearer = { authorization: `Bearer ${TOKEN}` };
  const basic = (password: string) => ({
    authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`,
  });

  it('leaves the probes and the address server open, and asks everything else for the gateway token', async () => {
    const { t, lines } = await start({ httpAuthRequired: true, gatewayToken: TOKEN, namesrvAddrList: '10.0.0.1:9876' });
    const port = t.server.httpPort;
    expect((await httpGet(port, '/livez')).status).toBe(200);
    expect((await httpGet(port, '/readyz')).status).toBe(200);
    expect((await httpGet(port, '/rocketmq/nsaddr')).status).toBe(200);

    for (const path of ['/metrics', '/', '/machines', '/no/such/path']) {
      const refusal = await httpGet(port, path);
      expect(refusal.status, path).toBe(401);
      expect(refusal.headers['www-authenticate']).toBe('Basic realm="xnamesrv", charset="UTF-8"');
      expect(refusal.text).not.toContain('xnamesrv_');
    }
    expect((await httpGet(port, '/metrics', { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await httpGet(port, '/metrics', basic('wrong'))).status).toBe(401);
    expect((await httpGet(port, '/', basic(TOKEN))).status).toBe(200);
    const metrics = await httpGet(port, '/metrics', bearer);
    expect(metrics.status).toBe(200);
    expect(seriesValue(metrics.text, 'xnamesrv_http_unauthorized_requests_total{reason="missingCredentials"}')).toBe(4);
    expect(seriesValue(metrics.text, 'xnamesrv_http_unauthorized_requests_total{reason="wrongCredentials"}')).toBe(2);
    const warnings = logged(lines, 'refused: httpAuthRequired');
    expect(warnings.map((line) => line.reason)).toEqual(['missingCredentials', 'wrongCredentials']);
  });

  it('guards the /ws upgrade: refused without the token; Bearer authorizes control operations, Basic only gets in', async () => {
    const { t } = await start({ httpAuthRequired: true, gatewayToken: TOKEN });
    const url = `ws://127.0.0.1:${t.server.httpPort}/ws`;
    await expect(gatewayHello(url)).rejects.toThrow('upgrade refused: 401');
    await expect(gatewayHello(url, { headers: { authorization: 'Bearer nope' } })).rejects.toThrow(
      'upgrade refused: 401',
    );
    expect((await gatewayHello(url, { headers: bearer })).auth).toEqual({ authorized: true, controlOps: 'enabled' });
    expect((await gatewayHello(url, { headers: basic(TOKEN) })).auth).toEqual({
      authorized: false,
      controlOps: 'enabled',
    });
  });

  it('a verified client certificate stands in for the token', async () => {
    const { t } = await start(
      https('enforcing', {
        httpTlsNeedClientAuth: 'optional',
        httpTlsTrustCertPath: ca.certPath,
        httpAuthRequired: true,
        gatewayToken: TOKEN,
      }),
    );
    const port = t.server.httpPort;
    expect((await httpsGet(port, '/metrics')).status).toBe(401);
    expect((await httpsGet(port, '/metrics', { cert: operator.cert, key: operator.key })).status).toBe(200);
    expect((await httpsGet(port, '/metrics', { headers: bearer })).status).toBe(200);
    const hello = await gatewayHello(`wss://127.0.0.1:${port}/ws`, {
      ca: ca.cert,
      cert: operator.cert,
      key: operator.key,
    });
    expect(hello.type).toBe('hello');
  });

  it('with client certificates alone (no token configured)', async () => {
    const { t } = await start(
      https('enforcing', {
        httpTlsNeedClientAuth: 'optional',
        httpTlsTrustCertPath: ca.certPath,
        httpAuthRequired: true,
      }),
    );
    const port = t.server.httpPort;
    expect((await httpsGet(port, '/metrics', { headers: { authorization: 'Bearer ' } })).status).toBe(401);
    expect((await httpsGet(port, '/metrics', { cert: operator.cert, key: operator.key })).status).toBe(200);
  });
});

describe("the container's HEALTHCHECK (src/cli/healthcheck.ts) against an HTTPS port", () => {
  it('asks /readyz over https when the port takes TLS only, and over plain http when it takes both', async () => {
    const { t } = await start(https('enforcing'));
    const enforcing = readinessUrl({ bindAddress: '0.0.0.0', httpPort: t.server.httpPort, httpTlsMode: 'enforcing' });
    expect(enforcing).toBe(`https://127.0.0.1:${t.server.httpPort}/readyz`);
    expect(await checkReadiness(enforcing, 3_000)).toEqual({ ready: true, line: 'ready: ready' });
    const plain = await checkReadiness(`http://127.0.0.1:${t.server.httpPort}/readyz`, 3_000);
    expect(plain.ready).toBe(false);

    const { t: both } = await start(https('permissive'));
    const permissive = readinessUrl({
      bindAddress: '0.0.0.0',
      httpPort: both.server.httpPort,
      httpTlsMode: 'permissive',
    });
    expect(permissive).toBe(`http://127.0.0.1:${both.server.httpPort}/readyz`);
    expect((await checkReadiness(permissive, 3_000)).ready).toBe(true);
  });
});

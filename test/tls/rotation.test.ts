import { X509Certificate } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RemotingClient } from '../../src/remoting/client.js';
import { RequestCode, ResponseCode } from '../../src/remoting/requestCode.js';
import type { TestServer } from '../support/harness.js';
import { TestPki, type Identity } from './pki.js';
import { logged, seriesValue, served, serverCertificate, startLogged, type LoggedServer } from './support.js';

let pki: TestPki;
let ca: Identity;
let first: Identity;
let second: Identity;
const running: TestServer[] = [];
const clients: RemotingClient[] = [];

beforeAll(() => {
  pki = new TestPki();
  ca = pki.ca('Rotation CA');
  first = pki.issue('first', ca);
  second = pki.issue('second', ca);
});
afterAll(() => pki.remove());
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(running.splice(0).map((t) => t.stop()));
});

/** A server whose certificate and key are files this test replaces, as a secret rotation does. */
async function startRotating(
  name: string,
  extra: Record<string, string | boolean> = {},
): Promise<LoggedServer & { certPath: string; keyPath: string }> {
  const certPath = pki.write(`${name}-live.pem`, first.cert);
  const keyPath = pki.write(`${name}-live.key`, first.key);
  const logged = await startLogged({
    'tls.server.mode': 'enforcing',
    'tls.server.certPath': certPath,
    'tls.server.keyPath': keyPath,
    ...extra,
  });
  running.push(logged.t);
  return { ...logged, certPath, keyPath };
}

async function tlsClient(port: number): Promise<RemotingClient> {
  const client = await RemotingClient.connect({ host: '127.0.0.1', port, tls: { ca: ca.cert } });
  clients.push(client);
  return client;
}

async function answers(client: RemotingClient): Promise<boolean> {
  return (await client.invoke(RequestCode.GET_BROKER_CLUSTER_INFO)).code === ResponseCode.SUCCESS;
}

const reloads = (result: string) => `xnamesrv_tls_reloads_total{port="remoting",result="${result}"}`;
const expiryOf = (identity: Identity) => Date.parse(new X509Certificate(identity.cert).validTo) / 1000;

describe('certificates reload when their files change, polled on the server clock', () => {
  it('a rotated certificate: open connections keep working on the old one, new connections get the new one', async () => {
    const { t, lines, certPath, keyPath } = await startRotating('rotate');
    const port = t.server.remotingPort;
    const open = await tlsClient(port);
    expect(await answers(open)).toBe(true);
    expect((await serverCertificate(port)).subject.CN).toBe('first');

    // The certificate first: it does not match the key yet, so nothing changes.
    pki.write('rotate-live.pem', second.cert);
    expect(certPath).toBe(pki.path('rotate-live.pem'));
    t.clock.increment(500);
    expect((await serverCertificate(port)).subject.CN).toBe('first');
    expect(logged(lines, 'the certificate and key do not match yet')).toHaveLength(1);

    // Then the key: until the clock moves, the poll has not seen it.
    pki.write('rotate-live.key', second.key);
    expect(keyPath).toBe(pki.path('rotate-live.key'));
    t.clock.increment(499);
    expect((await serverCertificate(port)).subject.CN).toBe('first');
    t.clock.increment(1);
    expect((await serverCertificate(port)).subject.CN).toBe('second');

    expect(await answers(open)).toBe(true);
    expect(await served(port, { ca: ca.cert })).toBe(true);
    const metrics = (await t.http('/metrics')).text;
    expect(seriesValue(metrics, reloads('success'))).toBe(1);
    expect(seriesValue(metrics, reloads('failure'))).toBe(0);
    expect(
      seriesValue(
        metrics,
        `xnamesrv_tls_certificate_expiry_timestamp_seconds{key="tls.server.certPath",file="${certPath}"}`,
      ),
    ).toBe(expiryOf(second));
    const reloaded = logged(lines, 'TLS certificate reloaded after tls.server.keyPath=');
    expect(reloaded).toHaveLength(1);
    expect(reloaded[0]!.msg).toContain('new connections use it, open ones keep theirs');
    expect(logged(lines, `tls.server.certPath ${certPath} (CN=second) expires on`)).toHaveLength(1);
  });

  it('a certificate renewed with the same key reloads at once (Java would wait for the key file to change too)', async () => {
    const renewed = pki.issue('first-renewed', ca, 60, first);
    const { t } = await startRotating('renew');
    pki.write('renew-live.pem', renewed.cert);
    t.clock.increment(500);
    expect((await serverCertificate(t.server.remotingPort)).subject.CN).toBe('first-renewed');
    expect(seriesValue((await t.http('/metrics')).text, reloads('success'))).toBe(1);
  });

  it('a broken certificate file fails the reload: the error is logged, counted, and the old certificate stays in use', async () => {
    const { t, lines } = await startRotating('broken');
    const port = t.server.remotingPort;
    pki.write('broken-live.pem', 'not a certificate\n');
    t.clock.increment(500);
    expect((await serverCertificate(port)).subject.CN).toBe('first');
    expect(await served(port, { ca: ca.cert })).toBe(true);
    expect(seriesValue((await t.http('/metrics')).text, reloads('failure'))).toBe(1);
    const failure = logged(lines, 'TLS reload after tls.server.certPath=');
    expect(failure).toHaveLength(1);
    expect(failure[0]!.msg).toContain('the current certificate stays in use');
    expect(failure[0]!.msg).toContain('holds no PEM certificate');
    // Unchanged content is not polled again.
    t.clock.increment(5_000);
    expect(logged(lines, 'TLS reload after')).toHaveLength(1);
  });

  it('a deleted file keeps its last content until a new one appears (delete-then-copy is one change)', async () => {
    const { t, certPath } = await startRotating('deleted');
    const { rmSync } = await import('node:fs');
    rmSync(certPath);
    t.clock.increment(500);
    expect(seriesValue((await t.http('/metrics')).text, reloads('failure'))).toBe(0);
    pki.write('deleted-live.pem', first.cert);
    t.clock.increment(500);
    expect(seriesValue((await t.http('/metrics')).text, reloads('success'))).toBe(0);
  });

  it('a changed trust file reloads: client certificates of the new CA are accepted', async () => {
    const newCa = pki.ca('New CA');
    const newClient = pki.issue('new-client', newCa);
    const trustPath = pki.write('trusted-cas.pem', ca.cert);
    const { t, lines } = await startRotating('trusting', {
      'tls.server.need.client.auth': 'require',
      'tls.server.authClient': true,
      'tls.server.trustCertPath': trustPath,
    });
    const port = t.server.remotingPort;
    const withNewClient = { ca: ca.cert, cert: newClient.cert, key: newClient.key };
    expect(await served(port, withNewClient)).toBe(false);
    pki.write('trusted-cas.pem', newCa.cert);
    t.clock.increment(500);
    expect(await served(port, withNewClient)).toBe(true);
    expect(logged(lines, 'TLS certificate reloaded after tls.server.trustCertPath=')).toHaveLength(1);
  });

  it('the watcher stops with the server', async () => {
    const { t } = await startRotating('stopped');
    await t.stop();
    running.splice(running.indexOf(t), 1);
    pki.write('stopped-live.pem', second.cert);
    pki.write('stopped-live.key', second.key);
    t.clock.increment(500);
    expect(seriesValue((await t.server.metrics.render()) ?? '', reloads('success'))).toBe(0);
  });
});

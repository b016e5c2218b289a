import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawPeer } from '../support/rawPeer.js';
import type { TestServer } from '../support/harness.js';
import { TestPki, type Identity } from './pki.js';
import { logged, seriesValue, served, serversStoppedAfterEach, until } from './support.js';

let pki: TestPki;
let ca: Identity;
let server: Identity;
let client: Identity;
let strangerCa: Identity;
let stranger: Identity;

beforeAll(() => {
  pki = new TestPki();
  ca = pki.ca('Test CA');
  server = pki.issue('nameserver', ca);
  client = pki.issue('broker-a', ca);
  strangerCa = pki.ca('Stranger CA');
  stranger = pki.issue('stranger', strangerCa);
});
afterAll(() => pki.remove());

const start = serversStoppedAfterEach();

const withCertificate = (mode: string) => ({
  'tls.server.mode': mode,
  'tls.server.certPath': server.certPath,
  'tls.server.keyPath': server.keyPath,
});

async function scrape(t: TestServer): Promise<string> {
  return (await t.http('/metrics')).text;
}

const refused = (reason: string) => `xnamesrv_tls_refused_connections_total{port="remoting",reason="${reason}"}`;
const accepted = (protocol: string) =>
  `xnamesrv_tls_accepted_connections_total{port="remoting",protocol="${protocol}"}`;

describe('tls.server.mode: a TLS client and a plain client against each mode', () => {
  it('disabled: plain clients are served, a TLS handshake is closed, counted and logged once per peer', async () => {
    const { t, lines } = await start(withCertificate('disabled'));
    const port = t.server.remotingPort;
    expect(await served(port)).toBe(true);
    for (let i = 0; i < 3; i++) expect(await served(port, true)).toBe(false);
    const metrics = await scrape(t);
    expect(seriesValue(metrics, refused('tlsDisabled'))).toBe(3);
    expect(seriesValue(metrics, accepted('plain'))).toBe(1);
    const warnings = logged(lines, 'closed a connection from 127.0.0.1 to the remoting port');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain('tls.server.mode=disabled');
    expect(warnings[0]).toMatchObject({ reason: 'tlsDisabled', peer: '127.0.0.1', port: 'remoting' });
  });

  it('permissive: TLS and plain clients on the one port, counted by protocol', async () => {
    const { t } = await start(withCertificate('permissive'));
    const port = t.server.remotingPort;
    expect(await served(port)).toBe(true);
    expect(await served(port, true)).toBe(true);
    expect(await served(port, { ca: ca.cert })).toBe(true);
    const metrics = await scrape(t);
    expect(seriesValue(metrics, accepted('tls'))).toBe(2);
    expect(seriesValue(metrics, accepted('plain'))).toBe(1);
    expect(seriesValue(metrics, refused('plaintextRefused'))).toBe(0);
  });

  it('enforcing: TLS clients are served, a plain connection is closed before its first frame is read, counted and logged once per peer', async () => {
    const { t, lines } = await start(withCertificate('enforcing'));
    const port = t.server.remotingPort;
    expect(await served(port, true)).toBe(true);
    // A client in a reconnect loop: every attempt counted, one log line.
    for (let i = 0; i < 5; i++) expect(await served(port)).toBe(false);
    const metrics = await scrape(t);
    expect(seriesValue(metrics, refused('plaintextRefused'))).toBe(5);
    expect(seriesValue(metrics, accepted('tls'))).toBe(1);
    expect(seriesValue(metrics, accepted('plain'))).toBe(0);
    const warnings = logged(lines, 'closed a connection from 127.0.0.1 to the remoting port');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain('tls.server.mode=enforcing accepts TLS only');
    expect(warnings[0]!.msg).toContain('logged once per peer and reason; see xnamesrv_tls_refused_connections_total');
    // No request was handled for the plain clients.
    expect(
      seriesValue(metrics, 'xnamesrv_requests_total{code="106",request="GET_BROKER_CLUSTER_INFO",result="SUCCESS"}'),
    ).toBe(1);
  });

  it("permissive without a certificate (Java's default mode): plain clients are served, TLS ones refused, and the start says so", async () => {
    const { t, lines } = await start({ 'tls.server.mode': 'permissive' });
    const port = t.server.remotingPort;
    expect(await served(port)).toBe(true);
    expect(await served(port, true)).toBe(false);
    expect(seriesValue(await scrape(t), refused('noCertificate'))).toBe(1);
    const notice = logged(lines, 'TLS connections will be refused, plain ones served');
    expect(notice).toHaveLength(1);
    expect(notice[0]!.msg).toContain('tls.server.certPath and tls.server.keyPath are not set');
    expect(notice[0]!.msg).toContain('tls.test.mode.enable has no effect');
  });

  it('answers nothing a server sends first until the first bytes said what the peer speaks', async () => {
    const { t } = await start(withCertificate('enforcing'));
    const peer = await RawPeer.open(t.server.remotingPort);
    peer.write(Buffer.from([0, 0, 0, 8, 0, 0, 0, 4]));
    await peer.waitForClose();
    expect(peer.frames).toHaveLength(0);
    expect(peer.closedByServer).toBe(true);
  });
});

describe('client certificates: tls.server.need.client.auth and tls.server.authClient', () => {
  const verifying = (auth: string) => ({
    ...withCertificate('enforcing'),
    'tls.server.need.client.auth': auth,
    'tls.server.authClient': true,
    'tls.server.trustCertPath': ca.certPath,
  });

  it('require: a client without a certificate is closed; one from the trusted CA is served; one from another CA is closed', async () => {
    const { t, lines } = await start(verifying('require'));
    const port = t.server.remotingPort;
    expect(await served(port, true)).toBe(false);
    expect(await served(port, { rejectUnauthorized: false, cert: client.cert, key: client.key })).toBe(true);
    expect(await served(port, { rejectUnauthorized: false, cert: stranger.cert, key: stranger.key })).toBe(false);
    await until(async () => seriesValue(await scrape(t), refused('clientCertificateUntrusted')) === 1, 'counted');
    const metrics = await scrape(t);
    expect(seriesValue(metrics, refused('clientCertificateMissing'))).toBe(1);
    expect(seriesValue(metrics, accepted('tls'))).toBe(1);
    expect(logged(lines, 'no client certificate, and tls.server.need.client.auth=require')).toHaveLength(1);
    const untrusted = logged(lines, 'not trusted by tls.server.trustCertPath');
    expect(untrusted).toHaveLength(1);
    expect(untrusted[0]!.msg).toContain('CN=stranger');
  });

  it('require reads any letter case, as Java upper-cases it', async () => {
    const { t } = await start(verifying('REQUIRE'));
    expect(await served(t.server.remotingPort, true)).toBe(false);
    expect(seriesValue(await scrape(t), refused('clientCertificateMissing'))).toBe(1);
  });

  it('optional: a client without a certificate is served, one whose certificate does not verify is closed', async () => {
    const { t } = await start(verifying('optional'));
    const port = t.server.remotingPort;
    expect(await served(port, true)).toBe(true);
    expect(await served(port, { rejectUnauthorized: false, cert: client.cert, key: client.key })).toBe(true);
    expect(await served(port, { rejectUnauthorized: false, cert: stranger.cert, key: stranger.key })).toBe(false);
    await until(async () => seriesValue(await scrape(t), refused('clientCertificateUntrusted')) === 1, 'counted');
  });

  it("authClient=false (Java's default) asks for a certificate but accepts any", async () => {
    const { t } = await start({ ...verifying('require'), 'tls.server.authClient': false });
    const port = t.server.remotingPort;
    expect(await served(port, { rejectUnauthorized: false, cert: stranger.cert, key: stranger.key })).toBe(true);
    expect(await served(port, true)).toBe(false);
  });
});

describe('server certificates as a client sees them', () => {
  it('a client that trusts another CA refuses the server; the server counts the failed handshake', async () => {
    const { t } = await start(withCertificate('enforcing'));
    const port = t.server.remotingPort;
    expect(await served(port, { ca: strangerCa.cert })).toBe(false);
    expect(await served(port, { ca: ca.cert })).toBe(true);
    await until(
      async () => seriesValue(await scrape(t), refused('handshakeFailed')) === 1,
      'handshake failure counted',
    );
  });

  it('serves with an encrypted PKCS#8 key and tls.server.keyPassword', async () => {
    const password = 'correct horse';
    const { t } = await start({
      ...withCertificate('enforcing'),
      'tls.server.keyPath': pki.encryptKey(server, password),
      'tls.server.keyPassword': password,
    });
    expect(await served(t.server.remotingPort, { ca: ca.cert })).toBe(true);
  });
});

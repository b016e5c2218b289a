import { X509Certificate } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NameServerStartError } from '../../src/nameServer.js';
import type { TestServer } from '../support/harness.js';
import { TestPki, type Identity } from './pki.js';
import { logged, seriesValue, served, startLogged } from './support.js';

let pki: TestPki;
let ca: Identity;
let server: Identity;
let other: Identity;
const running: TestServer[] = [];

beforeAll(() => {
  pki = new TestPki();
  ca = pki.ca('Files CA');
  server = pki.issue('nameserver', ca);
  other = pki.issue('other', ca);
});
afterAll(() => pki.remove());
afterEach(async () => {
  await Promise.all(running.splice(0).map((t) => t.stop()));
});

/** Why the start failed, or undefined when it did not. */
async function startFailure(settings: Record<string, string>): Promise<string | undefined> {
  try {
    const { t } = await startLogged(settings);
    running.push(t);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(NameServerStartError);
    return (err as Error).message;
  }
}

describe('bad certificate files stop the start with a message naming the key and the file', () => {
  const remoting = (overrides: Record<string, string>) => ({
    'tls.server.mode': 'permissive',
    'tls.server.certPath': server.certPath,
    'tls.server.keyPath': server.keyPath,
    ...overrides,
  });

  it.each([
    [
      'a missing certificate',
      () => remoting({ 'tls.server.certPath': pki.path('missing.pem') }),
      /^tls\.server\.certPath: cannot read \S+missing\.pem: ENOENT/,
    ],
    [
      'a certificate file without a certificate',
      () => remoting({ 'tls.server.certPath': pki.write('empty.pem', 'hello\n') }),
      /^tls\.server\.certPath: \S+empty\.pem holds no PEM certificate/,
    ],
    [
      'a certificate that does not parse',
      () =>
        remoting({
          'tls.server.certPath': pki.write(
            'garbled.pem',
            '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
          ),
        }),
      /^tls\.server\.certPath: certificate 1 in \S+garbled\.pem cannot be read/,
    ],
    [
      'a missing key',
      () => remoting({ 'tls.server.keyPath': pki.path('missing.key') }),
      /^tls\.server\.keyPath: cannot read \S+missing\.key: ENOENT/,
    ],
    [
      'a key file without a key',
      () => remoting({ 'tls.server.keyPath': server.certPath }),
      /^tls\.server\.keyPath: \S+nameserver\.pem holds no readable PEM private key/,
    ],
    [
      'an encrypted key without a password',
      () => remoting({ 'tls.server.keyPath': pki.encryptKey(server, 'secret') }),
      /^tls\.server\.keyPath: \S+nameserver\.key\.enc is encrypted; set tls\.server\.keyPassword to its password/,
    ],
    [
      'a wrong key password',
      () => remoting({ 'tls.server.keyPath': pki.encryptKey(server, 'secret'), 'tls.server.keyPassword': 'wrong' }),
      /^tls\.server\.keyPassword: does not decrypt \S+nameserver\.key\.enc \(tls\.server\.keyPath\)/,
    ],
    [
      'a key that does not belong to the certificate',
      () => remoting({ 'tls.server.keyPath': other.keyPath }),
      /^tls\.server\.keyPath: the key in \S+other\.key does not belong to the certificate in \S+nameserver\.pem \(tls\.server\.certPath, CN=nameserver\)/,
    ],
    [
      'a missing trust file',
      () => remoting({ 'tls.server.trustCertPath': pki.path('missing-ca.pem') }),
      /^tls\.server\.trustCertPath: cannot read \S+missing-ca\.pem: ENOENT/,
    ],
    [
      "the HTTP port's missing certificate",
      () => ({
        httpTlsMode: 'enforcing',
        httpTlsCertPath: pki.path('missing-http.pem'),
        httpTlsKeyPath: server.keyPath,
      }),
      /^httpTlsCertPath: cannot read \S+missing-http\.pem: ENOENT/,
    ],
    [
      "the HTTP port's mismatched key",
      () => ({ httpTlsMode: 'permissive', httpTlsCertPath: server.certPath, httpTlsKeyPath: other.keyPath }),
      /^httpTlsKeyPath: the key in \S+other\.key does not belong to the certificate/,
    ],
  ])('%s', async (_what, settings, message) => {
    expect(await startFailure(settings())).toMatch(message);
  });

  it('files are not read in disabled mode (Java builds no SSL context then)', async () => {
    expect(
      await startFailure({
        'tls.server.mode': 'disabled',
        'tls.server.certPath': pki.path('missing.pem'),
        'tls.server.keyPath': pki.path('missing.key'),
      }),
    ).toBeUndefined();
  });
});

describe('certificate expiry: logged at start, exported as a gauge', () => {
  it('exports notAfter of the certificate and trust files, and logs each at start', async () => {
    const { t, lines } = await startLogged({
      'tls.server.mode': 'enforcing',
      'tls.server.certPath': server.certPath,
      'tls.server.keyPath': server.keyPath,
      'tls.server.trustCertPath': ca.certPath,
    });
    running.push(t);
    const metrics = (await t.http('/metrics')).text;
    const notAfter = (identity: Identity) => Date.parse(new X509Certificate(identity.cert).validTo) / 1000;
    expect(
      seriesValue(
        metrics,
        `xnamesrv_tls_certificate_expiry_timestamp_seconds{key="tls.server.certPath",file="${server.certPath}"}`,
      ),
    ).toBe(notAfter(server));
    expect(
      seriesValue(
        metrics,
        `xnamesrv_tls_certificate_expiry_timestamp_seconds{key="tls.server.trustCertPath",file="${ca.certPath}"}`,
      ),
    ).toBe(notAfter(ca));
    const line = logged(lines, `tls.server.certPath ${server.certPath} (CN=nameserver) expires on`);
    expect(line).toHaveLength(1);
    expect(line[0]).toMatchObject({ level: 40, days: 29 });
  });

  it('an expired certificate is a warning, not a stop: Java clients do not check it by default', async () => {
    const expired = pki.issue('expired', ca, -1);
    const { t, lines } = await startLogged({
      'tls.server.mode': 'enforcing',
      'tls.server.certPath': expired.certPath,
      'tls.server.keyPath': expired.keyPath,
    });
    running.push(t);
    const warning = logged(lines, 'expired on');
    expect(warning).toHaveLength(1);
    expect(warning[0]!.msg).toContain('clients that check it will refuse the connection');
    expect(await served(t.server.remotingPort, true)).toBe(true);
    expect(await served(t.server.remotingPort, { ca: ca.cert })).toBe(false);
  });

  it('a certificate far from expiry is logged at info', async () => {
    const lasting = pki.issue('lasting', ca, 400);
    const { t, lines } = await startLogged({
      'tls.server.mode': 'permissive',
      'tls.server.certPath': lasting.certPath,
      'tls.server.keyPath': lasting.keyPath,
    });
    running.push(t);
    expect(logged(lines, '(CN=lasting) expires on')[0]).toMatchObject({ level: 30 });
  });
});

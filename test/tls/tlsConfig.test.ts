import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { RuntimeConfig } from '../../src/config/runtimeConfig.js';
import { CONFIG_KEYS, envNameOf, type NamesrvOptions } from '../../src/config/schema.js';
import { NameServerOptionsError, startNameServer } from '../../src/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xnamesrv-tls-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** No tls.config.file unless a test names one: the machine's /etc/rocketmq/tls.properties stays out. */
const NO_TLS_FILE = ['--tls.config.file='];

function ok(argv: string[], env: Record<string, string> = {}): NamesrvOptions {
  const result = loadConfig({ argv, env, homeDir: dir });
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.config;
}

function errorsOf(argv: string[], env: Record<string, string> = {}): string[] {
  const result = loadConfig({ argv, env, homeDir: dir });
  if (result.ok) throw new Error('expected the configuration to be refused');
  return result.errors;
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("RocketMQ's TLS keys, from the places Java reads them and xnamesrv's own", () => {
  it('lists every TlsSystemConfig server key in the schema, with its Java default', () => {
    const tls = CONFIG_KEYS.filter((key) => key.javaClass === 'TlsSystemConfig');
    expect(Object.fromEntries(tls.map((key) => [key.name, key.default]))).toEqual({
      'tls.server.mode': 'permissive',
      'tls.config.file': '/etc/rocketmq/tls.properties',
      'tls.test.mode.enable': true,
      'tls.server.certPath': '',
      'tls.server.keyPath': '',
      'tls.server.keyPassword': '',
      'tls.server.need.client.auth': 'none',
      'tls.server.authClient': false,
      'tls.server.trustCertPath': '',
    });
    expect(tls.every((key) => key.origin === 'rocketmq' && !key.runtimeUpdatable)).toBe(true);
    expect(CONFIG_KEYS.find((key) => key.name === 'tls.test.mode.enable')?.notApplicable).toMatch(
      /makes no self-signed certificate/,
    );
  });

  it('reads -Dkey=value flags as Java reads system properties, and names them as the source', () => {
    const config = ok([
      ...NO_TLS_FILE,
      '-Dtls.server.mode=enforcing',
      '-Dtls.server.certPath=/c.pem',
      '-Dtls.server.keyPath=/k.pem',
    ]);
    expect(config['tls.server.mode']).toBe('enforcing');
    expect(config['tls.server.certPath']).toBe('/c.pem');
    expect(errorsOf([...NO_TLS_FILE, '-Dtls.server.mode=strict'])).toEqual([
      'tls.server.mode: expected one of disabled, permissive, enforcing, got "strict" (flag -Dtls.server.mode)',
    ]);
    // The last one given wins, -D or --flag alike.
    expect(
      ok([...NO_TLS_FILE, '-Dtls.server.mode=disabled', '--tls.server.mode', 'permissive'])['tls.server.mode'],
    ).toBe('permissive');
    expect(ok([...NO_TLS_FILE, '--tls.server.mode=permissive', '-Dtls.server.mode=disabled'])['tls.server.mode']).toBe(
      'disabled',
    );
    // Any configuration key, not only TLS ones.
    expect(ok([...NO_TLS_FILE, '-DlistenPort=9999']).listenPort).toBe(9999);
  });

  it('refuses an unknown -D property with a suggestion', () => {
    expect(errorsOf([...NO_TLS_FILE, '-Dtls.server.certpath=/c.pem'])).toEqual([
      "unknown system property -Dtls.server.certpath: -D sets xnamesrv's configuration keys only (did you mean tls.server.certPath?)",
    ]);
  });

  it('an unknown tls.server.mode stops the start (Java would quietly run permissive)', () => {
    for (const source of [['--tls.server.mode', 'ENFORCING'], ['-Dtls.server.mode=enforce']]) {
      const errors = errorsOf([...NO_TLS_FILE, ...source]);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^tls\.server\.mode: expected one of disabled, permissive, enforcing/);
    }
  });

  it('reads the environment (XNAMESRV_TLS_SERVER_MODE) and the -c file, a superset of Java', () => {
    expect(envNameOf('tls.server.need.client.auth')).toBe('XNAMESRV_TLS_SERVER_NEED_CLIENT_AUTH');
    expect(envNameOf('tls.server.certPath')).toBe('XNAMESRV_TLS_SERVER_CERT_PATH');
    const fromEnv = ok(NO_TLS_FILE, {
      XNAMESRV_TLS_SERVER_MODE: 'disabled',
      XNAMESRV_TLS_SERVER_NEED_CLIENT_AUTH: 'Optional',
    });
    expect(fromEnv['tls.server.mode']).toBe('disabled');
    expect(fromEnv['tls.server.need.client.auth']).toBe('optional');
    const properties = file(
      'namesrv.properties',
      'listenPort=9876\ntls.server.mode=disabled\ntls.server.authClient=true\n',
    );
    const fromFile = ok([...NO_TLS_FILE, '-c', properties]);
    expect(fromFile['tls.server.mode']).toBe('disabled');
    expect(fromFile['tls.server.authClient']).toBe(true);
  });

  it('tls.config.file overrides -D, flags, the environment and the -c file, for the keys it holds', () => {
    const tlsFile = file(
      'tls.properties',
      [
        'tls.test.mode.enable=false',
        'tls.server.need.client.auth=require',
        'tls.server.certPath=/from-file/cert.pem',
        'tls.server.keyPath=/from-file/key.pem',
        'tls.server.keyPassword=pw',
        'tls.server.authClient=true',
        'tls.server.trustCertPath=/from-file/ca.pem',
        // A shared tls.properties also holds the clients' settings: skipped.
        'tls.enable=true',
        'tls.client.certPath=/client/cert.pem',
        'tls.client.authServer=true',
        '',
      ].join('\n'),
    );
    const config = ok(
      ['-Dtls.config.file=' + tlsFile, '-Dtls.server.certPath=/flag/cert.pem', '-Dtls.server.mode=enforcing'],
      { XNAMESRV_TLS_SERVER_KEY_PATH: '/env/key.pem', XNAMESRV_TLS_SERVER_TRUST_CERT_PATH: '/env/ca.pem' },
    );
    expect(config['tls.server.certPath']).toBe('/from-file/cert.pem');
    expect(config['tls.server.keyPath']).toBe('/from-file/key.pem');
    expect(config['tls.server.trustCertPath']).toBe('/from-file/ca.pem');
    expect(config['tls.server.keyPassword']).toBe('pw');
    expect(config['tls.server.need.client.auth']).toBe('require');
    expect(config['tls.server.authClient']).toBe(true);
    expect(config['tls.test.mode.enable']).toBe(false);
    // Not read from the file: the flag's value stands.
    expect(config['tls.server.mode']).toBe('enforcing');
  });

  it('names the tls.config.file line of a bad value, and refuses the keys Java never reads from it', () => {
    const tlsFile = file(
      'tls.properties',
      'tls.server.authClient=yes\ntls.server.mode=enforcing\ntls.server.certpath=/c\n',
    );
    const errors = errorsOf(['--tls.config.file', tlsFile]);
    expect(errors).toEqual([
      `tls.server.mode (tls.config.file ${tlsFile} line 2): not read from tls.config.file, nor by Java; set it with -Dtls.server.mode=, --tls.server.mode, XNAMESRV_TLS_SERVER_MODE or the -c file (named by flag --tls.config.file)`,
      expect.stringMatching(
        /^unknown key "tls\.server\.certpath" \(tls\.config\.file \S+ line 3\) \(did you mean tls\.server\.certPath\?\)/,
      ),
    ]);
    const badValue = file('bad.properties', 'tls.server.authClient=yes\n');
    expect(errorsOf(['--tls.config.file', badValue])).toEqual([
      `tls.server.authClient: expected true or false, got "yes" (tls.config.file ${badValue} line 1)`,
    ]);
  });

  it('a missing default tls.config.file is skipped; a missing file that was named is an error', () => {
    const missing = join(dir, 'missing.properties');
    expect(ok(['--tls.config.file', ''])['tls.config.file']).toBe('');
    expect(errorsOf([`-Dtls.config.file=${missing}`])).toEqual([
      expect.stringMatching(
        new RegExp(`^tls\\.config\\.file: cannot read ${missing}: ENOENT.*\\(named by flag -Dtls\\.config\\.file\\)$`),
      ),
    ]);
  });

  it('refuses combinations that could serve no one, naming each key', () => {
    expect(errorsOf([...NO_TLS_FILE, '--tls.server.certPath', '/c.pem'])).toEqual([
      'tls.server.keyPath (default): must be set too when tls.server.certPath is (flag --tls.server.certPath)',
    ]);
    expect(errorsOf([...NO_TLS_FILE, '-Dtls.server.mode=enforcing'])).toEqual([
      'tls.server.mode (enforcing, flag -Dtls.server.mode) needs tls.server.certPath and tls.server.keyPath: without a certificate no client could connect',
    ]);
    expect(errorsOf([...NO_TLS_FILE, '--httpTlsMode', 'permissive'])).toEqual([
      'httpTlsMode (permissive, flag --httpTlsMode) needs httpTlsCertPath and httpTlsKeyPath: without a certificate no HTTPS client could connect',
    ]);
    expect(
      errorsOf([
        ...NO_TLS_FILE,
        '--httpTlsMode',
        'enforcing',
        '--httpTlsCertPath',
        '/c',
        '--httpTlsKeyPath',
        '/k',
        '--httpTlsNeedClientAuth',
        'require',
      ]),
    ).toEqual([
      'httpTlsTrustCertPath ("", default) must name the CA certificates that client certificates are verified against when httpTlsNeedClientAuth is require',
    ]);
    expect(errorsOf([...NO_TLS_FILE, '--httpAuthRequired', 'true'])).toEqual([
      'httpAuthRequired (true, flag --httpAuthRequired) would let no one in: set gatewayToken, or httpTlsNeedClientAuth with httpTlsTrustCertPath for client certificates',
    ]);
  });

  it('masks the key passwords wherever the configuration is shown, and refuses the mask pasted back', () => {
    const secret = CONFIG_KEYS.filter((key) => key.secret).map((key) => key.name);
    expect(secret).toEqual(expect.arrayContaining(['tls.server.keyPassword', 'httpTlsKeyPassword']));
    expect(errorsOf([...NO_TLS_FILE, '-Dtls.server.keyPassword=******'])).toEqual([
      'tls.server.keyPassword (flag -Dtls.server.keyPassword): ****** is the masked display value, not a password',
    ]);
  });
});

describe('the file UPDATE_NAMESRV_CONFIG writes', () => {
  it('is kept to its owner (mode 0600) when it holds a key password, and read back with -c', async () => {
    const store = join(dir, 'namesrv.properties');
    writeFileSync(store, 'listenPort=9876\n');
    const loaded = loadConfig({ argv: ['-c', store, '-Dtls.server.keyPassword=pw'], env: {}, homeDir: dir });
    if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
    const result = await new RuntimeConfig(loaded.config).update('orderMessageEnable=true\n');
    expect(result.ok).toBe(true);
    expect(statSync(store).mode & 0o777).toBe(0o600);
    expect(ok(['-c', store])['tls.server.keyPassword']).toBe('pw');
    // It names the default tls.config.file, which need not exist.
    expect(readFileSync(store, 'utf8')).toMatch(/^tls\.config\.file=\/etc\/rocketmq\/tls\.properties$/m);
  });
});

describe('embedded (startNameServer)', () => {
  it('reads no tls.config.file unless one is given; a given one overrides the options', async () => {
    const tlsFile = file('tls.properties', 'tls.server.need.client.auth=optional\n');
    const server = await startNameServer({ 'tls.config.file': tlsFile, 'tls.server.need.client.auth': 'none' });
    try {
      expect(server.config['tls.server.need.client.auth']).toBe('optional');
    } finally {
      await server.stop();
    }
    const plain = await startNameServer({});
    try {
      expect(plain.config['tls.config.file']).toBe('');
    } finally {
      await plain.stop();
    }
  });

  it('names the key of a refused option', async () => {
    const refusal = await startNameServer({ 'tls.server.mode': 'enforcing' }).catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(NameServerOptionsError);
    expect((refusal as NameServerOptionsError).keys).toEqual(['tls.server.mode']);
    const missing = await startNameServer({ 'tls.config.file': join(dir, 'none.properties') }).catch(
      (err: unknown) => err,
    );
    expect((missing as NameServerOptionsError).keys).toEqual(['tls.config.file']);
  });
});

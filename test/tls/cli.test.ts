import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killAll, portsOf, spawnCli } from '../support/spawnedCli.js';
import { TestPki, type Identity } from './pki.js';
import { served } from './support.js';

let pki: TestPki;
let ca: Identity;
let server: Identity;
let dataDir: string;

beforeAll(() => {
  pki = new TestPki();
  ca = pki.ca('CLI CA');
  server = pki.issue('nameserver', ca);
  dataDir = mkdtempSync(join(tmpdir(), 'xnamesrv-tls-cli-'));
});
afterAll(() => {
  pki.remove();
  rmSync(dataDir, { recursive: true, force: true });
});
afterEach(killAll);

const base = () => ['--data-dir', dataDir, '--listenPort', '0', '--httpPort', '0', '--bindAddress', '127.0.0.1'];

describe('the command line, as a Java operator writes it', () => {
  it('starts with -D system properties, like mqnamesrv with JAVA_OPT', async () => {
    const cli = spawnCli([
      ...base(),
      '-Dtls.config.file=',
      '-Dtls.server.mode=enforcing',
      `-Dtls.server.certPath=${server.certPath}`,
      `-Dtls.server.keyPath=${server.keyPath}`,
    ]);
    const { remoting } = await portsOf(cli);
    expect(await served(remoting, { ca: ca.cert })).toBe(true);
    expect(await served(remoting)).toBe(false);
    await cli.until(
      /closed a connection from 127\.0\.0\.1 to the remoting port: tls\.server\.mode=enforcing accepts TLS only/,
    );
    expect((await cli.stop()).code).toBe(0);
  });

  it('exits 2 for an unknown tls.server.mode, naming the flag', async () => {
    const cli = spawnCli([...base(), '-Dtls.server.mode=enforce']);
    expect((await cli.exited).code).toBe(2);
    expect(cli.stderr()).toContain(
      'xnamesrv: tls.server.mode: expected one of disabled, permissive, enforcing, got "enforce" (flag -Dtls.server.mode)',
    );
  });

  it('exits 1 for a certificate file it cannot read, naming the key and the file', async () => {
    const missing = pki.path('missing.pem');
    const cli = spawnCli([
      ...base(),
      '-Dtls.config.file=',
      `-Dtls.server.certPath=${missing}`,
      `-Dtls.server.keyPath=${server.keyPath}`,
    ]);
    expect((await cli.exited).code).toBe(1);
    expect(cli.stderr()).toContain(`tls.server.certPath: cannot read ${missing}`);
  });
});

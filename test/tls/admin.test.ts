import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runAdmin } from '../../src/cli/admin.js';
import { capture } from '../cli/support.js';
import type { TestServer } from '../support/harness.js';
import { TestPki, type Identity } from './pki.js';
import { startLogged } from './support.js';

let pki: TestPki;
let server: Identity;
let t: TestServer;

beforeAll(() => {
  pki = new TestPki();
  server = pki.issue('nameserver', pki.ca('Admin CA'));
});
afterAll(() => pki.remove());
afterEach(async () => {
  await t.stop();
});

async function admin(argv: string[]) {
  const c = capture();
  const code = await runAdmin(argv, {}, c.io);
  return { code, out: c.stdout(), err: c.stderr() };
}

describe('xnamesrv admin --tls', () => {
  it('talks to a TLS-only name server with --tls; without it, says what to try', async () => {
    ({ t } = await startLogged({
      'tls.server.mode': 'enforcing',
      'tls.server.certPath': server.certPath,
      'tls.server.keyPath': server.keyPath,
    }));
    const addr = `127.0.0.1:${t.server.remotingPort}`;
    const secure = await admin(['getNamesrvConfig', '-n', addr, '--tls', '--json']);
    expect(secure.code).toBe(0);
    expect(secure.out).toContain('"tls.server.mode": "enforcing"');
    const plain = await admin(['getNamesrvConfig', '-n', addr]);
    expect(plain.code).toBe(2);
    expect(plain.err).toContain('a name server with tls.server.mode=enforcing closes plain connections: try --tls');
  });

  it('--tls against a plain-only name server fails the handshake', async () => {
    ({ t } = await startLogged({ 'tls.server.mode': 'disabled' }));
    const addr = `127.0.0.1:${t.server.remotingPort}`;
    expect((await admin(['clusterList', '-n', addr])).code).toBe(0);
    const secure = await admin(['clusterList', '-n', addr, '--tls']);
    expect(secure.code).toBe(2);
    expect(secure.err).not.toContain('try --tls');
  });
});

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate and its key, as files and as PEM text. */
export interface Identity {
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
}

/**
 * Test certificates, made with the openssl command (Debian's `openssl`
 * package; .ci/run installs it) in a temporary directory: P-256 keys, so a
 * whole set takes a fraction of a second.
 */
export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'xnamesrv-pki-'));
  private serial = 1;

  /** A self-signed CA. */
  ca(name: string, days = 30): Identity {
    const keyPath = this.newKey(name);
    const certPath = this.path(`${name}.pem`);
    openssl(
      'req',
      '-x509',
      '-new',
      '-key',
      keyPath,
      '-subj',
      `/CN=${name}`,
      '-days',
      String(days),
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      certPath,
    );
    return this.identity(certPath, keyPath);
  }

  /**
   * A certificate for `name` signed by `issuer`, valid for `days` from now (a
   * negative number makes one that has already expired). Its SAN covers
   * 127.0.0.1 and localhost, so a verifying client accepts it as a server's.
   * With `keyOf`, the certificate is for that identity's key (a renewal that keeps the key).
   */
  issue(name: string, issuer: Identity, days = 30, keyOf?: Identity): Identity {
    const keyPath = keyOf?.keyPath ?? this.newKey(name);
    const csr = this.path(`${name}.csr`);
    const certPath = this.path(`${name}.pem`);
    const extensions = this.path(`${name}.ext`);
    writeFileSync(extensions, 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    openssl('req', '-new', '-key', keyPath, '-subj', `/CN=${name}`, '-out', csr);
    openssl(
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      issuer.certPath,
      '-CAkey',
      issuer.keyPath,
      '-set_serial',
      String(this.serial++),
      '-days',
      String(days),
      '-extfile',
      extensions,
      '-out',
      certPath,
    );
    return this.identity(certPath, keyPath);
  }

  /** `identity`'s key as an encrypted PKCS#8 PEM (`ENCRYPTED PRIVATE KEY`), as RocketMQ's TLS guide makes them. */
  encryptKey(identity: Identity, password: string): string {
    const out = this.path(`${identity.keyPath.replace(/.*\//, '')}.enc`);
    openssl(
      'pkcs8',
      '-topk8',
      '-in',
      identity.keyPath,
      '-out',
      out,
      '-passout',
      `pass:${password}`,
      '-v2',
      'aes-256-cbc',
    );
    return out;
  }

  /** A file in the directory with this content. */
  write(name: string, content: string | Buffer): string {
    const path = this.path(name);
    writeFileSync(path, content);
    return path;
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private newKey(name: string): string {
    const keyPath = this.path(`${name}.key`);
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath);
    return keyPath;
  }

  private identity(certPath: string, keyPath: string): Identity {
    return { certPath, keyPath, cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
  }
}

function openssl(...args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args.join(' ')} failed (is the openssl command installed?): ${stderr || String(err)}`, {
      cause: err,
    });
  }
}

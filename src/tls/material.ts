import { errorMessage } from '../util/errorMessage.js';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { ConfigKey } from '../config/schema.js';
import { hasCertificate, type TlsSettings } from './settings.js';

/** When one certificate file stops being valid: its earliest notAfter. */
export interface CertificateExpiry {
  /** The configuration key naming the file, e.g. tls.server.certPath. */
  readonly key: ConfigKey;
  readonly file: string;
  /** Milliseconds since the epoch. */
  readonly notAfter: number;
  /** Subject of the certificate that expires first. */
  readonly subject: string;
}

/** What a TLS server needs, read and checked: options for tls.Server#setSecureContext, and the expiry dates. */
export interface TlsMaterial {
  readonly contextOptions: SecureContextOptions;
  readonly expiries: readonly CertificateExpiry[];
}

/** A file of a TLS setting is missing, unreadable or wrong; the message names the key and the file. */
export class TlsMaterialError extends Error {
  override readonly name = 'TlsMaterialError';

  constructor(
    message: string,
    /** The certificate and its key do not belong together (mid-rotation, when one file is replaced before the other). */
    readonly mismatch = false,
  ) {
    super(message);
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

const reason = errorMessage;

function readFile(key: ConfigKey, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TlsMaterialError(`${key}: cannot read ${path}: ${reason(err)}`);
  }
}

/** Every certificate in a PEM file, in order (a chain: the server's own first). */
function readCertificates(key: ConfigKey, path: string): { pem: Buffer; certificates: X509Certificate[] } {
  const pem = readFile(key, path);
  const blocks = pem.toString('latin1').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    throw new TlsMaterialError(`${key}: ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  const certificates = blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new TlsMaterialError(`${key}: certificate ${index + 1} in ${path} cannot be read: ${reason(err)}`);
    }
  });
  return { pem, certificates };
}

function readPrivateKey(settings: TlsSettings): { pem: Buffer; key: KeyObject } {
  const { keys, keyPath, keyPassword } = settings;
  const pem = readFile(keys.keyPath, keyPath);
  const encrypted = /-----BEGIN (ENCRYPTED PRIVATE KEY|[A-Z ]*PRIVATE KEY-----\r?\nProc-Type: 4,ENCRYPTED)/.test(
    pem.toString('latin1'),
  );
  if (encrypted && keyPassword === '') {
    throw new TlsMaterialError(`${keys.keyPath}: ${keyPath} is encrypted; set ${keys.keyPassword} to its password`);
  }
  try {
    return {
      pem,
      key: createPrivateKey({ key: pem, format: 'pem', ...(keyPassword !== '' ? { passphrase: keyPassword } : {}) }),
    };
  } catch (err) {
    if (encrypted) {
      throw new TlsMaterialError(`${keys.keyPassword}: does not decrypt ${keyPath} (${keys.keyPath}): ${reason(err)}`);
    }
    throw new TlsMaterialError(`${keys.keyPath}: ${keyPath} holds no readable PEM private key: ${reason(err)}`);
  }
}

function earliestExpiry(key: ConfigKey, file: string, certificates: X509Certificate[]): CertificateExpiry {
  let first: CertificateExpiry | undefined;
  for (const certificate of certificates) {
    const notAfter = Date.parse(certificate.validTo);
    if (first === undefined || notAfter < first.notAfter)
      first = { key, file, notAfter, subject: certificate.subject.replace(/\n/g, ', ') };
  }
  return first!;
}

/**
 * Reads and checks one port's certificate, key and trusted CAs. Undefined
 * when no certificate is configured. Throws TlsMaterialError naming the key
 * and the file for a file that is missing or unreadable, holds no
 * certificate or key, a key the password does not open, or a key that does
 * not belong to the certificate.
 */
export function loadTlsMaterial(settings: TlsSettings): TlsMaterial | undefined {
  if (!hasCertificate(settings)) return undefined;
  const { keys } = settings;
  const chain = readCertificates(keys.certPath, settings.certPath);
  const privateKey = readPrivateKey(settings);
  const leaf = chain.certificates[0]!;
  if (!leaf.checkPrivateKey(privateKey.key)) {
    throw new TlsMaterialError(
      `${keys.keyPath}: the key in ${settings.keyPath} does not belong to the certificate in ${settings.certPath} (${keys.certPath}, ${leaf.subject.replace(/\n/g, ', ')})`,
      true,
    );
  }
  const expiries = [earliestExpiry(keys.certPath, settings.certPath, chain.certificates)];
  const contextOptions: SecureContextOptions = { cert: chain.pem, key: privateKey.pem };
  if (settings.keyPassword !== '') contextOptions.passphrase = settings.keyPassword;
  if (settings.trustCertPath !== '') {
    const trust = readCertificates(keys.trustCertPath, settings.trustCertPath);
    expiries.push(earliestExpiry(keys.trustCertPath, settings.trustCertPath, trust.certificates));
    contextOptions.ca = trust.pem;
  }
  try {
    // What the handshakes will use: anything OpenSSL still refuses shows up now, not at the first client.
    createSecureContext(contextOptions);
  } catch (err) {
    throw new TlsMaterialError(
      `${keys.certPath} ${settings.certPath} with ${keys.keyPath} ${settings.keyPath}: ${reason(err)}`,
    );
  }
  return { contextOptions, expiries };
}

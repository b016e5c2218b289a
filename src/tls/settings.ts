import { SECRET_MASK, type ConfigKey, type NamesrvOptions } from '../config/schema.js';

export type TlsMode = 'disabled' | 'permissive' | 'enforcing';
export type ClientAuth = 'none' | 'optional' | 'require';
/** Which listening port a TLS setting, refusal or certificate belongs to (a metric label). */
export type TlsPort = 'remoting' | 'http';

/** The configuration key behind each setting, so every message names what an operator sets. */
export interface TlsKeyNames {
  readonly mode: ConfigKey;
  readonly certPath: ConfigKey;
  readonly keyPath: ConfigKey;
  readonly keyPassword: ConfigKey;
  readonly clientAuth: ConfigKey;
  readonly trustCertPath: ConfigKey;
}

/** One port's TLS settings, whichever keys they came from. */
export interface TlsSettings {
  readonly port: TlsPort;
  readonly mode: TlsMode;
  readonly certPath: string;
  readonly keyPath: string;
  readonly keyPassword: string;
  readonly clientAuth: ClientAuth;
  /**
   * Client certificates must chain to trustCertPath (the system CAs when it is
   * empty). false accepts any client certificate, as Java's default
   * tls.server.authClient=false does.
   */
  readonly verifyClient: boolean;
  readonly trustCertPath: string;
  readonly handshakeTimeoutMs: number;
  readonly keys: TlsKeyNames;
}

export const REMOTING_TLS_KEYS: TlsKeyNames = {
  mode: 'tls.server.mode',
  certPath: 'tls.server.certPath',
  keyPath: 'tls.server.keyPath',
  keyPassword: 'tls.server.keyPassword',
  clientAuth: 'tls.server.need.client.auth',
  trustCertPath: 'tls.server.trustCertPath',
};

export const HTTP_TLS_KEYS: TlsKeyNames = {
  mode: 'httpTlsMode',
  certPath: 'httpTlsCertPath',
  keyPath: 'httpTlsKeyPath',
  keyPassword: 'httpTlsKeyPassword',
  clientAuth: 'httpTlsNeedClientAuth',
  trustCertPath: 'httpTlsTrustCertPath',
};

type TlsConfig = Pick<
  NamesrvOptions,
  | 'tls.server.mode'
  | 'tls.server.certPath'
  | 'tls.server.keyPath'
  | 'tls.server.keyPassword'
  | 'tls.server.need.client.auth'
  | 'tls.server.authClient'
  | 'tls.server.trustCertPath'
  | 'httpTlsMode'
  | 'httpTlsCertPath'
  | 'httpTlsKeyPath'
  | 'httpTlsKeyPassword'
  | 'httpTlsNeedClientAuth'
  | 'httpTlsTrustCertPath'
  | 'tlsHandshakeTimeoutSeconds'
>;

export function remotingTlsSettings(config: TlsConfig): TlsSettings {
  return {
    port: 'remoting',
    mode: config['tls.server.mode'],
    certPath: config['tls.server.certPath'],
    keyPath: config['tls.server.keyPath'],
    keyPassword: config['tls.server.keyPassword'],
    clientAuth: config['tls.server.need.client.auth'],
    verifyClient: config['tls.server.authClient'],
    trustCertPath: config['tls.server.trustCertPath'],
    handshakeTimeoutMs: config.tlsHandshakeTimeoutSeconds * 1000,
    keys: REMOTING_TLS_KEYS,
  };
}

/** The HTTP port always verifies client certificates (httpTlsTrustCertPath is required for them). */
export function httpTlsSettings(config: TlsConfig): TlsSettings {
  return {
    port: 'http',
    mode: config.httpTlsMode,
    certPath: config.httpTlsCertPath,
    keyPath: config.httpTlsKeyPath,
    keyPassword: config.httpTlsKeyPassword,
    clientAuth: config.httpTlsNeedClientAuth,
    verifyClient: true,
    trustCertPath: config.httpTlsTrustCertPath,
    handshakeTimeoutMs: config.tlsHandshakeTimeoutSeconds * 1000,
    keys: HTTP_TLS_KEYS,
  };
}

/** A certificate and key are configured: TLS connections can be served. */
export function hasCertificate(settings: TlsSettings): boolean {
  return settings.certPath !== '' && settings.keyPath !== '';
}

/**
 * Combinations of TLS keys that cannot work, in the words of checkCombination
 * (each message starts with the key it is about). File contents are checked
 * when the server starts (material.ts), not here.
 */
export function checkTlsCombination(
  config: TlsConfig & Pick<NamesrvOptions, 'httpAuthRequired' | 'gatewayToken'>,
  sourceOf: (key: ConfigKey) => string,
): string[] {
  const errors: string[] = [];
  const show = (key: ConfigKey, value: string): string => `${key} (${value || '""'}, ${sourceOf(key)})`;
  for (const settings of [remotingTlsSettings(config), httpTlsSettings(config)]) {
    const { keys } = settings;
    if ((settings.certPath === '') !== (settings.keyPath === '')) {
      const [missing, given] = settings.certPath === '' ? [keys.certPath, keys.keyPath] : [keys.keyPath, keys.certPath];
      errors.push(`${missing} (${sourceOf(missing)}): must be set too when ${given} is (${sourceOf(given)})`);
    }
    if (settings.mode === 'disabled' || hasCertificate(settings)) continue;
    // Remoting in permissive mode without a certificate is Java's default
    // (where a test certificate fills in): plain clients are served, TLS ones
    // are refused and the start says so. Anything else could serve no one.
    if (settings.port === 'remoting' && settings.mode === 'permissive') continue;
    errors.push(
      `${show(keys.mode, settings.mode)} needs ${keys.certPath} and ${keys.keyPath}: without a certificate ${
        settings.mode === 'enforcing' ? 'no client could connect' : 'no HTTPS client could connect'
      }`,
    );
  }
  if (config.httpTlsNeedClientAuth !== 'none') {
    if (config.httpTlsMode === 'disabled') {
      errors.push(
        `${show('httpTlsNeedClientAuth', config.httpTlsNeedClientAuth)} needs HTTPS: set httpTlsMode to permissive or enforcing`,
      );
    }
    if (config.httpTlsTrustCertPath === '') {
      errors.push(
        `${show('httpTlsTrustCertPath', '')} must name the CA certificates that client certificates are verified against when httpTlsNeedClientAuth is ${config.httpTlsNeedClientAuth}`,
      );
    }
  }
  for (const key of ['tls.server.keyPassword', 'httpTlsKeyPassword'] as const) {
    // `-p` and GET_NAMESRV_CONFIG print secrets as ******: this value was pasted back from their output.
    if (config[key] === SECRET_MASK) {
      errors.push(`${key} (${sourceOf(key)}): ${SECRET_MASK} is the masked display value, not a password`);
    }
  }
  if (config.httpAuthRequired && config.gatewayToken === '' && config.httpTlsNeedClientAuth === 'none') {
    errors.push(
      `httpAuthRequired (true, ${sourceOf('httpAuthRequired')}) would let no one in: set gatewayToken, or httpTlsNeedClientAuth with httpTlsTrustCertPath for client certificates`,
    );
  }
  return errors;
}

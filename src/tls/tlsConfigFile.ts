import { errorMessage } from '../util/errorMessage.js';
import { readFileSync } from 'node:fs';
import { parseProperties } from '../config/properties.js';
import { parseConfigValue, type ConfigKey, type NamesrvOptions } from '../config/schema.js';

/**
 * Java's tls.config.file (TlsSystemConfig, /etc/rocketmq/tls.properties by
 * default): a properties file whose entries override the -D system
 * properties each time Java builds its SSL context. These are the server
 * keys it reads; xnamesrv lets them override every other source as well.
 */
export const TLS_FILE_KEYS = [
  'tls.test.mode.enable',
  'tls.server.need.client.auth',
  'tls.server.keyPath',
  'tls.server.keyPassword',
  'tls.server.certPath',
  'tls.server.authClient',
  'tls.server.trustCertPath',
] as const satisfies readonly ConfigKey[];

/**
 * Entries the same file holds for Java clients and brokers' outgoing
 * connections (one tls.properties often serves both): no name server
 * setting, so they are skipped.
 */
const CLIENT_KEYS = new Set([
  'tls.enable',
  'tls.client.keyPath',
  'tls.client.keyPassword',
  'tls.client.certPath',
  'tls.client.authServer',
  'tls.client.trustCertPath',
]);

/** Keys Java never reads from the file: one there is a mistake that would go unnoticed in Java. */
const NOT_FROM_FILE: Record<string, string> = {
  'tls.server.mode': 'set it with -Dtls.server.mode=, --tls.server.mode, XNAMESRV_TLS_SERVER_MODE or the -c file',
  'tls.config.file': 'one tls.config.file does not name another',
};

export interface TlsFileSetting {
  raw: string;
  source: string;
}

export type TlsFileResult =
  { ok: true; found: boolean; settings: Map<ConfigKey, TlsFileSetting> } | { ok: false; errors: string[] };

/**
 * Reads the server keys of a tls.config.file. A file that is not there is
 * skipped unless it was named explicitly (`required`), as Java skips its
 * default path.
 */
export function readTlsConfigFile(path: string, required: boolean): TlsFileResult {
  const settings = new Map<ConfigKey, TlsFileSetting>();
  if (path === '') return { ok: true, found: false, settings };
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!required && (code === 'ENOENT' || code === 'ENOTDIR')) return { ok: true, found: false, settings };
    return {
      ok: false,
      errors: [`tls.config.file: cannot read ${path}: ${errorMessage(err)}`],
    };
  }
  const parsed = parseProperties(decodeText(bytes));
  if (!parsed.ok) {
    return { ok: false, errors: parsed.errors.map((e) => `tls.config.file ${path} line ${e.line}: ${e.message}`) };
  }
  const errors: string[] = [];
  const fileKeys: readonly string[] = TLS_FILE_KEYS;
  for (const entry of parsed.entries) {
    const source = `tls.config.file ${path} line ${entry.line}`;
    if (fileKeys.includes(entry.key)) {
      settings.set(entry.key as ConfigKey, { raw: entry.value, source });
    } else if (CLIENT_KEYS.has(entry.key)) {
      continue;
    } else if (entry.key in NOT_FROM_FILE) {
      errors.push(`${entry.key} (${source}): not read from tls.config.file, nor by Java; ${NOT_FROM_FILE[entry.key]}`);
    } else {
      const guess = [...fileKeys, ...CLIENT_KEYS].find((key) => key.toLowerCase() === entry.key.toLowerCase());
      errors.push(
        `unknown key ${JSON.stringify(entry.key)} (${source})${guess ? ` (did you mean ${guess}?)` : ''}: a tls.config.file holds ${TLS_FILE_KEYS.join(', ')} and Java's client keys`,
      );
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, found: true, settings };
}

/** UTF-8 when the bytes are valid UTF-8 (files written today), else ISO-8859-1 as Java reads properties. */
function decodeText(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/**
 * The configuration with tls.config.file's entries on top, read afresh: what
 * Java does each time it builds its SSL context, so a reload after a key
 * change also picks up a changed tls.server.keyPassword. Throws when the file
 * cannot be read or holds a bad value. A key later removed from the file
 * keeps its start-up value.
 */
export function applyTlsConfigFile(config: NamesrvOptions): NamesrvOptions {
  const read = readTlsConfigFile(config['tls.config.file'], false);
  if (!read.ok) throw new Error(read.errors.join('; '));
  if (!read.found) return config;
  const values: Record<string, unknown> = { ...config };
  for (const [key, setting] of read.settings) {
    const parsed = parseConfigValue(key, setting.raw);
    if (!parsed.ok) throw new Error(`${key}: ${parsed.message} (${setting.source})`);
    values[key] = parsed.value;
  }
  return values as NamesrvOptions;
}

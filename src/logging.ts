import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Fields that hold a secret wherever they appear (up to two levels deep): the
 * logger writes ****** instead. Secrets are also kept out of log calls in the
 * first place; this is the second line.
 */
export const REDACTED_PATHS = ['gatewayToken', 'adminToken', 'token', '*.gatewayToken', '*.adminToken', '*.token', '*.*.gatewayToken', '*.*.adminToken', '*.*.token'];

/**
 * JSON logs on stderr, so stdout stays free for `-p` and admin output. Tests
 * pass their own destination to read what an operator would see.
 */
export function createLogger(level: string, name = 'xnamesrv', destination: DestinationStream = pino.destination(2)): Logger {
  return pino({ name, level, redact: { paths: REDACTED_PATHS, censor: '******' } }, destination);
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

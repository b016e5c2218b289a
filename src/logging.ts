import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stderr, so stdout stays free for `-p` and admin output. */
export function createLogger(level: string, name = 'xnamesrv'): Logger {
  return pino({ name, level, redact: { paths: ['*.gatewayToken', '*.adminToken', 'gatewayToken', 'adminToken'], censor: '******' } }, pino.destination(2));
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

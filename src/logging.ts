import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { errorMessage } from './util/errorMessage.js';

export type { Logger };

/**
 * Fields that hold a secret wherever they appear (up to two levels deep): the
 * logger writes ****** instead. Secrets are also kept out of log calls in the
 * first place; this is the second line.
 */
export const REDACTED_PATHS = [
  'gatewayToken',
  'adminToken',
  'token',
  '*.gatewayToken',
  '*.adminToken',
  '*.token',
  '*.*.gatewayToken',
  '*.*.adminToken',
  '*.*.token',
];

/** A secret that is set shows as ******; an unset (empty) one stays empty, so the log tells which are configured. */
function censor(value: unknown): unknown {
  return value === '' ? '' : '******';
}

function loggerOptions(level: string, name: string): LoggerOptions {
  return { name, level, redact: { paths: REDACTED_PATHS, censor } };
}

/**
 * JSON logs on stderr, so stdout stays free for `-p` and admin output. Tests
 * pass their own destination to read what an operator would see.
 */
export function createLogger(
  level: string,
  name = 'xnamesrv',
  destination: DestinationStream = pino.destination(2),
): Logger {
  return pino(loggerOptions(level, name), destination);
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

export type LogFormat = 'auto' | 'json' | 'pretty';

/** `auto`: human-readable lines for a person at a terminal, JSON for anything reading a pipe or a file. */
export function resolveLogFormat(format: LogFormat, stderrIsTTY: boolean): 'json' | 'pretty' {
  if (format === 'auto') return stderrIsTTY ? 'pretty' : 'json';
  return format;
}

export interface LogOutputOptions {
  level: string;
  /** stderr's format (logFormat). The log file is always JSON. */
  format: LogFormat;
  /** logFile: '' for none. */
  file: string;
  /** logFileMaxSize, in bytes. */
  fileMaxSize: number;
  /** logFileCount: rotated files kept besides the one in use. */
  fileCount: number;
  name?: string;
  /** Defaults to whether fd 2 is a terminal. */
  stderrIsTTY?: boolean;
  /** Defaults to process.env (NO_COLOR turns pretty colours off). */
  env?: Record<string, string | undefined>;
}

export interface LogOutput {
  logger: Logger;
  /** What stderr gets: `auto` resolved. */
  format: 'json' | 'pretty';
  /** The log file's path as given to the rotating writer (absolute), if there is one. */
  file?: string;
  /**
   * Ends the log file's writer thread once every line logged so far is on
   * disk (bounded: at most `timeoutMs`). Stderr is written synchronously and
   * needs nothing. Idempotent.
   */
  close(timeoutMs?: number): Promise<void>;
}

/** How long close() waits for the log file's worker thread before giving up on it. */
const FILE_CLOSE_TIMEOUT_MS = 5_000;

/**
 * The command line's logging: stderr in the chosen format, and optionally a
 * size-rotated JSON log file written by pino-roll in a worker thread. Both get
 * every line the logger emits: the logger's level is the only filter, so
 * changing it at runtime (UPDATE_NAMESRV_CONFIG logLevel) changes both.
 * Rejects, before anything is logged, when the log file cannot be opened.
 */
export async function openLogOutput(options: LogOutputOptions): Promise<LogOutput> {
  const env = options.env ?? process.env;
  const stderrIsTTY = options.stderrIsTTY ?? Boolean(process.stderr.isTTY);
  const format = resolveLogFormat(options.format, stderrIsTTY);
  const stderr = await stderrStream(format, stderrIsTTY && env.NO_COLOR === undefined);
  if (options.file === '') {
    const logger = pino(loggerOptions(options.level, options.name ?? 'xnamesrv'), stderr);
    return { logger, format, close: () => Promise.resolve() };
  }

  const file = resolve(options.file);
  try {
    // pino-roll creates its link to the current file before its own mkdir has run.
    mkdirSync(dirname(file), { recursive: true });
  } catch (err) {
    throw new Error(`cannot write the log file ${file}: ${errorMessage(err)}`, { cause: err });
  }
  const transport = pino.transport({
    target: 'pino-roll',
    options: {
      file,
      size: `${options.fileMaxSize}b`,
      limit: { count: options.fileCount, removeOtherLogFiles: true },
      symlink: true,
    },
  }) as unknown as DestinationStream & NodeJS.EventEmitter & { end(): void; ref(): void; closed?: boolean };
  await new Promise<void>((resolveReady, reject) => {
    const onError = (err: Error) => reject(new Error(`cannot write the log file ${file}: ${err.message}`));
    transport.once('error', onError);
    transport.once('ready', () => {
      transport.off('error', onError);
      resolveReady();
    });
  });

  // A log file that fails later (disk full, directory removed) must not take
  // the name server down: stderr goes on, and says once what happened.
  let fileFailed = false;
  // eslint-disable-next-line prefer-const -- failFile, defined before it, may in principle run first.
  let logger: Logger | undefined;
  const failFile = (err: unknown) => {
    if (fileFailed) return;
    fileFailed = true;
    logger?.error({ err, path: file }, 'log file failed; logging to stderr only from now on');
  };
  transport.on('error', failFile);
  const fileStream = {
    write(line: string) {
      if (fileFailed) return;
      try {
        transport.write(line);
      } catch (err) {
        failFile(err);
      }
    },
  };
  logger = pino(
    loggerOptions(options.level, options.name ?? 'xnamesrv'),
    pino.multistream([
      { level: 'trace', stream: stderr },
      { level: 'trace', stream: fileStream },
    ]),
  );

  let closing: Promise<void> | undefined;
  const close = (timeoutMs = FILE_CLOSE_TIMEOUT_MS): Promise<void> => {
    closing ??= (async () => {
      if (fileFailed || transport.closed) return;
      // The worker is unref'd once ready; hold the process until it has written everything.
      transport.ref();
      const closed = once(transport, 'close').then(
        () => undefined,
        () => undefined,
      );
      transport.end();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((done) => {
        timer = setTimeout(done, timeoutMs);
        timer.unref();
      });
      await Promise.race([closed, timedOut]);
      clearTimeout(timer);
    })();
    return closing;
  };
  return { logger, format, file, close };
}

/**
 * Stderr, written synchronously: a line logged just before the process exits
 * (a forced exit on a second signal) is not lost. A stderr that went away
 * (the terminal closed: EIO, a reader gone: EPIPE) silences the stream
 * instead of crashing the name server.
 */
async function stderrStream(format: 'json' | 'pretty', colorize: boolean): Promise<DestinationStream> {
  const destination = pino.destination({ dest: 2, sync: true });
  let broken = false;
  destination.on('error', () => {
    broken = true;
  });
  if (format === 'json') {
    return {
      write(line: string) {
        if (!broken) destination.write(line);
      },
    };
  }
  // Loaded only when wanted: it costs a tenth of a second at start-up.
  const { prettyFactory } = await import('pino-pretty');
  const prettify = prettyFactory({
    colorize,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    ignore: 'pid,hostname,name',
    singleLine: true,
  });
  return {
    write(line: string) {
      if (!broken) destination.write(prettify(line));
    },
  };
}

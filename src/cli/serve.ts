import { constants as osConstants } from 'node:os';
import { loadConfig } from '../config/load.js';
import { formatEffectiveConfig } from '../config/print.js';
import { displayValue } from '../config/schema.js';
import { openLogOutput, type LogOutput } from '../logging.js';
import { NameServer } from '../nameServer.js';
import { errorMessage } from '../util/errorMessage.js';

export const USAGE = `Usage: xnamesrv [options]

Starts a RocketMQ name server.

  -c, --configFile <file>   RocketMQ-style namesrv.properties
  -p, --printConfigItem     print the effective configuration and exit
      --data-dir <dir>      keep kvConfig.json and namesrv.properties here
      --inspect <ws-url>    stream every actor to an inspector, e.g. one run by
                            'xnamesrv inspector --port 8080' at ws://127.0.0.1:8080
      --<key> <value>       any configuration key (see README), e.g. --listenPort 9876
  -D<key>=<value>           the same, as Java's system properties, e.g. -Dtls.server.mode=enforcing
      --logFormat <fmt>     auto (default: pretty on a terminal, else JSON), json or pretty
      --logFile <path>      also write JSON logs to <path>, rotated by size (logFileMaxSize, logFileCount)
  -h, --help                this text

Environment: XNAMESRV_<KEY_IN_UPPER_SNAKE_CASE>, e.g. XNAMESRV_LISTEN_PORT=9876.
Signals: SIGTERM, SIGINT and SIGHUP stop gracefully (exit 0); a second one during
the stop exits at once with 128 + its number (130 for SIGINT).
`;

export async function runServe(
  argv: string[],
  env: Record<string, string | undefined>,
  homeDir: string,
): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const loaded = loadConfig({ argv, env, homeDir });
  if (!loaded.ok) {
    for (const error of loaded.errors) process.stderr.write(`xnamesrv: ${error}\n`);
    process.stderr.write(`Run 'xnamesrv --help' for usage.\n`);
    return 2;
  }
  if (loaded.printConfig) {
    process.stdout.write(formatEffectiveConfig(loaded.config));
    return 0;
  }
  const config = loaded.config;
  let output: LogOutput;
  try {
    output = await openLogOutput({
      level: config.logLevel,
      format: config.logFormat,
      file: config.logFile,
      fileMaxSize: config.logFileMaxSize,
      fileCount: config.logFileCount,
    });
  } catch (err) {
    process.stderr.write(`xnamesrv: failed to start: ${errorMessage(err)}\n`);
    return 1;
  }
  const logger = output.logger;
  if (loaded.storedConfig && loaded.storedConfig.keys.length > 0) {
    const { path, keys } = loaded.storedConfig;
    logger.info(
      { path, keys, values: Object.fromEntries(keys.map((key) => [key, displayValue(key, config[key])])) },
      `runtime settings restored from ${path}: ${keys.join(', ')}`,
    );
  }

  // Like the JVM's shutdown hooks: SIGTERM, SIGINT and SIGHUP all run the
  // graceful stop; a second signal while it runs exits at once.
  let server: NameServer | undefined;
  let firstSignal: NodeJS.Signals | undefined;
  let stopRequested: (() => void) | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstSignal === undefined) {
      firstSignal = signal;
      logger.info({ signal }, `${signal} received: stopping gracefully (another signal exits at once)`);
      stopRequested?.();
      return;
    }
    const state = server?.lifecycleState() ?? 'starting';
    // The stop is already over: the process is only writing the last log lines out.
    if (state === 'stopped' || state === 'failed') return;
    const exitCode = forcedExitCode(signal);
    logger.fatal(
      { signal, firstSignal, exitCode, state },
      `${signal} received while stopping (after ${firstSignal}): exiting now with code ${exitCode}; ` +
        'requests not yet answered get no answer, KV writes already acknowledged are on disk',
    );
    // Stderr is written synchronously; pino ends the log file's worker on exit.
    process.exit(exitCode);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);

  try {
    server = await NameServer.start({ config, logger, inspectUrl: loaded.inspectUrl });
  } catch (err) {
    const reason = errorMessage(err);
    logger.fatal({ reason }, `name server failed to start: ${reason}`);
    await output.close();
    return 1;
  }
  const running = server;
  // Plain text for whoever started it; stderr carries only log lines. A closed stdout is not an error.
  process.stdout.on('error', () => undefined);
  process.stdout.write(
    `xnamesrv: remoting on ${config.bindAddress}:${running.remotingPort}, http on ${config.bindAddress}:${running.httpPort}, state ${running.lifecycleState()}\n`,
  );
  const code = await new Promise<number>((resolve) => {
    stopRequested = () => {
      running.close(`signal ${firstSignal}`).then(
        () => resolve(running.lifecycleState() === 'stopped' ? 0 : 1),
        () => resolve(1),
      );
    };
    // A signal that came while the listeners were being bound.
    if (firstSignal !== undefined) stopRequested();
  });
  await output.close();
  return code;
}

/** The signals that stop the name server gracefully, as the JVM runs its shutdown hooks on them. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/** A forced exit's code: 128 + the signal's number, as a shell reports a process killed by it (SIGINT 130, SIGTERM 143, SIGHUP 129). */
export function forcedExitCode(signal: NodeJS.Signals): number {
  return 128 + (osConstants.signals[signal] ?? 0);
}

import { loadConfig } from '../config/load.js';
import { formatEffectiveConfig } from '../config/print.js';
import { createLogger } from '../logging.js';
import { NameServer, NameServerStartError } from '../nameServer.js';

export const USAGE = `Usage: xnamesrv [options]

Starts a RocketMQ name server.

  -c, --configFile <file>   RocketMQ-style namesrv.properties
  -p, --printConfigItem     print the effective configuration and exit
      --data-dir <dir>      keep kvConfig.json and namesrv.properties here
      --inspect <ws-url>    stream every actor to an inspector, e.g. one run by
                            'xnamesrv inspector --port 8080' at ws://127.0.0.1:8080
      --<key> <value>       any configuration key (see README), e.g. --listenPort 9876
  -h, --help                this text

Environment: XNAMESRV_<KEY_IN_UPPER_SNAKE_CASE>, e.g. XNAMESRV_LISTEN_PORT=9876.
`;

export async function runServe(argv: string[], env: Record<string, string | undefined>, homeDir: string): Promise<number> {
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
  const logger = createLogger(loaded.config.logLevel);
  let server: NameServer;
  try {
    server = await NameServer.start({ config: loaded.config, logger, inspectUrl: loaded.inspectUrl });
  } catch (err) {
    const reason = err instanceof NameServerStartError ? err.message : err instanceof Error ? err.message : String(err);
    logger.fatal({ reason }, 'name server failed to start');
    process.stderr.write(`xnamesrv: failed to start: ${reason}\n`);
    return 1;
  }
  process.stderr.write(
    `xnamesrv: remoting on ${loaded.config.bindAddress}:${server.remotingPort}, http on ${loaded.config.bindAddress}:${server.httpPort}, state ${server.lifecycleState()}\n`,
  );
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      server.close(`signal ${signal}`).then(
        () => resolve(server.lifecycleState() === 'stopped' ? 0 : 1),
        () => resolve(1),
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

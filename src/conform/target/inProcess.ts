import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedClock } from 'xstate';
import type { LifecycleSettings } from '../../../machines/nameServer.js';
import type { ServerClock } from '../../clock.js';
import { loadConfig } from '../../config/load.js';
import { silentLogger } from '../../logging.js';
import { NameServer, type NameServerStartOptions } from '../../nameServer.js';
import { simulatedClock } from '../clock.js';
import { NO_WAIT } from '../plan/lifecyclePlan.js';
import { httpEvidence } from '../run/httpEvidence.js';
import type { LaunchedTarget, TargetLauncher } from './launcher.js';

/**
 * xnamesrv in this process, on xstate's SimulatedClock: conform's own tests,
 * the mutation tests and `xnamesrv conform --self` run against it, so paths
 * that wait minutes of target time take milliseconds. Conform still speaks to
 * it only over TCP; the clock is the one thing it shares.
 */
export interface InProcessOptions {
  description?: string;
  /** Further NameServer.start options (the mutation tests' fault seams). */
  startOptions?: Omit<NameServerStartOptions, 'config' | 'clock' | 'logger'>;
  /** Changes a started server before conform connects (the mutation tests' wrappers). */
  adapt?: (server: NameServer, clock: SimulatedClock) => void | Promise<void>;
  /** Also give conform the HTTP port, so /readyz is checked as extra evidence. Default true. */
  httpEvidence?: boolean;
}

export function inProcessLauncher(options: InProcessOptions = {}): TargetLauncher {
  const started: LaunchedTarget[] = [];
  let serving: Promise<LaunchedTarget> | undefined;
  const launch = async (settings: LifecycleSettings): Promise<LaunchedTarget> => {
    const target = await startInProcess(settings, options);
    started.push(target);
    return target;
  };
  return {
    description: options.description ?? 'xnamesrv in this process (simulated clock)',
    serving: () => (serving ??= launch(NO_WAIT)),
    startFresh: launch,
    async close() {
      for (const target of started.splice(0)) await target.stop();
    },
  };
}

async function startInProcess(settings: LifecycleSettings, options: InProcessOptions): Promise<LaunchedTarget> {
  const dataDir = await mkdtemp(join(tmpdir(), 'xnamesrv-conform-'));
  const argv = [
    '--data-dir',
    dataDir,
    '--listenPort',
    '0',
    '--httpPort',
    '0',
    '--bindAddress',
    '127.0.0.1',
    ...lifecycleFlags(settings),
  ];
  // Gateway pings run on the server's clock, which paths move by minutes at a time; the console is not needed.
  argv.push('--gatewayPingIntervalSeconds', '0', '--consoleEnabled', 'false');
  const loaded = loadConfig({ argv, env: {}, homeDir: dataDir });
  if (!loaded.ok) throw new Error(`in-process target: ${loaded.errors.join('; ')}`);
  const clock = new SimulatedClock() as SimulatedClock & ServerClock;
  // A realistic epoch: data versions and logs carry timestamps.
  clock.set(Date.UTC(2026, 0, 1));
  let server: NameServer;
  try {
    server = await NameServer.start({ ...options.startOptions, config: loaded.config, logger: silentLogger(), clock });
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  await options.adapt?.(server, clock);
  const http = options.httpEvidence === false ? undefined : httpEvidence(`http://127.0.0.1:${server.httpPort}`);
  const stop = async () => {
    http?.close();
    await server.close('conform done').catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  };
  return {
    description: `xnamesrv in this process on 127.0.0.1:${server.remotingPort} (simulated clock)`,
    address: { host: '127.0.0.1', port: server.remotingPort },
    ...(http ? { http } : {}),
    clock: simulatedClock(clock),
    startedAt: clock.now(),
    stop,
  };
}

/** The command-line flags that start xnamesrv with these lifecycle settings. */
export function lifecycleFlags(settings: LifecycleSettings): string[] {
  if (!settings.needWaitForService) return [];
  const flags = ['--needWaitForService', 'true', '--waitSecondsForService', String(settings.waitSecondsForService)];
  const hasTarget = settings.waitForBrokers > 0 || settings.waitForBrokerNames.length > 0;
  if (settings.waitForBrokers > 0) flags.push('--waitForBrokers', String(settings.waitForBrokers));
  if (settings.waitForBrokerNames.length > 0) flags.push('--waitForBrokerNames', settings.waitForBrokerNames.join(','));
  if (hasTarget || settings.waitTimeoutSeconds !== 300)
    flags.push('--waitTimeoutSeconds', String(settings.waitTimeoutSeconds));
  if (hasTarget) flags.push('--waitTimeoutAction', settings.waitTimeoutAction);
  return flags;
}

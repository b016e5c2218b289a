import { realClock } from '../clock.js';
import type { HttpEvidence } from '../run/httpEvidence.js';
import type { LaunchedTarget, TargetLauncher } from './launcher.js';
import type { TargetAddress } from './wire.js';

/**
 * A name server someone else started (`--target host:port`): real time, and
 * no way to restart it, so at most one lifecycle path runs per run. Its
 * start-up is taken to have ended at conform's first contact.
 */
export function remoteLauncher(address: TargetAddress, http?: HttpEvidence): TargetLauncher {
  const description = `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
  let target: LaunchedTarget | undefined;
  return {
    description,
    async serving() {
      const clock = realClock();
      target ??= {
        description,
        address,
        ...(http ? { http } : {}),
        clock,
        startedAt: clock.now(),
        stop: async () => undefined,
      };
      return target;
    },
    close: async () => http?.close(),
  };
}

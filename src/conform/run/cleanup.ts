import type { ConformReport } from '../results.js';
import type { LaunchedTarget } from '../target/launcher.js';
import { eventually } from '../target/observe.js';
import type { WireSession } from '../target/wire.js';

/** Looks again at the serving target: none of the run's brokers may still be there. */
export async function verifyCleanup(wire: WireSession, target: LaunchedTarget): Promise<ConformReport['cleanup']> {
  const brokers = wire.registeredBrokers();
  for (const broker of brokers) await wire.release(broker);
  if (brokers.length === 0) return { brokers: 0, verified: true };
  const leftover = await eventually(
    async () => {
      const info = await wire.clusterInfo();
      for (const broker of brokers) {
        const addrs = info.brokerAddrTable[broker.brokerName]?.brokerAddrs ?? {};
        if (Object.values(addrs).includes(broker.brokerAddr)) {
          return {
            check: 'cluster-info' as const,
            kind: 'present' as const,
            message: `${broker.brokerName}@${broker.brokerAddr} is still registered`,
          };
        }
      }
      return undefined;
    },
    target.clock,
    10_000,
  ).catch((err: Error) => ({ check: 'wire' as const, kind: 'other' as const, message: err.message }));
  return leftover
    ? { brokers: brokers.length, verified: false, detail: leftover.message }
    : { brokers: brokers.length, verified: true };
}

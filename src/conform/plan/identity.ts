import { randomBytes } from 'node:crypto';

/**
 * Names for everything a run registers, unique to the run, so nothing it does
 * can touch a live cluster's brokers or topics and everything it left behind
 * can be found again by its cluster name:
 * - one cluster of its own, `conform-<runId>`;
 * - broker addresses in 192.0.2.0/24 (TEST-NET-1, RFC 5737: reserved for
 *   documentation, never routed), so no client could reach one even if it
 *   tried;
 * - topics named after the run, registered with no write queues (see
 *   wire.ts), so no producer would ever pick one.
 */
export interface RunIdentity {
  runId: string;
  clusterName: string;
  /** A broker name of this run; `n` numbers the paths (and lifecycle samples). */
  brokerName(n: number): string;
  /** The address of replica `replica` (0 master, 1 slave) of broker `n`. */
  brokerAddr(n: number, replica?: number): string;
  topic(n: number): string;
}

const TEST_NET_1 = '192.0.2';
const FIRST_PORT = 20_000;
const PORT_SPAN = 40_000;

export function newRunIdentity(runId = randomBytes(3).toString('hex')): RunIdentity {
  const seed = Number.parseInt(runId.slice(0, 6).padEnd(6, '0'), 16) || 1;
  const host = `${TEST_NET_1}.${1 + (seed % 254)}`;
  const basePort = FIRST_PORT + ((seed >> 8) % (PORT_SPAN / 2)) * 2;
  const clusterName = `conform-${runId}`;
  return {
    runId,
    clusterName,
    brokerName: (n) => `${clusterName}-b${n}`,
    // Four ports per broker: master and slave, each with its HA port next to it.
    brokerAddr: (n, replica = 0) =>
      `${host}:${FIRST_PORT + ((basePort - FIRST_PORT + n * 4 + replica * 2) % PORT_SPAN)}`,
    topic: (n) => `${clusterName}-t${n}`,
  };
}

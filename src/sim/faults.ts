import type { BrokerSpec } from './topology.js';

/**
 * Fault injection: what happens to which brokers when.
 *
 * - crash: drop the connections and stop (the name server sees them close);
 * - partition: stop refreshing but keep the sockets open (the name server
 *   expires the broker after its heartbeat timeout);
 * - restart: close, reconnect and register afresh (also ends a crash or a partition);
 * - bump: add a topic and bump the DataVersion, then register at once.
 */
export type FaultKind = 'crash' | 'partition' | 'restart' | 'bump';

export const FAULT_KINDS: readonly FaultKind[] = ['crash', 'partition', 'restart', 'bump'];

export interface FaultSpec {
  kind: FaultKind;
  /** A broker name (every replica), `brokerName/brokerId` (one instance), or a broker address. */
  target: string;
  /** Seconds after the simulator started. */
  atSeconds: number;
}

/** `broker-0-1@20` -> target and time, or an error message. */
export function parseFault(kind: FaultKind, text: string): FaultSpec | string {
  const at = text.lastIndexOf('@');
  if (at <= 0) return `--${kind} ${JSON.stringify(text)}: expected <broker>@<seconds>, e.g. broker-0-0@20`;
  const target = text.slice(0, at).trim();
  const seconds = text.slice(at + 1).trim();
  if (!/^\d+(\.\d+)?$/.test(seconds))
    return `--${kind} ${JSON.stringify(text)}: "${seconds}" is not a number of seconds`;
  return { kind, target, atSeconds: Number(seconds) };
}

/** The instances a target names; empty when it names none. */
export function matchTarget(target: string, brokers: readonly BrokerSpec[]): BrokerSpec[] {
  const slash = target.lastIndexOf('/');
  if (slash > 0) {
    const name = target.slice(0, slash);
    const id = target.slice(slash + 1);
    if (/^\d+$/.test(id)) {
      const byId = brokers.filter((b) => b.brokerName === name && b.brokerId === Number(id));
      if (byId.length > 0) return byId;
    }
  }
  const byName = brokers.filter((b) => b.brokerName === target);
  if (byName.length > 0) return byName;
  return brokers.filter((b) => b.brokerAddr === target);
}

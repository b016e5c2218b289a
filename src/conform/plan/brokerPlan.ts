import type { BrokerEvent, BrokerRegistration } from '../../../machines/broker.js';
import {
  AFTER_HEARTBEAT_TIMEOUT,
  brokerEvents,
  brokerPaths,
  scriptedBrokerPath,
  type BrokerPath,
} from '../model/brokerModel.js';
import { brokerPathName } from './pathNames.js';

/**
 * The broker registration chart's paths for conform: the generated ones (every
 * state and transition, self-loops included) and three written by hand for
 * what a generator never takes on its own:
 * - the close of a connection the broker has already left (apache/rocketmq#11043);
 * - a slave that re-registers as master at the same address (its old id must go);
 * - a heartbeat half a timeout late, then silence: the heartbeat must have
 *   pushed the expiry back.
 * Each path is one broker of its own, so paths never see each other.
 */
export interface PlannedBrokerPath {
  name: string;
  path: BrokerPath;
  /** Whether it waits for an expiry (needs the target's heartbeat timeout to pass). */
  expires: boolean;
}

/** The registration the model starts from; the wire identity comes from the run, not from here. */
function template(connectionId: number, brokerId = 0): BrokerRegistration {
  return {
    brokerKey: 'conform|broker',
    clusterName: 'conform',
    brokerName: 'broker',
    brokerAddr: 'broker',
    brokerId,
    generation: connectionId,
    connectionId,
    heartbeatTimeoutMillis: 1,
  };
}

export const FENCED_CLOSE_ORIGIN = 'broker / scripted: fenced close (rocketmq#11043)';
export const SLAVE_TO_MASTER_ORIGIN = 'broker / scripted: slave becomes master at the same address';
export const LATE_HEARTBEAT_ORIGIN = 'broker / scripted: a heartbeat pushes the expiry back';

export function conformBrokerPaths(options: { simple: boolean }): PlannedBrokerPath[] {
  const generated = brokerPaths(
    template(1),
    brokerEvents((c) => template(c)),
    options.simple ? 80 : 0,
  );
  const scripted: BrokerPath[] = [
    scriptedBrokerPath(FENCED_CLOSE_ORIGIN, template(1), [
      { type: 'REGISTER', registration: template(2) },
      { type: 'CONNECTION_CLOSED', connectionId: 1 },
      { type: 'HEARTBEAT' },
      { type: 'CONNECTION_CLOSED', connectionId: 2 },
    ]),
    scriptedBrokerPath(SLAVE_TO_MASTER_ORIGIN, template(1, 1), [
      { type: 'REGISTER', registration: template(1, 0) },
      { type: 'UNREGISTER' },
    ]),
    scriptedBrokerPath(LATE_HEARTBEAT_ORIGIN, template(1), [
      { type: 'HEARTBEAT' },
      { type: AFTER_HEARTBEAT_TIMEOUT } as unknown as BrokerEvent,
    ]),
  ];
  const all = [...generated.shortest, ...generated.simple, ...scripted];
  const seen = new Set<string>();
  const planned: PlannedBrokerPath[] = [];
  for (const path of all) {
    const name = brokerPathName(path);
    // Shortest and simple paths often drive the same events.
    if (seen.has(name)) continue;
    seen.add(name);
    planned.push({ name, path, expires: path.steps.some((s) => (s.event.type as string) === AFTER_HEARTBEAT_TIMEOUT) });
  }
  return planned;
}

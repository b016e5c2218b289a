import { brokerKeyOf, type BrokerEvent, type BrokerRegistration } from '../../machines/broker.js';
import { brokerEvents, brokerPaths, scriptedBrokerPath, type BrokerPath } from '../../src/conform/model/brokerModel.js';

// The model itself moved to src/conform/model/brokerModel.ts (`xnamesrv conform` walks it too).
export { AFTER_HEARTBEAT_TIMEOUT, type BrokerPath, type BrokerSnapshot } from '../../src/conform/model/brokerModel.js';

export const BROKER_HEARTBEAT_TIMEOUT_MS = 4_000;

/** A template identity; each executed path gets a broker address of its own. */
export function modelRegistration(connectionId: number): BrokerRegistration {
  return {
    brokerKey: brokerKeyOf('DefaultCluster', 'model-broker'),
    clusterName: 'DefaultCluster',
    brokerName: 'model-broker',
    brokerAddr: 'model-broker',
    brokerId: 0,
    generation: connectionId,
    connectionId,
    heartbeatTimeoutMillis: BROKER_HEARTBEAT_TIMEOUT_MS,
  };
}

export function generateBrokerPaths(simplePathLimit = 80): {
  shortest: BrokerPath[];
  simple: BrokerPath[];
  fenced: BrokerPath[];
  simpleSkipped?: number;
} {
  const generated = brokerPaths(modelRegistration(1), brokerEvents(modelRegistration), simplePathLimit);
  // rocketmq#11043: the broker re-registered on connection 2, then connection 1 closes.
  const fencedEvents: BrokerEvent[] = [
    { type: 'REGISTER', registration: modelRegistration(2) },
    { type: 'CONNECTION_CLOSED', connectionId: 1 },
    { type: 'HEARTBEAT' },
    { type: 'CONNECTION_CLOSED', connectionId: 2 },
  ];
  return {
    ...generated,
    fenced: [
      scriptedBrokerPath('broker / scripted: fenced close (rocketmq#11043)', modelRegistration(1), fencedEvents),
    ],
  };
}

import { brokerKeyOf, type BrokerRegistration } from '../../machines/broker.js';

/** broker-a's master in DefaultCluster, first registration: an input for the broker chart and for BROKER.REGISTERED. */
export const SAMPLE_REGISTRATION: BrokerRegistration = {
  brokerKey: brokerKeyOf('DefaultCluster', '127.0.0.1:10911'),
  clusterName: 'DefaultCluster',
  brokerName: 'broker-a',
  brokerAddr: '127.0.0.1:10911',
  brokerId: 0,
  generation: 1,
  connectionId: 1,
  heartbeatTimeoutMillis: 120_000,
};

import type { DataVersion } from '../protocol/types.js';
import type { HostPort } from '../admin/address.js';
import type { FaultKind, FaultSpec } from './faults.js';
import type { SimTimer } from './timer.js';
import type { BrokerSpec, TopologyOptions } from './topology.js';

/** What a BrokerSimulator is told, and what it reports: its options, rounds, faults and events. */

export interface BrokerSimulatorOptions extends TopologyOptions {
  /** `host:port` strings or parsed addresses; every broker registers with every one. */
  nameServers: ReadonlyArray<string | HostPort>;
  /** Re-registration period (BrokerConfig.registerNameServerPeriod). Default 30 000. */
  intervalMs?: number;
  /** Send BROKER_HEARTBEAT between registrations (5.x, enableSlaveActingMaster). Default false. */
  heartbeat?: boolean;
  /** BrokerConfig.brokerHeartbeatInterval. Default 1 000. */
  heartbeatIntervalMs?: number;
  /**
   * heartbeatTimeoutMillis sent with registrations in heartbeat mode
   * (BrokerConfig.brokerNotActiveTimeoutMillis). Default 10 000. Without
   * heartbeat mode no timeout is sent and the name server uses its default (120 s).
   */
  heartbeatTimeoutMillis?: number;
  /** Compressed register bodies (header compressed=true) instead of JSON. */
  compressed?: boolean;
  /** Which broker generation to imitate on the wire. Default '5.x'. */
  brokerVersion?: '4.9' | '5.x';
  /** Faults to inject at times after start(). */
  faults?: readonly FaultSpec[];
  timer?: SimTimer;
  /** Connect and request timeout. Default 3 000. */
  requestTimeoutMs?: number;
  /** Most requests in flight at once within a round. Default 256. */
  concurrency?: number;
  onEvent?: (event: SimEvent) => void;
}

export type SimBrokerState = 'idle' | 'running' | 'partitioned' | 'crashed' | 'stopped';

export interface Counts {
  sent: number;
  acknowledged: number;
  failed: number;
}

export interface RoundReport {
  round: number;
  /** Milliseconds since start(). */
  elapsedMs: number;
  registrations: Counts;
  /** Heartbeats since the previous round report. */
  heartbeats: Counts;
  brokers: Record<SimBrokerState, number>;
  /** A few distinct failure reasons of this round (and its heartbeats). */
  errors: string[];
}

export interface FaultReport {
  kind: FaultKind;
  target: string;
  elapsedMs: number;
  /** The instances affected, as brokerName/brokerId@address. */
  instances: string[];
  registrations?: Counts;
}

export interface SimSummary {
  elapsedMs: number;
  rounds: number;
  registrations: Counts;
  heartbeats: Counts;
  unregistrations: Counts;
  faults: number;
  brokers: Record<SimBrokerState, number>;
}

export type SimEvent =
  | { type: 'round'; report: RoundReport }
  | { type: 'fault'; report: FaultReport }
  | { type: 'stopped'; summary: SimSummary };

export interface SimBrokerSnapshot extends BrokerSpec {
  state: SimBrokerState;
  dataVersion: DataVersion;
  topics: string[];
  /** For slaves: the master address the last acknowledged registration returned. */
  masterAddr?: string;
  /** Name servers that acknowledged this instance's last registration. */
  acknowledgedBy: string[];
}

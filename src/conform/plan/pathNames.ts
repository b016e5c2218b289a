import type { BrokerEvent } from '../../../machines/broker.js';
import type { NameServerEvent } from '../../../machines/nameServer.js';
import { AFTER_HEARTBEAT_TIMEOUT, type BrokerPath } from '../model/brokerModel.js';
import {
  AFTER_WAIT_FOR_SERVICE,
  AFTER_WAIT_TIMEOUT,
  STARTUP_DONE,
  type ModelPathNS,
  type SampleBroker,
} from '../model/lifecycleModel.js';

/**
 * Path names: the events in a few words, so a name says what the path does
 * and stays the same from run to run (reports, JUnit test names and the
 * mutation tests refer to paths by name).
 */
export function brokerPathName(path: BrokerPath): string {
  const words: string[] = [];
  let brokerId: number | undefined;
  for (const step of path.steps) {
    const event = step.event as BrokerEvent | { type: string };
    const id = step.state.context.brokerId;
    const role =
      brokerId !== undefined && id !== brokerId
        ? id === 0
          ? ' as master'
          : ' as slave'
        : brokerId === undefined && id !== 0
          ? ' as slave'
          : '';
    brokerId = id;
    switch (event.type) {
      case 'xstate.init':
        words.push(`register c${step.state.context.connectionId}${role}`);
        break;
      case 'REGISTER':
        words.push(
          `register c${(event as Extract<BrokerEvent, { type: 'REGISTER' }>).registration.connectionId}${role}`,
        );
        break;
      case 'HEARTBEAT':
        words.push('heartbeat');
        break;
      case 'UNREGISTER':
        words.push('unregister');
        break;
      case 'CONNECTION_CLOSED':
        words.push(`close c${(event as Extract<BrokerEvent, { type: 'CONNECTION_CLOSED' }>).connectionId}`);
        break;
      case AFTER_HEARTBEAT_TIMEOUT:
        words.push('expire');
        break;
      default:
        words.push(event.type);
    }
  }
  return `broker: ${words.join(' → ')}`;
}

/** `M` for a master, `S` for a slave; numbered when the configuration has several of a kind. */
export function sampleLabels(brokers: readonly SampleBroker[]): Map<string, string> {
  const labels = new Map<string, string>();
  let masters = 0;
  let slaves = 0;
  const many = (role: number) => brokers.filter((b) => (b.brokerId === 0) === (role === 0)).length > 1;
  for (const broker of brokers) {
    const key = `${broker.clusterName}|${broker.brokerAddr}`;
    if (broker.brokerId === 0) labels.set(key, many(0) ? `M${++masters}` : 'M');
    else labels.set(key, many(1) ? `S${++slaves}` : 'S');
  }
  return labels;
}

export function lifecyclePathName(configName: string, path: ModelPathNS, labels: ReadonlyMap<string, string>): string {
  const words: string[] = [];
  const label = (key: string) => labels.get(key) ?? key;
  for (const step of path.steps.slice(1)) {
    const event = step.event as NameServerEvent | { type: string };
    switch (event.type) {
      case STARTUP_DONE:
        words.push('started');
        break;
      case AFTER_WAIT_FOR_SERVICE:
        words.push('wait passes');
        break;
      case AFTER_WAIT_TIMEOUT:
        words.push('deadline');
        break;
      case 'BROKER.REGISTERED':
        words.push(
          `register ${label((event as Extract<NameServerEvent, { type: 'BROKER.REGISTERED' }>).registration.brokerKey)}`,
        );
        break;
      case 'BROKER.HEARTBEAT':
        words.push(`heartbeat ${label((event as Extract<NameServerEvent, { type: 'BROKER.HEARTBEAT' }>).brokerKey)}`);
        break;
      case 'BROKER.UNREGISTERED':
        words.push(
          `unregister ${label((event as Extract<NameServerEvent, { type: 'BROKER.UNREGISTERED' }>).brokerKey)}`,
        );
        break;
      case 'BROKER.CONNECTION_CLOSED':
        words.push(
          `close ${label((event as Extract<NameServerEvent, { type: 'BROKER.CONNECTION_CLOSED' }>).brokerKey)}`,
        );
        break;
      case 'BROKER.REMOVED':
        words.push(
          `expire ${label((event as Extract<NameServerEvent, { type: 'BROKER.REMOVED' }>).removal.brokerKey)}`,
        );
        break;
      default:
        words.push(event.type);
    }
  }
  const tour = path.origin.endsWith('/ tour') ? ' tour' : '';
  return `lifecycle (${configName})${tour}: ${words.join(' → ')}`;
}

// @ts-check
/**
 * One row of the brokers table: a broker (cluster + address) as every name
 * server sees it. The details come from the first name server that knows it
 * (the page's own first), the per-name-server states side by side, and
 * whether they diverge.
 */
import { brokerDivergence } from './divergence.js';

/** @typedef {import('./nameServerState.js').BrokerRecord} BrokerRecord */

/**
 * @typedef {object} NameServerView
 * @property {string} address
 * @property {boolean} connected
 * @property {Map<string, BrokerRecord>} brokers
 */

/**
 * @typedef {object} BrokerCell
 * @property {string} nameServer
 * @property {string} state `registered`, `expired`, `unregistered`, `disconnected`, `absent`
 * @property {BrokerRecord | undefined} record
 */

/**
 * @typedef {object} BrokerRow
 * @property {string} key `cluster|address`
 * @property {BrokerRecord} detail
 * @property {string} detailFrom the name server the details are from
 * @property {BrokerCell[]} cells one per name server, in order
 * @property {boolean} live registered on at least one name server
 * @property {string[]} divergence
 */

/**
 * @param {string} key
 * @param {NameServerView[]} nameServers the page's own first
 * @returns {BrokerRow | null} null when no name server knows the broker (any more)
 */
export function brokerRow(key, nameServers) {
  /** @type {BrokerRecord | undefined} */
  let detail;
  let detailFrom = '';
  /** @type {BrokerCell[]} */
  const cells = [];
  for (const nameServer of nameServers) {
    const record = nameServer.brokers.get(key);
    if (record && (!detail || (detail.state !== 'registered' && record.state === 'registered'))) {
      detail = record;
      detailFrom = nameServer.address;
    }
    cells.push({ nameServer: nameServer.address, state: record?.state ?? 'absent', record });
  }
  if (!detail) return null;
  const divergence = brokerDivergence(
    nameServers.map((nameServer, i) => ({
      nameServer: nameServer.address,
      connected: nameServer.connected,
      state: cells[i]?.state ?? 'absent',
      dataVersion: cells[i]?.record?.dataVersion,
    })),
  );
  return { key, detail, detailFrom, cells, live: cells.some((cell) => cell.state === 'registered'), divergence };
}

/**
 * @param {BrokerRow} row
 * @param {{ text: string, show: string }} filter
 */
export function rowPasses(row, filter) {
  if (filter.show === 'live' && !row.live) return false;
  if (filter.show === 'gone' && row.live) return false;
  if (filter.show === 'divergent' && row.divergence.length === 0) return false;
  if (!filter.text) return true;
  const d = row.detail;
  const haystack = `${d.clusterName} ${d.brokerName} ${d.brokerAddr}`.toLowerCase();
  return filter.text
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((word) => haystack.includes(word));
}

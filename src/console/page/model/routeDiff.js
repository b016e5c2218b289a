// @ts-check
/**
 * What changed between two routes of a topic, per broker name: so a push is
 * shown with the broker that appeared, the one that went, and the queue or
 * permission that changed highlighted, rather than as two walls of JSON.
 */

/** @typedef {import('../gateway/protocol.js').RouteData} RouteData */

/**
 * @typedef {object} RouteRow
 * @property {string} brokerName
 * @property {string} cluster
 * @property {string} addresses `0=10.0.0.1:10911 1=...`, by broker id
 * @property {number | undefined} readQueueNums
 * @property {number | undefined} writeQueueNums
 * @property {number | undefined} perm
 * @property {number | undefined} topicSysFlag
 */

/** @typedef {'cluster' | 'addresses' | 'readQueueNums' | 'writeQueueNums' | 'perm' | 'topicSysFlag'} RouteField */
export const ROUTE_FIELDS = /** @type {const} */ ([
  'cluster',
  'addresses',
  'readQueueNums',
  'writeQueueNums',
  'perm',
  'topicSysFlag',
]);

/**
 * @typedef {object} RouteRowChange
 * @property {'added' | 'removed' | 'changed' | 'same'} status
 * @property {RouteRow} row the new row (the old one when removed)
 * @property {RouteRow | undefined} before
 * @property {Set<RouteField>} fields fields that differ (changed rows)
 */

/**
 * @param {RouteData | null | undefined} route
 * @returns {RouteRow[]} one row per broker name, sorted by name
 */
export function routeRows(route) {
  if (!route) return [];
  /** @type {Map<string, RouteRow>} */
  const rows = new Map();
  const rowOf = (/** @type {string} */ brokerName) => {
    let row = rows.get(brokerName);
    if (!row) {
      row = {
        brokerName,
        cluster: '',
        addresses: '',
        readQueueNums: undefined,
        writeQueueNums: undefined,
        perm: undefined,
        topicSysFlag: undefined,
      };
      rows.set(brokerName, row);
    }
    return row;
  };
  for (const broker of route.brokerDatas ?? []) {
    const row = rowOf(broker.brokerName);
    row.cluster = broker.cluster;
    row.addresses = Object.entries(broker.brokerAddrs ?? {})
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([id, address]) => `${id}=${address}`)
      .join(' ');
  }
  for (const queue of route.queueDatas ?? []) {
    const row = rowOf(queue.brokerName);
    row.readQueueNums = queue.readQueueNums;
    row.writeQueueNums = queue.writeQueueNums;
    row.perm = queue.perm;
    row.topicSysFlag = queue.topicSysFlag;
  }
  return [...rows.values()].sort((a, b) => a.brokerName.localeCompare(b.brokerName));
}

/**
 * @param {RouteData | null | undefined} before
 * @param {RouteData | null | undefined} after
 * @returns {RouteRowChange[]} rows of `after` plus removed rows of `before`, by broker name
 */
export function diffRoutes(before, after) {
  const oldRows = new Map(routeRows(before).map((row) => [row.brokerName, row]));
  /** @type {RouteRowChange[]} */
  const changes = [];
  for (const row of routeRows(after)) {
    const old = oldRows.get(row.brokerName);
    oldRows.delete(row.brokerName);
    if (!old) {
      changes.push({ status: 'added', row, before: undefined, fields: new Set() });
      continue;
    }
    const fields = new Set(ROUTE_FIELDS.filter((field) => old[field] !== row[field]));
    changes.push({ status: fields.size > 0 ? 'changed' : 'same', row, before: old, fields });
  }
  for (const old of oldRows.values()) changes.push({ status: 'removed', row: old, before: old, fields: new Set() });
  return changes.sort((a, b) => a.row.brokerName.localeCompare(b.row.brokerName));
}

// @ts-check
/**
 * When name servers disagree. Every broker registers with every name server
 * on its own, so a broker live on one and missing on another (a partition, a
 * name server that restarted, a broker that cannot reach it) or a different
 * DataVersion (one of them missed a registration) is what an operator hunts.
 * Only name servers the console is connected to take part: what an
 * unreachable one holds is unknown, and it is flagged by itself instead.
 */

/** @typedef {import('../gateway/protocol.js').DataVersion} DataVersion */

/**
 * @typedef {object} BrokerOnNameServer
 * @property {string} nameServer
 * @property {boolean} connected
 * @property {string} state `registered`, `expired`, `unregistered`, `disconnected` or `absent`
 * @property {DataVersion | undefined} [dataVersion]
 */

/**
 * @param {BrokerOnNameServer[]} cells one per name server
 * @returns {string[]} the disagreements in words; empty when they agree
 */
export function brokerDivergence(cells) {
  const known = cells.filter((cell) => cell.connected);
  const live = known.filter((cell) => cell.state === 'registered');
  if (live.length === 0) return [];
  /** @type {string[]} */
  const reasons = [];
  const notLive = known.filter((cell) => cell.state !== 'registered');
  if (notLive.length > 0) {
    reasons.push(
      `live on ${live.map((c) => c.nameServer).join(', ')}; ${notLive.map((c) => `${c.state} on ${c.nameServer}`).join(', ')}`,
    );
  }
  const versions = new Map();
  for (const cell of live) {
    if (!cell.dataVersion) continue;
    const version = `${cell.dataVersion.counter}@${cell.dataVersion.timestamp}`;
    versions.set(version, [...(versions.get(version) ?? []), cell.nameServer]);
  }
  if (versions.size > 1) {
    reasons.push(
      `DataVersion differs: ${[...versions].map(([version, where]) => `${version} on ${where.join(', ')}`).join('; ')}`,
    );
  }
  return reasons;
}

/**
 * @typedef {object} NameServerHealth
 * @property {string} nameServer
 * @property {boolean} connected
 * @property {boolean | undefined} ready undefined before its first hello
 * @property {string | undefined} detail lifecycle state
 */

/**
 * @param {NameServerHealth} health
 * @returns {string | null} why this name server is flagged, or null
 */
export function nameServerProblem(health) {
  if (!health.connected) return 'not connected';
  if (health.ready === false) return `not ready (${health.detail ?? 'unknown state'})`;
  return null;
}

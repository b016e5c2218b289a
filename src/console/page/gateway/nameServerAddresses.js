// @ts-check
/**
 * Which name servers the console shows: the serving one first (`self`), then
 * `consoleNameServers` from /console/config.json, then the page URL's
 * `?ns=`, then whatever the operator types into the edit box.
 */

/**
 * @param {string} text `host:port` entries separated by `,`, `;` or whitespace
 * @returns {string[]} trimmed, without duplicates, in order
 */
export function parseAddressList(text) {
  const seen = new Set();
  /** @type {string[]} */
  const out = [];
  for (const part of text.split(/[,;\s]+/)) {
    const address = normalizeAddress(part);
    if (address && !seen.has(address)) {
      seen.add(address);
      out.push(address);
    }
  }
  return out;
}

/**
 * A `host:port` entry, forgiving a pasted URL (`http://ns2:9877/`).
 * @param {string} text
 * @returns {string}
 */
export function normalizeAddress(text) {
  let address = text.trim();
  address = address.replace(/^[a-z]+:\/\//i, '');
  address = address.replace(/\/.*$/, '');
  return address.toLowerCase();
}

/**
 * @param {string} self this page's name server
 * @param {...string[]} lists the others, in order of precedence
 * @returns {string[]} self first, no duplicates
 */
export function mergeAddresses(self, ...lists) {
  const ownAddress = normalizeAddress(self);
  const out = [ownAddress];
  for (const list of lists) {
    for (const entry of list) {
      const address = normalizeAddress(entry);
      if (address && !out.includes(address)) out.push(address);
    }
  }
  return out;
}

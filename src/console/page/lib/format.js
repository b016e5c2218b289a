// @ts-check
/** Durations and times in the words an operator reads at a glance. */

/**
 * @param {number} ms
 * @returns {string} e.g. `42 s`, `3 m 05 s`, `2 h 07 m`
 */
export function formatDuration(ms) {
  const totalSeconds = Math.max(0, Math.floor(ms / 1000));
  if (totalSeconds < 60) return `${totalSeconds} s`;
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  if (minutes < 60) return `${minutes} m ${String(seconds).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} m`;
}

/**
 * Wall-clock time of a server timestamp, local time zone, with milliseconds:
 * transitions of one burst differ only there.
 * @param {number} at
 */
export function formatClock(at) {
  const date = new Date(at);
  const pad = (/** @type {number} */ n, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/**
 * @param {{ counter: number, timestamp: number, stateVersion?: number } | null | undefined} version
 */
export function formatDataVersion(version) {
  if (!version) return '';
  const state = version.stateVersion ? `/${version.stateVersion}` : '';
  return `${version.counter}@${version.timestamp}${state}`;
}

/** RocketMQ PermName bits. */
const PERM_READ = 4;
const PERM_WRITE = 2;
const PERM_INHERIT = 1;

/**
 * @param {number} perm
 * @returns {string} e.g. `6 (RW)`
 */
export function formatPerm(perm) {
  const letters = `${perm & PERM_READ ? 'R' : '-'}${perm & PERM_WRITE ? 'W' : '-'}${perm & PERM_INHERIT ? 'X' : ''}`;
  return `${perm} (${letters})`;
}

/**
 * The text of something thrown or rejected: an Error's message, else the value
 * itself (the page's copy of src/util/errorMessage.ts, which it cannot import).
 * @param {unknown} error
 */
export function errorMessage(error) {
  return error instanceof Error ? error.message : String(error);
}

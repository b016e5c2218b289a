/**
 * Orders strings by UTF-16 code unit, as Java's String.compareTo and a TreeMap
 * of names do, and independent of the machine's locale (localeCompare is not):
 * listings read the same on every host and next to RocketMQ's own.
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

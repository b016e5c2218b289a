/**
 * Sets `key` on a record built from outside names as an own, enumerable data
 * property. Plain assignment of "__proto__" would replace the record's
 * prototype instead (JSON.parse keeps it as data, so must we): a topic, broker,
 * cluster or header name is data, whatever it is called.
 */
export function setOwnKey<V>(target: Record<string, V>, key: string, value: V): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

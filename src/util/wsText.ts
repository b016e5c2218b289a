import type { RawData } from 'ws';

/** A WebSocket message's text: ws hands over one buffer, a fragment list or an ArrayBuffer. */
export function wsMessageText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** Request frames for the read load, and the cheapest possible frame splitting. */
import { encodeCommand } from '../../src/protocol/frameCodec.js';
import { createRequest } from '../../src/remoting/command.js';
import { MQVersion, RequestCode } from '../../src/remoting/requestCode.js';

/** GET_ROUTEINFO_BY_TOPIC as a 4.9.8 Java client sends it (JSON header). */
export function routeRequestFrame(topic: string, opaque: number): Buffer {
  return encodeCommand(
    createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }, null, { opaque, version: MQVersion.V4_9_8 }),
  );
}

/**
 * Counts whole frames at the front of `buf` from `offset`; returns how many
 * and where the first incomplete one starts. Reads only length words.
 */
export function splitFrames(buf: Buffer, offset: number, onFrame: (start: number, length: number) => void): number {
  let pos = offset;
  while (buf.length - pos >= 4) {
    const total = buf.readInt32BE(pos);
    if (buf.length - pos - 4 < total) break;
    onFrame(pos, total + 4);
    pos += 4 + total;
  }
  return pos;
}

/** The response code of a JSON-header frame starting at `start`: `{"code":N,...` */
export function jsonResponseCode(buf: Buffer, start: number): number {
  // 4 length + 4 type/len + `{"code":` (8 chars)
  let i = start + 16;
  let n = 0;
  let neg = false;
  if (buf[i] === 45) {
    neg = true;
    i++;
  }
  for (;;) {
    const c = buf[i++]!;
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  return neg ? -n : n;
}

import { encodeCommand } from '../../src/protocol/frameCodec.js';
import { createRequest, SerializeType } from '../../src/remoting/command.js';

// Remoting frames built by hand, for what a well-behaved client never sends.

/** A frame with the given prefix words and whatever follows them (lengths need not be true). */
export function rawFrame(totalLength: number, typeAndHeaderLength: number, rest: Buffer = Buffer.alloc(0)): Buffer {
  const prefix = Buffer.alloc(8);
  prefix.writeInt32BE(totalLength | 0, 0);
  prefix.writeUInt32BE(typeAndHeaderLength >>> 0, 4);
  return Buffer.concat([prefix, rest]);
}

/** A JSON-header frame whose header is this exact text (valid JSON or not). */
export function jsonHeaderFrame(header: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const bytes = Buffer.from(header, 'utf8');
  return rawFrame(
    4 + bytes.length + body.length,
    (SerializeType.JSON << 24) | bytes.length,
    Buffer.concat([bytes, body]),
  );
}

/** A request frame as a client would send it. */
export function requestFrame(
  code: number,
  extFields: Record<string, string> | null,
  body: Buffer | null,
  opaque: number,
  serializeType = SerializeType.JSON,
): Buffer {
  return encodeCommand(createRequest(code, extFields, body, { opaque, serializeType }));
}
